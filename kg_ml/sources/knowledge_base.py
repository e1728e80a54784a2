"""DPR-format passages (psgs_w100.tsv[.gz]: ``id<TAB>text<TAB>title``, csv-quoted) -> Parquet."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pyarrow as pa
from tqdm import tqdm

from kg_ml.sources.common import (BadRows, Loc, TableWriter, find_input, iter_lines, json_object,
                                  open_text, require)

log = logging.getLogger(__name__)

FILE = "psgs_w100.tsv"
HEADER = ["id", "text", "title"]
SCHEMA = pa.schema([("id", pa.string()), ("title", pa.string()), ("text", pa.string())])
GOLD_FILE = "medqa_gold_passages.jsonl"
GOLD_SCHEMA = pa.schema([("question_id", pa.string()), ("passage_ids", pa.list_(pa.string()))])


class _Rows:
    """csv records with the physical line each starts on (quoted fields may span lines)."""

    def __init__(self, path: Path, bad: BadRows) -> None:
        self.path = path
        self.bad = bad
        self.line = 0  # last physical line consumed

    def __iter__(self):
        with open_text(self.path, line_of=lambda: self.line + 1) as text:
            # strict: malformed quoting is an error rather than silently kept quote characters
            reader = csv.reader(text, delimiter="\t", quotechar='"', doublequote=True, strict=True)
            while True:
                start = self.line + 1
                try:
                    fields = next(reader)
                except StopIteration:
                    return
                except csv.Error as e:
                    self.line = reader.line_num
                    self.bad(Loc(str(self.path), start).error(f"malformed CSV: {e}"))
                    continue
                self.line = reader.line_num
                yield start, fields


def _passage(item: tuple[int, list[str]], path: str) -> tuple[str, str, str]:
    lineno, fields = item
    loc = Loc(path, lineno)
    if len(fields) != 3:
        raise loc.error(f"expected 3 tab-separated fields (id, text, title), got {len(fields)}")
    pid, text, title = fields
    if not pid:
        raise loc.error("empty passage id", "id")
    return pid, title, text


def prepare(raw_dir: Path, out_dir: Path, bad: BadRows) -> dict:
    """Write passages.parquet (id, title, text) in file order."""
    path = find_input(raw_dir, FILE)
    rows = iter(_Rows(path, bad))
    header = next(rows, None)
    if header is None or header[1] != HEADER:
        got = "an empty file" if header is None else "\t".join(header[1])
        raise Loc(str(path), 1).error(f"expected header {'<TAB>'.join(HEADER)}, got {got!r}", "header")
    with TableWriter(out_dir / "passages.parquet", SCHEMA) as out:
        for row in tqdm(bad.parse(rows, lambda item: _passage(item, str(path))),
                        desc="passages", unit=" rows", leave=False, disable=None):
            out.add(row)
    log.info("knowledge_base: %d passages", out.count)
    metrics = {"passages": out.count}
    gold = find_input(raw_dir, GOLD_FILE, required=False)
    if gold is not None:
        metrics["gold_questions"] = _prepare_gold(gold, out_dir / "gold_passages.parquet", bad)
    return metrics


def _gold(item: tuple[int, bytes], path: str) -> tuple[str, list[str]] | None:
    lineno, raw = item
    if not raw.strip():
        return None
    loc = Loc(path, lineno)
    obj = json_object(raw, loc)
    ids = require(obj, "passage_ids", list, loc)
    if not all(isinstance(i, str) for i in ids):
        raise loc.error("expected a list of strings", "passage_ids")
    return require(obj, "question_id", str, loc), ids


def _prepare_gold(path: Path, out: Path, bad: BadRows) -> int:
    """The sample world's answer key (which passages state each question's facts), for recall."""
    with TableWriter(out, GOLD_SCHEMA) as writer:
        for row in bad.parse(iter_lines(path), lambda item: _gold(item, str(path))):
            writer.add(row)
    return writer.count
