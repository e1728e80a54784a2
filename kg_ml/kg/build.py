"""build_kg@<kg>: a prepared graph → pruned forward edges, node texts and the matcher vocabulary."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kg_ml.errors import ConfigError, InputError
from kg_ml.grounding.config import KgBuildConfig
from kg_ml.grounding.nlp import make_nlp
from kg_ml.grounding.vocab import concept_key, vocab_table
from kg_ml.io import atomic_dir, write_parquet
from kg_ml.kg.graph import EDGES_SCHEMA, NODES_SCHEMA, RELATIONS_SCHEMA, read_table
from kg_ml.sources.conceptnet import RELATIONS as CONCEPTNET_RELATIONS

log = logging.getLogger(__name__)

_PREPARED_NODES = {"conceptnet": pa.schema([("id", pa.int32()), ("name", pa.string())]),
                   "medical_kg": pa.schema([("id", pa.int32()), ("name", pa.string()),
                                            ("aliases", pa.list_(pa.string()))])}


def _relations(prepared: Path, source: str) -> tuple[list[str], np.ndarray]:
    """The output relation names and a map prepared relation id -> output id (-1: unknown name).

    ConceptNet's relation ids are DRAGON's fixed list, whatever the prepared table says; a name
    outside it (a table from another tool or version) loses its edges instead of shifting ids.
    """
    table = read_table(prepared / "relations.parquet", RELATIONS_SCHEMA)
    ids, names = table.column("id").to_pylist(), table.column("name").to_pylist()
    if sorted(ids) != list(range(len(ids))) or len(set(names)) != len(names):
        raise InputError(prepared / "relations.parquet", "ids must be 0..R-1 and names unique", field="id")
    out_names = list(CONCEPTNET_RELATIONS) if source == "conceptnet" else [n for _, n in sorted(zip(ids, names))]
    position = {n: i for i, n in enumerate(out_names)}
    mapping = np.full(len(ids), -1, np.int32)
    for i, name in zip(ids, names):
        mapping[i] = position.get(name, -1)
    if unknown := sorted(n for n in names if n not in position):
        log.warning("build_kg: dropping the edges of unknown relation(s) %s", unknown)
    return out_names, mapping


def _nodes(prepared: Path, source: str) -> tuple[pa.Table, list[tuple[str, int]]]:
    """nodes.parquet (id, name, text) and the (key, node) vocabulary entries."""
    path = prepared / "nodes.parquet"
    table = read_table(path, _PREPARED_NODES[source])
    ids = table.column("id").to_numpy()
    if (bad := np.flatnonzero(ids != np.arange(len(ids)))).size:
        raise InputError(path, f"row {bad[0]}: id {ids[bad[0]]} is not the row position", field="id")
    names = table.column("name").to_pylist()
    if (row := next((i for i, n in enumerate(names) if not n or not n.strip()), None)) is not None:
        raise InputError(path, f"row {row}: empty name", field="name")
    if source == "conceptnet":
        texts = [n.replace("_", " ") for n in names]
        entries = [(n, i) for i, n in enumerate(names)]
    else:
        texts = names
        aliases = table.column("aliases").to_pylist()
        entries = [(k, i) for i, (n, al) in enumerate(zip(names, aliases))
                   for k in {concept_key(s) for s in [n, *(al or [])]} if k]
    nodes = pa.table({"id": ids.astype(np.int32), "name": names, "text": texts}, schema=NODES_SCHEMA)
    return nodes, entries


def _edges(prepared: Path, mapping: np.ndarray, drop_relations: set[int], blacklisted: np.ndarray,
           num_nodes: int) -> tuple[pa.Table, dict[str, int]]:
    """Forward edges after pruning, deduplicated (max weight), sorted by (head, relation, tail)."""
    path = prepared / "edges.parquet"
    t = read_table(path, EDGES_SCHEMA)
    head, tail = t.column("head").to_numpy(), t.column("tail").to_numpy()
    rel, weight = t.column("relation").to_numpy().astype(np.int64), t.column("weight").to_numpy()
    for field, values, bound in (("head", head, num_nodes), ("tail", tail, num_nodes),
                                 ("relation", rel, len(mapping))):
        if (bad := np.flatnonzero((values < 0) | (values >= bound))).size:
            raise InputError(path, f"row {bad[0]}: {values[bad[0]]} out of range 0..{bound - 1}", field=field)
    rel = mapping[rel]
    stats = {}
    keep = np.ones(len(head), bool)
    for name, drop in (("dropped_unknown_relation", rel < 0),
                       ("dropped_relation", np.isin(rel, sorted(drop_relations))),
                       ("dropped_blacklist", blacklisted[head] | blacklisted[tail]),
                       ("dropped_self_loop", head == tail)):
        stats[name] = int((drop & keep).sum())
        keep &= ~drop
    head, rel, tail, weight = head[keep], rel[keep], tail[keep], weight[keep]
    order = np.lexsort((-weight, tail, rel, head))  # heaviest duplicate first
    head, rel, tail, weight = head[order], rel[order], tail[order], weight[order]
    first = np.ones(len(head), bool)
    first[1:] = (head[1:] != head[:-1]) | (rel[1:] != rel[:-1]) | (tail[1:] != tail[:-1])
    stats["dropped_duplicate"] = int((~first).sum())
    edges = pa.table({"head": head[first], "relation": rel[first].astype(np.int16), "tail": tail[first],
                      "weight": weight[first]}, schema=EDGES_SCHEMA)
    return edges, stats


def build_kg(cfg: KgBuildConfig, prepared: Path, out_dir: Path) -> dict:
    """Write nodes, edges, relations and vocab Parquet for one graph into ``out_dir`` atomically."""
    prepared = Path(prepared)
    relation_names, mapping = _relations(prepared, cfg.source)
    if unknown := sorted(set(cfg.drop_relations) - set(relation_names)):
        raise ConfigError(f"drop_relations: unknown relation(s) {unknown}; known: {relation_names}")
    nodes, entries = _nodes(prepared, cfg.source)
    name_col = nodes.column("name")
    blacklisted = pc.is_in(name_col, value_set=pa.array(sorted(set(cfg.blacklist)), pa.string())).to_numpy(
        zero_copy_only=False)
    drop = {relation_names.index(r) for r in cfg.drop_relations}
    edges, stats = _edges(prepared, mapping, drop, blacklisted, nodes.num_rows)
    vocab = vocab_table(entries, make_nlp(), max_tokens=cfg.max_pattern_tokens)
    relations = pa.table({"id": pa.array(range(len(relation_names)), pa.int16()), "name": relation_names},
                         schema=RELATIONS_SCHEMA)
    with atomic_dir(out_dir) as tmp:
        for name, table in (("nodes", nodes), ("edges", edges), ("relations", relations), ("vocab", vocab)):
            write_parquet(table, tmp / f"{name}.parquet")
    keys = vocab.column("key").to_pylist()
    has_pattern = pc.greater(pc.list_value_length(vocab.column("lemmas")), 0).to_pylist()
    metrics = {"nodes": nodes.num_rows, "edges": edges.num_rows, "relations": len(relation_names),
               "vocab_keys": len(set(keys)), "patterns": len({k for k, p in zip(keys, has_pattern) if p}),
               **stats}
    log.info("build_kg: %s", metrics)
    return metrics
