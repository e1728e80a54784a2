"""build_kg: DRAGON's graph pruning, stable ids, the vocabulary table, the loader and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kg_ml.errors import ConfigError, InputError
from kg_ml.grounding.config import KgBuildConfig
from kg_ml.io import write_parquet
from kg_ml.kg import KnowledgeGraph
from kg_ml.kg.build import build_kg
from kg_ml.sources import conceptnet, medical_kg

CN_CFG = KgBuildConfig(source="conceptnet", blacklist=["person", "make"], drop_relations=["hascontext"])
NAMES = ["apple", "eat", "fruit", "ice_cream", "it", "make", "my_dog", "person", "x-ray"]
R = {name: i for i, name in enumerate(conceptnet.RELATIONS)}
EDGES = [  # head, relation, tail, weight
    (0, R["isa"], 2, 1.0),
    (0, R["isa"], 2, 3.0),  # duplicate: max weight kept
    (3, R["hascontext"], 1, 1.0),  # dropped relation
    (7, R["capableof"], 1, 1.0),  # blacklisted head
    (0, R["relatedto"], 0, 1.0),  # self-loop
    (8, R["usedfor"], 1, 0.5),
    (3, R["relatedto"], 0, 2.0),
    (0, R["relatedto"], 3, 1.0),  # the reverse direction of the edge above: kept (forward only)
]


def _write_conceptnet(d: Path, names=NAMES, edges=EDGES, relations=conceptnet.RELATIONS) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    write_parquet(pa.table({"id": pa.array(range(len(names)), pa.int32()), "name": names},
                           schema=conceptnet.NODES_SCHEMA), d / "nodes.parquet")
    h, r, t, w = zip(*edges)
    write_parquet(pa.table({"head": pa.array(h, pa.int32()), "relation": pa.array(r, pa.int8()),
                            "tail": pa.array(t, pa.int32()), "weight": pa.array(w, pa.float32())},
                           schema=conceptnet.EDGES_SCHEMA), d / "edges.parquet")
    write_parquet(pa.table({"id": pa.array(range(len(relations)), pa.int8()), "name": list(relations)},
                           schema=conceptnet.RELATIONS_SCHEMA), d / "relations.parquet")
    return d


def test_conceptnet_pruning_keeps_ids_and_sorts_edges(tmp_path) -> None:
    metrics = build_kg(CN_CFG, _write_conceptnet(tmp_path / "prep"), tmp_path / "kg")
    nodes = pq.read_table(tmp_path / "kg" / "nodes.parquet").to_pylist()
    assert [n["name"] for n in nodes] == NAMES and [n["id"] for n in nodes] == list(range(len(NAMES)))
    assert nodes[3]["text"] == "ice cream"
    edges = pq.read_table(tmp_path / "kg" / "edges.parquet").to_pylist()
    assert [(e["head"], e["relation"], e["tail"], e["weight"]) for e in edges] == [
        (0, R["isa"], 2, 3.0), (0, R["relatedto"], 3, 1.0), (3, R["relatedto"], 0, 2.0), (8, R["usedfor"], 1, 0.5)]
    rels = pq.read_table(tmp_path / "kg" / "relations.parquet")
    assert rels.column("name").to_pylist() == list(conceptnet.RELATIONS)  # hascontext keeps its id
    assert metrics == {"nodes": 9, "edges": 4, "relations": 17, "vocab_keys": 9, "patterns": 6,
                       "dropped_unknown_relation": 0, "dropped_relation": 1, "dropped_blacklist": 1,
                       "dropped_self_loop": 1, "dropped_duplicate": 1}


def test_vocab_table_patterns(tmp_path) -> None:
    build_kg(CN_CFG, _write_conceptnet(tmp_path / "prep"), tmp_path / "kg")
    vocab = {r["key"]: r["lemmas"] for r in pq.read_table(tmp_path / "kg" / "vocab.parquet").to_pylist()}
    assert vocab["ice_cream"] == ["ice", "cream"] and vocab["x-ray"] == ["x", "-", "ray"]
    assert vocab["it"] == [] and vocab["my_dog"] == [] and vocab["make"] == []  # pronoun / blacklist
    assert vocab["person"] == ["person"]  # the graph blacklist prunes edges, not patterns


def test_unknown_relation_names_lose_their_edges(tmp_path) -> None:
    relations = [*conceptnet.RELATIONS[:16], "frobnicates"]  # id 16 renamed
    edges = [(0, 16, 2, 1.0), (0, R["isa"], 2, 1.0)]
    metrics = build_kg(CN_CFG, _write_conceptnet(tmp_path / "prep", edges=edges, relations=relations),
                       tmp_path / "kg")
    assert metrics["dropped_unknown_relation"] == 1 and metrics["edges"] == 1
    # a prepared table in another order is remapped by name onto DRAGON's fixed ids
    shuffled = list(reversed(conceptnet.RELATIONS))
    build_kg(CN_CFG, _write_conceptnet(tmp_path / "prep2", edges=[(0, shuffled.index("isa"), 2, 1.0)],
                                       relations=shuffled), tmp_path / "kg2")
    assert KnowledgeGraph.load(tmp_path / "kg2").relation.tolist() == [R["isa"]]


def test_drop_relations_must_exist(tmp_path) -> None:
    cfg = KgBuildConfig(source="conceptnet", drop_relations=["hascontxt"])
    with pytest.raises(ConfigError, match="hascontxt"):
        build_kg(cfg, _write_conceptnet(tmp_path / "prep"), tmp_path / "kg")


@pytest.mark.parametrize(("edges", "field"), [([(0, 1, 99, 1.0)], "tail"), ([(-1, 1, 2, 1.0)], "head")])
def test_edge_out_of_range_names_file_row_field(tmp_path, edges, field) -> None:
    with pytest.raises(InputError) as e:
        build_kg(CN_CFG, _write_conceptnet(tmp_path / "prep", edges=edges), tmp_path / "kg")
    assert "edges.parquet: field" in str(e.value) and f"'{field}'" in str(e.value) and "row 0" in str(e.value)
    assert not (tmp_path / "kg").exists()


def test_node_ids_must_be_row_positions(tmp_path) -> None:
    d = _write_conceptnet(tmp_path / "prep")
    write_parquet(pa.table({"id": pa.array([1, 0], pa.int32()), "name": ["a", "b"]},
                           schema=conceptnet.NODES_SCHEMA), d / "nodes.parquet")
    with pytest.raises(InputError, match=r"nodes.parquet: field 'id': row 0"):
        build_kg(CN_CFG, d, tmp_path / "kg")


def test_medical_aliases_become_keys(tmp_path) -> None:
    d = tmp_path / "prep"
    d.mkdir()
    write_parquet(pa.table({"id": pa.array([0, 1, 2], pa.int32()), "cui": ["C1", "C2", "C3"],
                            "name": ["Myocardial infarction", "Aspirin", "Mitral insufficiency"],
                            "aliases": [["Myocardial infarction", "heart  attack", "MI"], ["aspirin"], ["MI"]]},
                           schema=medical_kg.NODES_SCHEMA), d / "nodes.parquet")
    write_parquet(pa.table({"id": pa.array([0], pa.int16()), "name": ["may_treat"]},
                           schema=medical_kg.RELATIONS_SCHEMA), d / "relations.parquet")
    write_parquet(pa.table({"head": pa.array([1, 1], pa.int32()), "relation": pa.array([0, 0], pa.int16()),
                            "tail": pa.array([0, 1], pa.int32()), "weight": pa.array([1.0, 1.0], pa.float32())},
                           schema=medical_kg.edges_schema(["may_treat"])), d / "edges.parquet")
    metrics = build_kg(KgBuildConfig(source="medical_kg"), d, tmp_path / "kg")
    vocab = pq.read_table(tmp_path / "kg" / "vocab.parquet").to_pylist()
    assert [(r["key"], r["node"]) for r in vocab] == [
        ("aspirin", 1), ("heart_attack", 0), ("mi", 0), ("mi", 2), ("mitral_insufficiency", 2),
        ("myocardial_infarction", 0)]
    assert metrics["dropped_self_loop"] == 1 and metrics["edges"] == 1
    kg = KnowledgeGraph.load(tmp_path / "kg")
    assert kg.texts == ["Myocardial infarction", "Aspirin", "Mitral insufficiency"]
    assert kg.relation_names == ["may_treat"]


def test_loader_adjacency(tmp_path) -> None:
    build_kg(CN_CFG, _write_conceptnet(tmp_path / "prep"), tmp_path / "kg")
    kg = KnowledgeGraph.load(tmp_path / "kg")
    assert (kg.num_nodes, kg.num_relations, kg.num_edges) == (9, 17, 4)
    a = kg.undirected_csr()
    assert a.shape == (9, 9) and (a != a.T).nnz == 0 and a.diagonal().sum() == 0
    assert a[0].indices.tolist() == [2, 3] and a.data.tolist() == [1] * a.nnz  # 0-3 twice -> once
    t = kg.typed_csr()
    out0 = list(zip(t.indices[t.indptr[0]:t.indptr[1]].tolist(), t.relations[t.indptr[0]:t.indptr[1]].tolist()))
    assert out0 == [(2, R["isa"]), (3, R["relatedto"]), (3, R["relatedto"] + 17)]
    assert t.indptr[-1] == 2 * kg.num_edges


def test_build_is_byte_identical(tmp_path) -> None:
    prep = _write_conceptnet(tmp_path / "prep")
    build_kg(CN_CFG, prep, tmp_path / "a")
    build_kg(CN_CFG, prep, tmp_path / "b")
    for name in ("nodes", "edges", "relations", "vocab"):
        assert (tmp_path / "a" / f"{name}.parquet").read_bytes() == (tmp_path / "b" / f"{name}.parquet").read_bytes()


def test_build_kg_stage_cli(tmp_path, run_stage) -> None:
    assert run_stage("build_kg", "--help").returncode == 0
    res = run_stage("build_kg", "--kg", "nosuch")
    assert res.returncode == 1 and res.stderr.strip().startswith("error: unknown graph 'nosuch'")
    prep = _write_conceptnet(tmp_path / "prep")
    res = run_stage("build_kg", "--kg", "conceptnet", "--input", str(prep), "--output", str(tmp_path / "kg"),
                    "--metrics", str(tmp_path / "m.json"))
    assert res.returncode == 0, res.stderr
    assert json.loads((tmp_path / "m.json").read_text())["edges"] == 4
    assert np.array_equal(KnowledgeGraph.load(tmp_path / "kg").head, [0, 0, 3, 8])
