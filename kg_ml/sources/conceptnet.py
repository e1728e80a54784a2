"""ConceptNet assertions CSV -> English nodes and edges with DRAGON/QA-GNN's 17 merged relations.

Extraction follows DRAGON's ``extract_english``: both ends ``/c/en/``; relation = lowercased last
segment of ``/r/Xxx``, mapped onto the 17 merged relations (``*`` members swap head and tail),
others dropped; concept = lowercased term, dropped unless alphabetic once ``_``/``-`` are removed.
Then self-loops are dropped and duplicate (head, relation, tail) edges merged keeping the max
weight (DRAGON keeps the first seen; max does not depend on file order).

Concept term: ``/c/en/bank/n/wn/finance`` is the concept *bank*. DRAGON strips a trailing POS tag
and takes the last path segment, which yields *finance* for sense-tagged URIs;
``sense_quirk=True`` reproduces that.
"""

from __future__ import annotations

import json
import logging
from array import array
from pathlib import Path

import numpy as np
import pyarrow as pa

from kg_ml.errors import InputError
from kg_ml.sources.common import BadRows, Loc, find_input, iter_blocks, parse_json, split_block, type_name
from kg_ml.io import write_parquet

log = logging.getLogger(__name__)

RELATION_GROUPS = (
    "atlocation/locatednear",
    "capableof",
    "causes/causesdesire/*motivatedbygoal",
    "createdby",
    "desires",
    "antonym/distinctfrom",
    "hascontext",
    "hasproperty",
    "hassubevent/hasfirstsubevent/haslastsubevent/hasprerequisite/entails/mannerof",
    "isa/instanceof/definedas",
    "madeof",
    "notcapableof",
    "notdesires",
    "partof/*hasa",
    "relatedto/similarto/synonym",
    "usedfor",
    "receivesaction",
)
RELATIONS = tuple(group.split("/")[0] for group in RELATION_GROUPS)  # id = position (DRAGON's order)
FILE = "conceptnet-assertions-5.7.0.csv"
FALLBACK_FILES = ("conceptnet-assertions-5.6.0.csv", "assertions.csv")
EN = b"/c/en/"
_EN_FIELD = b"\t" + EN  # cheap pre-filter: most of the 34M lines have no English end at all
_POS_TAGS = ("/n", "/a", "/v", "/r")

NODES_SCHEMA = pa.schema([("id", pa.int32()), ("name", pa.string())])
EDGES_SCHEMA = pa.schema(
    [("head", pa.int32()), ("relation", pa.int8()), ("tail", pa.int32()), ("weight", pa.float32())],
    metadata={"relations": json.dumps(RELATIONS)},
)
RELATIONS_SCHEMA = pa.schema([("id", pa.int8()), ("name", pa.string())])


def relation_mapping() -> dict[str, tuple[int, bool]]:
    """Lowercased ConceptNet relation -> (merged relation id, swap head and tail)."""
    mapping: dict[str, tuple[int, bool]] = {}
    for rel_id, group in enumerate(RELATION_GROUPS):
        for member in group.split("/"):
            mapping[member.lstrip("*")] = (rel_id, member.startswith("*"))
    return mapping


def concept_name(uri: str, *, sense_quirk: bool = False) -> str | None:
    """The concept of ``/c/en/<term>[/<pos>[/<sense>...]]``, or None if it is not alphabetic."""
    if sense_quirk:  # DRAGON: drop a trailing POS tag, then take the last path segment
        if uri.endswith(_POS_TAGS):
            uri = uri[:-2]
        name = uri.rsplit("/", 1)[-1].lower()
    else:
        name = uri[len(EN):].split("/", 1)[0].lower()
    return name if name.replace("_", "").replace("-", "").isalpha() else None


def _input(raw_dir: Path) -> Path:
    """The 5.7.0 assertions file, else 5.6.0 (DRAGON's) or a ConceptNet build's assertions.csv."""
    for name in (FILE, *FALLBACK_FILES):
        if found := find_input(raw_dir, name, required=False):
            return found
    return find_input(raw_dir, FILE)  # raises: missing


