"""DRAGON's preprocessed UMLS graph (umls.csv, concepts.txt, relations.txt) plus concept names
(concept_names.txt from MRCONSO) -> nodes and edges Parquet."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pyarrow as pa

from kg_ml.io import write_parquet
from kg_ml.sources.common import BadRows, Loc, TableWriter, decode, find_input, iter_lines, tab_fields

log = logging.getLogger(__name__)

NODES_SCHEMA = pa.schema([("id", pa.int32()), ("cui", pa.string()), ("name", pa.string()),
                          ("aliases", pa.list_(pa.string()))])
RELATIONS_SCHEMA = pa.schema([("id", pa.int16()), ("name", pa.string())])


def edges_schema(relations: list[str]) -> pa.Schema:
    return pa.schema(
        [("head", pa.int32()), ("relation", pa.int16()), ("tail", pa.int32()), ("weight", pa.float32())],
        metadata={"relations": json.dumps(relations)},
    )


def _id_list(path: Path, what: str) -> dict[str, int]:
    """One identifier per line -> its 0-based line position.

    Always strict: DRAGON's graph files address concepts and relations by line position, so
    skipping a bad line would silently shift every later id.
    """
    ids: dict[str, int] = {}
    for lineno, raw in iter_lines(path):
        loc = Loc(str(path), lineno)
        value = decode(raw, loc).strip()
        if not value or any(c.isspace() for c in value):
            raise loc.error(f"expected one {what} per line, got {value!r}", what)
        if value in ids:
            raise loc.error(f"duplicate {what} {value!r}", what)
        ids[value] = len(ids)
    return ids


def _names(path: Path, concepts: dict[str, int], bad: BadRows) -> tuple[dict[int, list[str]], int]:
    """CUI position -> names in file order (first = canonical); also the count of unknown CUIs."""
    names: dict[int, list[str]] = {}
    unknown = 0

    def parse(item: tuple[int, bytes]) -> tuple[str, str]:
        loc = Loc(str(path), item[0])
        cui, name = tab_fields(item[1], loc, 2, names=("cui", "name"))
        if not name.strip():
            raise loc.error("empty name", "name")
        return cui, name

    for cui, name in bad.parse(iter_lines(path, desc="concept names"), parse):
        if cui in concepts:
            names.setdefault(concepts[cui], []).append(name)
        else:
            unknown += 1  # a names file built from all of MRCONSO covers more CUIs than the graph
    if unknown:
        log.warning("medical_kg: %d name lines for CUIs not in concepts.txt were ignored", unknown)
    return names, unknown


class _Edges:
    """Validates umls.csv lines against the concept and relation lists."""

    def __init__(self, path: Path, concepts: dict[str, int], relations: dict[str, int]) -> None:
        self.path = str(path)
        self.concepts = concepts
        self.relations = relations

    def row(self, item: tuple[int, bytes]) -> tuple[int, int, int, float]:
        loc = Loc(self.path, item[0])
        rel, head, tail, weight = tab_fields(item[1], loc, 4, names=("relation", "head", "tail", "weight"))
        if rel not in self.relations:
            raise loc.error(f"unknown relation {rel!r} (not in relations.txt)", "relation")
        ids = []
        for field, cui in (("head", head), ("tail", tail)):
            if cui not in self.concepts:
                raise loc.error(f"unknown CUI {cui!r} (not in concepts.txt)", field)
            ids.append(self.concepts[cui])
        try:
            w = float(weight)
        except ValueError:
            raise loc.error(f"expected a number, got {weight!r}", "weight") from None
        return ids[0], self.relations[rel], ids[1], w


def prepare(raw_dir: Path, out_dir: Path, bad: BadRows) -> dict:
    """Write nodes.parquet, edges.parquet (file order) and relations.parquet."""
    concepts = _id_list(find_input(raw_dir, "concepts.txt"), "cui")
    relations = _id_list(find_input(raw_dir, "relations.txt"), "relation")
    names, unknown = _names(find_input(raw_dir, "concept_names.txt"), concepts, bad)
    nodes = pa.table({
        "id": pa.array(range(len(concepts)), pa.int32()),
        "cui": list(concepts),
        "name": [names.get(i, [cui])[0] for cui, i in concepts.items()],
        "aliases": [names.get(i, []) for i in range(len(concepts))],
    }, schema=NODES_SCHEMA)
    write_parquet(nodes, out_dir / "nodes.parquet")
    write_parquet(pa.table({"id": pa.array(range(len(relations)), pa.int16()), "name": list(relations)},
                           schema=RELATIONS_SCHEMA), out_dir / "relations.parquet")
    edges_path = find_input(raw_dir, "umls.csv")
    parser = _Edges(edges_path, concepts, relations)
    with TableWriter(out_dir / "edges.parquet", edges_schema(list(relations))) as out:
        for row in bad.parse(iter_lines(edges_path, desc="umls edges"), parser.row):
            out.add(row)
    return {"nodes": len(concepts), "relations": len(relations), "edges": out.count,
            "nodes_without_name": len(concepts) - len(names), "names_unknown_cui": unknown}
