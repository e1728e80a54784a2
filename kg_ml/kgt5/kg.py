"""The prepared Wikidata5M tables (`kg_ml.sources.wikidata5m`) as integer triples plus the
entity strings KGT5 reads and writes (the unique ``display_name`` of each entity)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kg_ml.errors import InputError
from kg_ml.kgt5.config import SPLITS


def _read(path: Path, columns: tuple[str, ...]) -> pa.Table:
    if not path.is_file():
        raise InputError(path, "no such file (run prepare@wikidata5m first)")
    table = pq.read_table(path)
    for name in columns:
        if name not in table.column_names:
            raise InputError(path, "missing column (expected the prepare@wikidata5m schema)", field=name)
        if (nulls := table.column(name).null_count):
            row = pc.index(pc.is_null(table.column(name)), True).as_py()
            raise InputError(path, f"null value ({nulls} in all)", line=row + 1, field=name)
    return table.select(list(columns))


@dataclass
class KnowledgeGraph:
    """Entities and relations by position; triples per split as int32 arrays [n, 3] (head, relation, tail)."""

    entity_ids: list[str]
    entity_names: list[str]  # display names: unique, what the model reads and writes
    plain_names: list[str]  # canonical names (may repeat): what KGQA answer sets use
    relation_ids: list[str]
    relation_names: list[str]
    triples: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def num_entities(self) -> int:
        return len(self.entity_ids)

    def entity_index(self) -> dict[str, int]:
        """Display name -> entity position."""
        return {name: i for i, name in enumerate(self.entity_names)}

    def all_triples(self) -> np.ndarray:
        return np.concatenate([self.triples[s] for s in SPLITS if s in self.triples]) if self.triples \
            else np.zeros((0, 3), np.int32)


def _positions(ids: pa.ChunkedArray, vocab: pa.Array, path: Path, column: str) -> np.ndarray:
    pos = pc.index_in(ids, value_set=vocab)
    if (missing := pos.null_count):
        row = pc.index(pc.is_null(pos), True).as_py()
        raise InputError(path, f"unknown id {ids[row].as_py()!r} ({missing} in all)", line=row + 1, field=column)
    return pos.to_numpy(zero_copy_only=False).astype(np.int32)


def load_kg(prepared: str | Path, splits: tuple[str, ...] = SPLITS) -> KnowledgeGraph:
    """Read entities, relations and the triples of ``splits`` from ``data/prepared/wikidata5m``."""
    prepared = Path(prepared)
    ent_path, rel_path = prepared / "entities.parquet", prepared / "relations.parquet"
    ents = _read(ent_path, ("id", "name", "display_name"))
    rels = _read(rel_path, ("id", "name"))
    names = ents.column("display_name").to_pylist()
    if len(set(names)) != len(names):
        dup = next(n for n, c in Counter(names).items() if c > 1)
        row = names.index(dup, names.index(dup) + 1)
        raise InputError(ent_path, f"display name {dup!r} is not unique", line=row + 1, field="display_name")
    kg = KnowledgeGraph(ents.column("id").to_pylist(), names, ents.column("name").to_pylist(),
                        rels.column("id").to_pylist(), rels.column("name").to_pylist())
    ent_vocab, rel_vocab = ents.column("id").combine_chunks(), rels.column("id").combine_chunks()
    for split in splits:
        path = prepared / f"triples_{split}.parquet"
        t = _read(path, ("head", "relation", "tail"))
        kg.triples[split] = np.stack([_positions(t.column("head"), ent_vocab, path, "head"),
                                      _positions(t.column("relation"), rel_vocab, path, "relation"),
                                      _positions(t.column("tail"), ent_vocab, path, "tail")], axis=1)
    return kg
