"""MRQA v2 HotpotQA (LinkBERT's QA data) -> train/dev/test Parquet in SQuAD-style records.

MRQA ships train and dev only; like LinkBERT we split MRQA dev into an in-house dev and test
half. The split is by context (a context line's qas never straddle dev and test), decided by
the parity of the SHA-1 of the context's first qid: even -> dev, odd -> test.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pyarrow as pa

from kg_ml.sources.common import BadRows, Loc, TableWriter, iter_lines, json_object, require, split_inputs

log = logging.getLogger(__name__)

ANSWERS = pa.struct([("text", pa.list_(pa.string())), ("answer_start", pa.list_(pa.int32()))])
SCHEMA = pa.schema([
    ("id", pa.string()),
    ("question", pa.string()),
    ("context", pa.string()),
    ("answers", ANSWERS),
    ("gold_answers", pa.list_(pa.string())),
    ("split", pa.string()),
])
FILES = {"train": "train/HotpotQA.jsonl", "dev": "dev/HotpotQA.jsonl"}


def dev_test_half(qid: str) -> str:
    """'dev' or 'test' for an MRQA dev context whose first qid is ``qid``."""
    return "test" if hashlib.sha1(qid.encode("utf-8")).digest()[-1] & 1 else "dev"


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def check_header(obj: dict, loc: Loc, *, split: str | None, dataset: str | None) -> None:
    """Line 1: ``{"header": {"dataset", "split"}}`` (or ``mrqa_split``/``original_split``)."""
    header = require(obj, "header", dict, loc)
    name = require(header, "dataset", str, loc, "header.dataset")
    key = "split" if "split" in header else "mrqa_split"
    found = require(header, key, str, loc, f"header.{key}")
    if dataset is not None and name != dataset:
        raise loc.error(f"expected dataset {dataset!r}, got {name!r}", "header.dataset")
    if split is not None and found != split:
        raise loc.error(f"expected split {split!r}, got {found!r}", f"header.{key}")


class _Context:
    """Turns one MRQA context line into rows (one per qa)."""

    def __init__(self, stats: dict[str, int]) -> None:
        self.stats = stats

    def rows(self, obj: dict, loc: Loc) -> list[tuple]:
        context = require(obj, "context", str, loc)
        qas = require(obj, "qas", list, loc)
        return [self._qa(context, qa, loc, f"qas[{i}]") for i, qa in enumerate(qas)]

    def _qa(self, context: str, qa: object, loc: Loc, at: str) -> tuple:
        if not isinstance(qa, dict):
            raise loc.error("expected an object", at)
        qid = require(qa, "qid", str, loc, f"{at}.qid")
        question = require(qa, "question", str, loc, f"{at}.question")
        gold = require(qa, "answers", list, loc, f"{at}.answers")
        for j, a in enumerate(gold):
            if not isinstance(a, str):
                raise loc.error("expected a string", f"{at}.answers[{j}]")
        texts: list[str] = []
        starts: list[int] = []
        for j, det in enumerate(require(qa, "detected_answers", list, loc, f"{at}.detected_answers")):
            where = f"{at}.detected_answers[{j}]"
            if not isinstance(det, dict):
                raise loc.error("expected an object", where)
            det_text = require(det, "text", str, loc, f"{where}.text")
            for k, span in enumerate(require(det, "char_spans", list, loc, f"{where}.char_spans")):
                s, e = self._span(span, len(context), loc, f"{where}.char_spans[{k}]")
                text = context[s:e + 1]  # MRQA spans are inclusive at both ends
                if _norm(text) != _norm(det_text):
                    # Real MRQA data has these ("Broncos" vs "The Broncos"); LinkBERT keeps the span.
                    self.stats["span_text_mismatches"] += 1
                    log.debug("%s:%s: %s: span %r != detected text %r",
                              loc.path, loc.line, where, text, det_text)
                texts.append(text)
                starts.append(s)
        return (qid, question, context, {"text": texts, "answer_start": starts}, gold)

    @staticmethod
    def _span(span: object, n: int, loc: Loc, field: str) -> tuple[int, int]:
        ok = (isinstance(span, list) and len(span) == 2
              and all(isinstance(x, int) and not isinstance(x, bool) for x in span))
        if not ok:
            raise loc.error(f"expected [start, end], got {span!r}", field)
        s, e = span
        if not 0 <= s <= e < n:
            raise loc.error(f"span [{s}, {e}] out of range for a context of {n} characters", field)
        return s, e


def _read_file(path: Path, split: str, bad: BadRows, stats: dict[str, int], *,
               dataset: str | None) -> Iterator[list[tuple]]:
    """Yield the rows of each context line after validating the header line."""
    lines = iter_lines(path, desc=f"hotpotqa {split}")
    first = next(lines, None)
    if first is None:
        raise Loc(str(path)).error("empty file: expected an MRQA header line")
    loc = Loc(str(path), first[0])
    check_header(json_object(first[1], loc), loc, split=split, dataset=dataset)
    ctx = _Context(stats)

    def parse(item: tuple[int, bytes]) -> list[tuple] | None:
        if not item[1].strip():
            return None  # blank line
        loc = Loc(str(path), item[0])
        return ctx.rows(json_object(item[1], loc), loc)

    yield from bad.parse(lines, parse)


def prepare(raw_dir: Path, out_dir: Path, bad: BadRows, *, dataset: str | None = "HotpotQA") -> dict:
    """Write train/dev/test.parquet; ``dataset`` is the header name to insist on (None: any)."""
    stats = {"span_text_mismatches": 0}
    paths = split_inputs(raw_dir, FILES, "hotpotqa")
    tables = {"train": ("train",), "dev": ("dev", "test")}
    seen: set[str] = set()
    duplicates = 0
    with ExitStack() as stack:
        writers = {t: stack.enter_context(TableWriter(out_dir / f"{t}.parquet", SCHEMA))
                   for split in paths for t in tables[split]}
        for split, path in paths.items():
            for rows in _read_file(path, split, bad, stats, dataset=dataset):
                target = split if split == "train" or not rows else dev_test_half(rows[0][0])
                for row in rows:
                    duplicates += row[0] in seen
                    seen.add(row[0])
                    writers[target].add((*row, target))
    if duplicates:
        log.warning("hotpotqa: %d duplicate qids", duplicates)
    return {**{f"{t}_rows": w.count for t, w in writers.items()}, **stats, "duplicate_qids": duplicates}
