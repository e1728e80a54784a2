"""Wikidata5M (transductive split, alias files, optional text corpus) -> Parquet.

Big files are parsed a block at a time with Arrow (see wikidata5m_parse); a block that fails
the vectorised checks is walked line by line, which names the bad line. Unique display names
need every name at once: the entity rows go to a temporary Parquet file, their names come back
as one Arrow column, and the final table is written in a second pass over the temporary file.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kg_ml.sources.common import BATCH_ROWS, BadRows, Loc, TableWriter, find_input, iter_tables
from kg_ml.sources.display_names import display_names, duplicated, short_description
from kg_ml.sources.wikidata5m_parse import (
    ALIASES_SCHEMA,
    ENTITY_ID,
    RELATION_ID,
    TEXT_SCHEMA,
    TRIPLES_SCHEMA,
    IdSet,
    alias_line,
    aliases_block,
    id_numbers,
    text_block,
    text_line,
    triple_line,
    triples_block,
)

log = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")
TRIPLES_FILE = "wikidata5m_transductive_{}.txt"
ENTITY_FILE = "wikidata5m_entity.txt"
RELATION_FILE = "wikidata5m_relation.txt"
TEXT_FILE = "wikidata5m_text.txt"
RELATIONS_SCHEMA = ALIASES_SCHEMA
ENTITIES_SCHEMA = ALIASES_SCHEMA.append(pa.field("display_name", pa.string()))


class AliasFile:
    """Rows of an alias file (to a Parquet file) with their id numbers and line numbers."""

    def __init__(self, path: Path, kind: str, bad: BadRows) -> None:
        self.path, self.kind, self.bad = path, kind, bad
        self.pattern = ENTITY_ID if kind == "entity" else RELATION_ID
        self.numbers = np.zeros(0, np.int64)
        self.lines = np.zeros(0, np.int64)
        self.without_alias = 0

    def write(self, dest: Path) -> None:
        numbers, lines = [], []
        with TableWriter(dest, ALIASES_SCHEMA) as out:
            for table, at in iter_tables(self.path, ALIASES_SCHEMA, self.bad, desc=self.path.name,
                                         fast=lambda block: aliases_block(block, self.pattern),
                                         slow=alias_line(str(self.path), self.pattern, self.kind)):
                out.write(table)
                numbers.append(id_numbers(table.column("id")))
                lines.append(at)
                empty = pc.equal(pc.list_value_length(table.column("aliases")), 0)
                self.without_alias += pc.sum(empty).as_py() or 0
        self.numbers = np.concatenate(numbers) if numbers else self.numbers
        self.lines = np.concatenate(lines) if lines else self.lines

    def keep_mask(self) -> np.ndarray:
        """False for an id's repeats after its first line (each one a bad row)."""
        order = np.argsort(self.numbers, kind="stable")
        repeat = np.zeros(len(order), dtype=bool)
        repeat[order[1:]] = self.numbers[order[1:]] == self.numbers[order[:-1]]
        prefix = self.pattern.pattern[0]
        for i in np.flatnonzero(repeat):  # in line order
            self.bad(Loc(str(self.path), int(self.lines[i])).error(
                f"duplicate {self.kind} id {prefix}{self.numbers[i]}", "id"))
        return ~repeat


def _read_triples(path: Path, out: TableWriter, bad: BadRows, entities: IdSet, relations: IdSet) -> None:
    for table, _ in iter_tables(path, TRIPLES_SCHEMA, bad, fast=triples_block, slow=triple_line(str(path)),
                                desc=path.name):
        if table.num_rows:
            out.write(table)
            entities.add(id_numbers(table.column("head")), id_numbers(table.column("tail")))
            relations.add(id_numbers(table.column("relation")))


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[pos] == values


def _read_text(path: Path, out: TableWriter, bad: BadRows, wanted: np.ndarray) -> tuple[np.ndarray, pa.Array]:
    """Copy the text corpus; return (entity number, short description) for the ``wanted`` ones."""
    numbers, descriptions = [], []
    for table, _ in iter_tables(path, TEXT_SCHEMA, bad, fast=text_block, slow=text_line(str(path)),
                                desc=path.name):
        out.write(table)
        nums = id_numbers(table.column("id"))
        hit = _member(nums, wanted)
        if hit.any():
            texts = table.column("text").filter(pa.array(hit)).to_pylist()
            numbers.append(nums[hit])
            descriptions.append(pa.array([short_description(t) for t in texts], pa.string()))
    if not numbers:
        return np.zeros(0, np.int64), pa.array([], pa.string())
    return np.concatenate(numbers), pa.concat_arrays(descriptions)


def _align(numbers: np.ndarray, keys: np.ndarray, values: pa.Array) -> pa.Array:
    """``values`` looked up by ``numbers`` in ``keys`` (first occurrence wins; null if absent)."""
    if not len(keys):
        return pa.nulls(len(numbers), values.type)
    order = np.argsort(keys, kind="stable")
    first = np.ones(len(order), dtype=bool)
    first[1:] = keys[order[1:]] != keys[order[:-1]]
    uniq, at = keys[order[first]], order[first]
    pos = np.minimum(np.searchsorted(uniq, numbers), len(uniq) - 1)
    return values.take(pa.array(at[pos], mask=uniq[pos] != numbers))


