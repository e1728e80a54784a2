"""KGQA question sets in MetaQA format -> one Parquet table per split.

A line is ``question text with [Topic Entity] in brackets<TAB>answer1|answer2``; answers are
entity names (mapped to Wikidata5M ids later, by the KGQA stages).
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa

from kg_ml.sources.common import BadRows, Loc, TableWriter, iter_lines, split_inputs, tab_fields

SPLITS = ("train", "dev", "test")
FILES = {split: f"qa_{split}.txt" for split in SPLITS}
SCHEMA = pa.schema([
    ("id", pa.string()),
    ("question", pa.string()),
    ("topic_entity", pa.string()),
    ("answers", pa.list_(pa.string())),
    ("split", pa.string()),
])
_TOPIC = re.compile(r"\[([^\[\]]+)\]")


def _row(split: str, path: Path):
    def parse(item: tuple[int, bytes]) -> tuple | None:
        lineno, raw = item
        if not raw.strip():
            return None
        loc = Loc(str(path), lineno)
        question, answers = tab_fields(raw, loc, 2, names=("question", "answers"))
        topics = _TOPIC.findall(question)
        if len(topics) != 1:
            raise loc.error(f"expected exactly one [bracketed] topic entity, found {len(topics)}", "question")
        names = [a.strip() for a in answers.split("|")]
        if not all(names):
            raise loc.error("empty answer name", "answers")
        return (f"{split}-{lineno - 1:05d}", question.strip(), topics[0].strip(), names, split)

    return parse


def prepare(raw_dir: Path, out_dir: Path, bad: BadRows) -> dict:
    """Write train/dev/test.parquet from the qa_<split>.txt files present (at least one)."""
    metrics: dict[str, int] = {}
    for split, path in split_inputs(raw_dir, FILES, "kgqa").items():
        with TableWriter(out_dir / f"{split}.parquet", SCHEMA) as out:
            for row in bad.parse(iter_lines(path, desc=f"kgqa {split}"), _row(split, path)):
                out.add(row)
        metrics[f"{split}_rows"] = out.count
    return metrics
