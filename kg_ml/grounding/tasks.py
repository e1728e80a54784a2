"""Statements of each QA task, read from its prepared Parquet split tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from kg_ml.errors import InputError

SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class Question:
    """One question and its statements (one per choice; one for extractive tasks)."""

    id: str
    statements: tuple[str, ...]
    answers: tuple[str, ...]  # the answer text each statement is grounded against ("" when unknown)
    label: int | None  # gold choice; None for extractive tasks (every statement is "gold")
    gold_answers: tuple[str, ...] = ()  # extractive tasks: gold answer texts (for coverage only)


def _rows(path: Path, columns: list[str]) -> Iterator[tuple[int, dict]]:
    table = pq.read_table(path)
    if missing := [c for c in columns if c not in table.column_names]:
        raise InputError(path, f"missing column(s) {missing}")
    for row, record in enumerate(table.select(columns).to_pylist()):
        for column in columns:
            if record[column] is None:
                raise InputError(path, f"row {row}: null value", field=column)
        yield row, record


def medqa(path: Path) -> Iterator[Question]:
    """MedQA: statement = question + " " + option, grounded against the option."""
    for row, r in _rows(path, ["id", "question", "options", "label"]):
        options = tuple(r["options"])
        if not 0 <= r["label"] < len(options) or any(o is None for o in options):
            raise InputError(path, f"row {row}: label {r['label']} outside {len(options)} options", field="label")
        yield Question(r["id"], tuple(f"{r['question']} {o}" for o in options), options, r["label"])


def hotpotqa(path: Path) -> Iterator[Question]:
    """HotpotQA: statement = question; the answer is unknown at question time."""
    for _, r in _rows(path, ["id", "question", "gold_answers"]):
        gold = tuple(dict.fromkeys(a for a in r["gold_answers"] if a))
        yield Question(r["id"], (r["question"],), ("",), None, gold)


READERS: dict[str, Callable[[Path], Iterator[Question]]] = {"medqa": medqa, "hotpotqa": hotpotqa}


def split_files(prepared_dir: Path) -> list[tuple[str, Path]]:
    """The (split, table) pairs present in a prepared task directory, in train/dev/test order."""
    found = [(s, prepared_dir / f"{s}.parquet") for s in SPLITS if (prepared_dir / f"{s}.parquet").is_file()]
    if not found:
        raise InputError(prepared_dir, f"no split table ({', '.join(f'{s}.parquet' for s in SPLITS)}); "
                         "run prepare first")
    return found