class _Extractor:
    """Streams assertion lines into compact edge arrays keyed by provisional concept ids."""

    def __init__(self, path: Path, bad: BadRows, sense_quirk: bool) -> None:
        self.path = str(path)
        self.bad = bad
        self.sense_quirk = sense_quirk
        self.mapping = relation_mapping()
        self.rel_cache: dict[bytes, tuple[int, bool] | None] = {}
        self.ids: dict[str, int] = {}  # concept -> provisional id (first seen)
        self.heads, self.tails = array("i"), array("i")
        self.rels, self.weights = array("b"), array("d")
        self.stats = dict.fromkeys(("rows", "english_rows", "dropped_relation", "dropped_term",
                                    "dropped_self_loop"), 0)

    def run(self) -> None:
        for first, block in iter_blocks(Path(self.path), desc="conceptnet"):
            lines = split_block(block)
            self.stats["rows"] += len(lines)
            for offset, line in enumerate(lines):
                if _EN_FIELD in line:
                    try:
                        self._line(line, first + offset)
                    except InputError as err:
                        self.bad(err)

    def _line(self, line: bytes, lineno: int) -> None:
        parts = line.split(b"\t")
        if len(parts) != 5:
            raise Loc(self.path, lineno).error(f"expected 5 tab-separated fields, got {len(parts)}")
        _, rel, head, tail, meta = parts
        if not (head.startswith(EN) and tail.startswith(EN)):
            return
        self.stats["english_rows"] += 1
        if rel not in self.rel_cache:
            self.rel_cache[rel] = self.mapping.get(rel.rsplit(b"/", 1)[-1].decode("utf-8", "replace").lower())
        merged = self.rel_cache[rel]
        if merged is None:
            self.stats["dropped_relation"] += 1
            return
        loc = Loc(self.path, lineno)
        h = concept_name(_utf8(head, loc, "head"), sense_quirk=self.sense_quirk)
        t = concept_name(_utf8(tail, loc, "tail"), sense_quirk=self.sense_quirk)
        if h is None or t is None:
            self.stats["dropped_term"] += 1
            return
        rel_id, swap = merged
        if swap:
            h, t = t, h
        weight = _weight(meta, loc)
        # Concepts of self-loops stay in the vocabulary, as in DRAGON's cpnet_vocab.
        hid = self.ids.setdefault(h, len(self.ids))
        tid = self.ids.setdefault(t, len(self.ids))
        if hid == tid:
            self.stats["dropped_self_loop"] += 1
            return
        self.heads.append(hid)
        self.tails.append(tid)
        self.rels.append(rel_id)
        self.weights.append(weight)


def _utf8(raw: bytes, loc: Loc, field: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise loc.error(f"invalid UTF-8 at byte {e.start}", field) from None


def _weight(meta: bytes, loc: Loc) -> float:
    obj = parse_json(meta, loc, "metadata")
    if not isinstance(obj, dict):
        raise loc.error(f"expected a JSON object, got {type_name(obj)}", "metadata")
    weight = obj.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, (int, float)):
        raise loc.error(f"expected a number, got {type_name(weight)}", "metadata.weight")
    return float(weight)


def _tables(ex: _Extractor) -> tuple[pa.Table, pa.Table, int]:
    """Nodes in sorted name order and deduplicated edges sorted by (head, relation, tail)."""
    names = list(ex.ids)
    order = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), dtype=np.int32)
    rank[order] = np.arange(len(names), dtype=np.int32)
    head = rank[np.frombuffer(ex.heads, dtype=np.int32)]
    tail = rank[np.frombuffer(ex.tails, dtype=np.int32)]
    rel = np.frombuffer(ex.rels, dtype=np.int8)
    weight = np.frombuffer(ex.weights, dtype=np.float64)
    idx = np.lexsort((-weight, tail, rel, head))  # last key is primary; heaviest duplicate first
    head, rel, tail, weight = head[idx], rel[idx], tail[idx], weight[idx]
    keep = np.ones(len(idx), dtype=bool)
    keep[1:] = (head[1:] != head[:-1]) | (rel[1:] != rel[:-1]) | (tail[1:] != tail[:-1])
    nodes = pa.table({"id": pa.array(np.arange(len(names), dtype=np.int32)),
                      "name": pa.array([names[i] for i in order], type=pa.string())}, schema=NODES_SCHEMA)
    edges = pa.table({"head": head[keep], "relation": rel[keep], "tail": tail[keep],
                      "weight": weight[keep].astype(np.float32)}, schema=EDGES_SCHEMA)
    return nodes, edges, int(len(idx) - keep.sum())


def prepare(raw_dir: Path, out_dir: Path, bad: BadRows, *, sense_quirk: bool = False) -> dict:
    """Write nodes.parquet, edges.parquet and relations.parquet."""
    path = _input(raw_dir)
    ex = _Extractor(path, bad, sense_quirk)
    ex.run()
    nodes, edges, duplicates = _tables(ex)
    write_parquet(nodes, out_dir / "nodes.parquet")
    write_parquet(edges, out_dir / "edges.parquet")
    write_parquet(pa.table({"id": pa.array(range(len(RELATIONS)), pa.int8()), "name": list(RELATIONS)},
                           schema=RELATIONS_SCHEMA), out_dir / "relations.parquet")
    log.info("conceptnet: %d nodes, %d edges from %d rows", nodes.num_rows, edges.num_rows, ex.stats["rows"])
    return {**ex.stats, "dropped_duplicate": duplicates, "nodes": nodes.num_rows, "edges": edges.num_rows}
