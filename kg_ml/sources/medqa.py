"""MedQA-USMLE (4- or 5-option release) JSON lines -> one Parquet table per split."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from kg_ml.sources.common import (BadRows, Loc, TableWriter, iter_lines, json_object, require, require_text,
                                  split_inputs)

SPLITS = ("train", "dev", "test")
FILES = {split: f"phrases_no_exclude_{split}.jsonl" for split in SPLITS}
SCHEMA = pa.schema([
    ("id", pa.string()),
    ("question", pa.string()),
    ("options", pa.list_(pa.string())),
    ("label", pa.int8()),
    ("answer", pa.string()),
    ("meta_info", pa.string()),
    ("split", pa.string()),
])
_KEYS = "ABCDEFGHIJ"


class _Reader:
    """Validates rows of one split file; the first good row fixes the option count."""

    def __init__(self, path: Path, split: str) -> None:
        self.path = str(path)
        self.split = split
        self.n_options: int | None = None
        self.records = 0  # non-blank lines, good or bad

    def row(self, item: tuple[int, bytes]) -> tuple | None:
        lineno, raw = item
        if not raw.strip():
            return None  # blank line
        self.records += 1
        loc = Loc(self.path, lineno)
        obj = json_object(raw, loc)
        question = require_text(obj, "question", loc)
        answer = require(obj, "answer", str, loc)
        meta_info = require(obj, "meta_info", str, loc)  # kept verbatim (the release has 'stfep2&3')
        answer_idx = require(obj, "answer_idx", str, loc)
        options = self._options(require(obj, "options", dict, loc), loc)
        keys = _KEYS[: len(options)]
        if answer_idx not in keys:
            raise loc.error(f"{answer_idx!r} is not one of the options {', '.join(keys)}", "answer_idx")
        label = keys.index(answer_idx)
        if options[label] != answer:
            raise loc.error(f"{answer!r} differs from options[{answer_idx!r}] = {options[label]!r}", "answer")
        return (f"{self.split}-{lineno - 1:05d}", question, options, label, answer, meta_info, self.split)

    def _options(self, options: dict, loc: Loc) -> list[str]:
        n = len(options)
        if sorted(options) != list(_KEYS[:n]) or n < 2:
            raise loc.error(f"expected keys A, B, C, ...; got {', '.join(map(str, options))}", "options")
        if self.n_options is not None and n != self.n_options:
            raise loc.error(f"{n} options, but earlier rows of this file have {self.n_options}", "options")
        values = [require_text(options, k, loc, f"options.{k}") for k in _KEYS[:n]]
        self.n_options = n
        return values


def prepare(raw_dir: Path, out_dir: Path, bad: BadRows) -> dict:
    """Write train/dev/test.parquet for the split files present (at least one, none empty)."""
    metrics: dict[str, int] = {}
    for split, path in split_inputs(raw_dir, FILES, "medqa").items():
        reader = _Reader(path, split)
        with TableWriter(out_dir / f"{split}.parquet", SCHEMA) as out:
            for row in bad.parse(iter_lines(path, desc=f"medqa {split}"), reader.row):
                out.add(row)
        if not reader.records:  # most likely a wrong or truncated download, not a real split
            raise Loc(str(path)).error("no records")
        metrics[f"{split}_rows"] = out.count
        metrics[f"{split}_options"] = reader.n_options or 0
    return metrics
