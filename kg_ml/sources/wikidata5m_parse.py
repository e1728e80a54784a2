"""Block and line parsers for Wikidata5M's files, plus a compact set of integer ids.

Each file kind has a vectorised block parser (Arrow; None when the block needs a closer look)
and a per-line parser that names the bad line, for :func:`kg_ml.sources.common.iter_tables`.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from kg_ml.sources.common import Loc, block_lines, decode

ENTITY_ID = re.compile(r"Q[1-9][0-9]*")
RELATION_ID = re.compile(r"P[1-9][0-9]*")
_TRIPLE = rb"Q[1-9][0-9]*\tP[1-9][0-9]*\tQ[1-9][0-9]*"
_TRIPLE_LINE = re.compile(_TRIPLE)
_TRIPLE_BLOCK = re.compile(rb"(?:%s\r?\n)*(?:%s\r?)?" % (_TRIPLE, _TRIPLE))
TRIPLE_COLUMNS = ("head", "relation", "tail")

TRIPLES_SCHEMA = pa.schema([(c, pa.string()) for c in TRIPLE_COLUMNS])
ALIASES_SCHEMA = pa.schema([("id", pa.string()), ("name", pa.string()), ("aliases", pa.list_(pa.string()))])
TEXT_SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string())])


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique's hash path is several times slower on large int arrays)."""
    values = np.sort(values)
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


class IdSet:
    """Distinct integer ids (the number of ``Q123``/``P45``), kept compact as one sorted array."""

    def __init__(self, compact_every: int = 1 << 23) -> None:
        self._merged = np.zeros(0, np.int64)
        self._parts: list[np.ndarray] = []
        self._pending = 0
        self._compact_every = compact_every

    def add(self, *values: np.ndarray) -> None:
        part = sorted_unique(np.concatenate(values))
        self._parts.append(part)
        self._pending += len(part)
        # merge once the parts outgrow the merged set, so merging stays linear overall
        if self._pending > max(self._compact_every, len(self._merged)):
            self.array()

    def array(self) -> np.ndarray:
        """The sorted distinct ids so far."""
        if self._parts:
            self._merged = sorted_unique(np.concatenate([self._merged, *self._parts]))
            self._parts, self._pending = [], 0
        return self._merged


def id_numbers(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """``Q123`` -> 123 (ids already validated)."""
    return pc.utf8_slice_codeunits(ids, 1).cast(pa.int64()).to_numpy()


def _all(mask: pa.Array) -> bool:
    return bool(pc.all(mask).as_py() is not False)


# ---------------------------------------------------------------------------------------------
# Triples: ``Q1<TAB>P2<TAB>Q3``


def triples_block(block: bytes) -> pa.Table | None:
    """A block of valid triple lines, parsed; None if any line is not one."""
    if not _TRIPLE_BLOCK.fullmatch(block):
        return None
    return pacsv.read_csv(
        pa.BufferReader(block),
        read_options=pacsv.ReadOptions(column_names=list(TRIPLE_COLUMNS), use_threads=False,
                                       block_size=len(block) + 1),
        parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False, escape_char=False),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(TRIPLE_COLUMNS, pa.string())),
    )


def triple_line(path: str):
    """Per-line triple parser for ``path``."""

    def parse(item: tuple[int, bytes]) -> tuple[str, str, str] | None:
        lineno, line = item
        if _TRIPLE_LINE.fullmatch(line):
            return tuple(line.decode("ascii").split("\t"))
        if not line.strip():
            return None  # blank lines carry no data
        loc = Loc(path, lineno)
        fields = decode(line, loc).split("\t")
        if len(fields) != 3:
            raise loc.error(f"expected 3 tab-separated fields (head, relation, tail), got {len(fields)}")
        for name, value, pattern in zip(TRIPLE_COLUMNS, fields, (ENTITY_ID, RELATION_ID, ENTITY_ID)):
            if not pattern.fullmatch(value):
                kind = "entity id (Q123)" if pattern is ENTITY_ID else "relation id (P123)"
                raise loc.error(f"expected a Wikidata {kind}, got {value!r}", name)
        raise loc.error("malformed triple")  # unreachable: the line pattern is the checks above

    return parse


# ---------------------------------------------------------------------------------------------
# Alias files: ``ID<TAB>alias1<TAB>alias2...`` (first alias = canonical name)


def aliases_block(block: bytes, id_pattern: re.Pattern) -> pa.Table | None:
    """A block where every line has an id and only non-empty aliases, parsed; else None."""
    lines = block_lines(block)
    if lines is None:
        return None
    fields = pc.split_pattern(lines, "\t")
    ids = pc.list_element(fields, 0)
    if not (_all(pc.greater_equal(pc.list_value_length(fields), 2))
            and _all(pc.match_substring_regex(ids, f"^{id_pattern.pattern}$"))
            and _all(pc.not_equal(pc.list_flatten(fields), ""))):
        return None
    return pa.table({"id": ids, "name": pc.list_element(fields, 1), "aliases": pc.list_slice(fields, 1)})


def alias_line(path: str, id_pattern: re.Pattern, kind: str):
    """Per-line alias parser: (id, name, aliases); an id without aliases is named by its id."""

    def parse(item: tuple[int, bytes]) -> tuple[str, str, list[str]] | None:
        loc = Loc(path, item[0])
        fields = decode(item[1], loc).split("\t")
        if len(fields) == 1 and not fields[0].strip():
            return None  # blank line
        if not id_pattern.fullmatch(fields[0]):
            raise loc.error(f"expected a Wikidata {kind} id, got {fields[0]!r}", "id")
        aliases = [a for a in fields[1:] if a]  # empty fields are stray tabs
        return fields[0], (aliases[0] if aliases else fields[0]), aliases

    return parse


# ---------------------------------------------------------------------------------------------
# Text corpus: ``Q1<TAB>text``


def text_block(block: bytes) -> pa.Table | None:
    lines = block_lines(block)
    if lines is None:
        return None
    fields = pc.split_pattern(lines, "\t", max_splits=1)
    ids = pc.list_element(fields, 0)
    if not (_all(pc.equal(pc.list_value_length(fields), 2))
            and _all(pc.match_substring_regex(ids, f"^{ENTITY_ID.pattern}$"))):
        return None
    return pa.table({"id": ids, "text": pc.list_element(fields, 1)})


def text_line(path: str):
    def parse(item: tuple[int, bytes]) -> tuple[str, str] | None:
        loc = Loc(path, item[0])
        line = decode(item[1], loc)
        eid, tab, text = line.partition("\t")
        if not tab:
            if not line.strip():
                return None
            raise loc.error("expected 'id<TAB>text'")
        if not ENTITY_ID.fullmatch(eid):
            raise loc.error(f"expected a Wikidata entity id, got {eid!r}", "id")
        return eid, text

    return parse
