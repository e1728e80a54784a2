"""Retrieval queries of a multiple-choice task: questions (+ options) and teacher rationales."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kg_ml.errors import InputError


def question_query(question: str, options: Sequence[str]) -> str:
    """KARD's inference query: the question followed by its answer options."""
    return " ".join([question, *options])


def is_heldout(question_id: str, fraction: float) -> bool:
    """Stable pseudo-random hold-out by id hash (independent of row order and file size)."""
    h = int.from_bytes(hashlib.sha1(question_id.encode()).digest()[:8], "big")
    return h < fraction * 2**64


def _require(path: Path, table, columns: Sequence[str]) -> None:
    for name in columns:
        if name not in table.column_names:
            raise InputError(path, "missing column", field=name)
        col = table.column(name)
        if col.null_count:
            row = pc.index(pc.is_null(col), True).as_py()
            raise InputError(path, "null value", line=row + 1, field=name)


@dataclass(frozen=True)
class Questions:
    """Questions of one split, in file order: ids and question + options query texts."""

    ids: list[str]
    texts: list[str]

    def position(self) -> dict[str, int]:
        return {q: i for i, q in enumerate(self.ids)}


def read_questions(path: Path) -> Questions:
    if not path.is_file():
        raise InputError(path, "missing questions table (run prepare for the task first)")
    table = pq.read_table(path, columns=None)
    _require(path, table, ("id", "question", "options"))
    ids = table.column("id").to_pylist()
    texts = [question_query(q, o) for q, o in zip(table.column("question").to_pylist(),
                                                   table.column("options").to_pylist())]
    return Questions(ids, texts)


@dataclass(frozen=True)
class Rationales:
    """Teacher rationales of one split, sorted by (question position, rationale id)."""

    question: np.ndarray  # int64 position of the question in its `Questions`
    rationale_id: np.ndarray  # int16
    texts: list[str]

    def __len__(self) -> int:
        return len(self.texts)


def read_rationales(path: Path, questions: Questions, split: str) -> Rationales:
    """Rationales of ``split``; each must belong to one of ``questions`` (else an InputError
    naming the row)."""
    if not path.is_file():
        raise InputError(path, "missing rationales table (run prepare@rationales first)")
    table = pq.read_table(path)
    _require(path, table, ("question_id", "split", "rationale_id", "text"))
    pos = questions.position()
    rows = []
    for i, (qid, sp, rid, text) in enumerate(zip(*(table.column(c).to_pylist() for c in
                                                   ("question_id", "split", "rationale_id", "text")))):
        if sp != split:
            continue
        if qid not in pos:
            raise InputError(path, f"question {qid!r} is not in the {split} questions", line=i + 1,
                             field="question_id")
        rows.append((pos[qid], rid, text))
    rows.sort(key=lambda r: (r[0], r[1]))
    return Rationales(np.array([r[0] for r in rows], dtype=np.int64),
                      np.array([r[1] for r in rows], dtype=np.int16), [r[2] for r in rows])


def read_gold(path: Path) -> dict[str, list[str]] | None:
    """question id -> gold passage ids (the sample world's answer key), or None when absent."""
    if not path.is_file():
        return None
    table = pq.read_table(path)
    _require(path, table, ("question_id", "passage_ids"))
    return dict(zip(table.column("question_id").to_pylist(), table.column("passage_ids").to_pylist()))
