"""KGQA question sets in MetaQA format -> one Parquet table per split.

A line is ``question text with [Topic Entity] in brackets<TAB>answer1|answer2``; answers are
entity names (mapped to Wikidata5M ids later, by the KGQA stages).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pyarrow as pa

from kg_ml.sources.common import BadRows, Loc, TableWriter, find_input, iter_lines, tab_fields

log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")
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
    """Write train/dev/test.parquet from qa_<split>.txt (at least the train file)."""
    metrics: dict[str, int] = {}
    for split in SPLITS:
        path = find_input(raw_dir, f"qa_{split}.txt", required=split == "train")
        if path is None:
            log.warning("kgqa: no %s file in %s; skipping that split", split, raw_dir)
            continue
        with TableWriter(out_dir / f"{split}.parquet", SCHEMA) as out:
            for row in bad.parse(iter_lines(path, desc=f"kgqa {split}"), _row(split, path)):
                out.add(row)
        metrics[f"{split}_rows"] = out.count
    return metrics