def _write_relations(raw: AliasFile, tmp: Path, dest: Path, used: np.ndarray) -> dict[str, int]:
    keep = raw.keep_mask()
    missing = used[~_member(used, np.sort(raw.numbers[keep]))]
    ids = pa.array([f"P{n}" for n in missing], pa.string())
    table = pq.read_table(tmp).filter(pa.array(keep))
    extra = pa.table({"id": ids, "name": ids, "aliases": pa.array([[]] * len(ids), pa.list_(pa.string()))},
                     schema=RELATIONS_SCHEMA)
    with TableWriter(dest, RELATIONS_SCHEMA) as out:
        out.write(pa.concat_tables([table, extra]))
    tmp.unlink()
    if len(missing):
        log.warning("wikidata5m: %d relations used by triples have no alias line (name = id)", len(missing))
    return {"relations": out.count, "relations_missing_from_alias_file": len(missing),
            "relations_without_alias": raw.without_alias}


def prepare(raw_dir: Path, out_dir: Path, bad: BadRows) -> dict:
    """Write triples_{train,valid,test}, relations, entities and (if present) text tables."""
    triple_paths = {s: find_input(raw_dir, TRIPLES_FILE.format(s)) for s in SPLITS}
    entity_path = find_input(raw_dir, ENTITY_FILE)
    relation_path = find_input(raw_dir, RELATION_FILE)
    text_path = find_input(raw_dir, TEXT_FILE, required=False)
    metrics: dict[str, int] = {}

    used_entities, used_relations = IdSet(), IdSet()
    for split, path in triple_paths.items():
        with TableWriter(out_dir / f"triples_{split}.parquet", TRIPLES_SCHEMA) as out:
            _read_triples(path, out, bad, used_entities, used_relations)
        metrics[f"triples_{split}_rows"] = out.count
        log.info("wikidata5m: %d %s triples", out.count, split)

    relations = AliasFile(relation_path, "relation", bad)
    relations.write(out_dir / ".relations.pass1.parquet")
    metrics.update(_write_relations(relations, out_dir / ".relations.pass1.parquet",
                                     out_dir / "relations.parquet", used_relations.array()))

    log.info("wikidata5m: reading entity aliases")
    tmp = out_dir / ".entities.pass1.parquet"
    entities = AliasFile(entity_path, "entity", bad)
    entities.write(tmp)
    keep = entities.keep_mask()
    known = entities.numbers[keep]
    used = used_entities.array()
    missing = used[~_member(used, np.sort(known))]  # sorted, as `used` is
    del used_entities, used
    if len(missing):
        log.warning("wikidata5m: %d entities used by triples have no alias line (name = id)", len(missing))
    missing_ids = pa.array([f"Q{n}" for n in missing], pa.string())
    stored = pq.read_table(tmp, columns=["id", "name"])
    ids = pa.concat_arrays([stored.column("id").combine_chunks().filter(pa.array(keep)), missing_ids])
    names = pa.concat_arrays([stored.column("name").combine_chunks().filter(pa.array(keep)), missing_ids])
    del stored
    numbers = np.concatenate([known, missing])

    clash = duplicated(names)
    descs = pa.nulls(len(names), pa.string())
    if text_path is not None:
        log.info("wikidata5m: reading texts (descriptions for %d entities with shared names)", clash.sum())
        with TableWriter(out_dir / "text.parquet", TEXT_SCHEMA) as out:
            desc_keys, desc_values = _read_text(text_path, out, bad, np.sort(numbers[clash]))
        metrics["text_rows"] = out.count
        descs = _align(numbers, desc_keys, desc_values)
        del desc_keys, desc_values
    log.info("wikidata5m: making display names unique")
    display, counts = display_names(ids, names, descs)
    del descs
    metrics.update(counts)

    log.info("wikidata5m: writing entities")
    with TableWriter(out_dir / "entities.parquet", ENTITIES_SCHEMA) as out:
        start = done = 0
        for batch in pq.ParquetFile(tmp).iter_batches(batch_size=BATCH_ROWS):
            kept = pa.Table.from_batches([batch]).filter(pa.array(keep[start:start + batch.num_rows]))
            out.write(kept.append_column("display_name", display.slice(done, kept.num_rows)))
            start += batch.num_rows
            done += kept.num_rows
        out.write(pa.table({"id": missing_ids, "name": missing_ids,
                            "aliases": pa.array([[]] * len(missing_ids), pa.list_(pa.string())),
                            "display_name": display.slice(done)}, schema=ENTITIES_SCHEMA))
    tmp.unlink()
    metrics.update({
        "entities": out.count,
        "entities_without_alias": entities.without_alias,
        "entities_missing_from_alias_file": len(missing),
        "entity_names_with_pipe": int(pc.sum(pc.match_substring(names, "|")).as_py() or 0),
    })
    return metrics
