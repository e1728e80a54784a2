"""KARD teacher rationales (raw ChatCompletion responses, one JSON per question) -> Parquet.

Input: the extracted tree ``<task>/<split>/<question_id>.json`` anywhere below raw_dir (the
downloader extracts archives), else ``teacher_rationales.tar.gz`` read member by member without
extracting. One row per choice; a response with any defect is one bad row (the whole file).
"""

from __future__ import annotations

import gzip
import logging
import tarfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pyarrow as pa
from tqdm import tqdm

from kg_ml.errors import InputError
from kg_ml.io import write_parquet
from kg_ml.sources.common import BadRows, Loc, find_input, json_object, require, rows_table, type_name

log = logging.getLogger(__name__)

ARCHIVE = "teacher_rationales.tar.gz"
SCHEMA = pa.schema([
    ("question_id", pa.string()),
    ("split", pa.string()),
    ("rationale_id", pa.int16()),
    ("text", pa.string()),
    ("model", pa.string()),
    ("finish_reason", pa.string()),
])
_TAR_ERRORS = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)


@dataclass(frozen=True)
class Response:
    """One response file: where it came from and its raw bytes."""

    where: str  # file path, or "archive[member]"
    split: str
    question_id: str
    data: bytes


def _split_and_id(path: PurePosixPath, task: str) -> tuple[str, str] | None:
    """(split, question_id) for ``.../<task>/<split>/<question_id>.json``, else None."""
    if path.suffix == ".json" and len(path.parts) >= 3 and path.parts[-3] == task:
        return path.parts[-2], path.stem
    return None


def _from_tree(raw_dir: Path, task: str) -> list[Path]:
    return sorted(p for p in raw_dir.rglob("*.json")
                  if p.is_file() and _split_and_id(PurePosixPath(p.relative_to(raw_dir).as_posix()), task))


def _read_tree(files: list[Path], raw_dir: Path, task: str) -> Iterator[Response]:
    for path in files:
        split, qid = _split_and_id(PurePosixPath(path.relative_to(raw_dir).as_posix()), task)
        yield Response(str(path), split, qid, path.read_bytes())


def _read_archive(archive: Path, task: str) -> Iterator[Response]:
    """Members in archive order, streamed (no seeking back, no extraction)."""
    try:
        with tarfile.open(archive, mode="r|gz") as tar:
            for member in tar:
                key = _split_and_id(PurePosixPath(member.name), task) if member.isfile() else None
                if key is None:
                    continue
                f = tar.extractfile(member)
                yield Response(f"{archive}[{member.name}]", *key, f.read())
    except _TAR_ERRORS as e:
        raise InputError(archive, f"truncated or corrupt archive: {e}") from None


def parse_response(resp: Response) -> list[tuple]:
    """Rows of one ChatCompletion response, validated."""
    loc = Loc(resp.where)
    obj = json_object(resp.data, loc)
    model = require(obj, "model", str, loc)
    rows, seen = [], set()
    for i, choice in enumerate(require(obj, "choices", list, loc)):
        at = f"choices[{i}]"
        if not isinstance(choice, dict):
            raise loc.error("expected an object", at)
        index = require(choice, "index", int, loc, f"{at}.index")
        if not 0 <= index < 2**15 or index in seen:
            raise loc.error(f"index {index} is out of range or repeated", f"{at}.index")
        seen.add(index)
        message = require(choice, "message", dict, loc, f"{at}.message")
        text = require(message, "content", str, loc, f"{at}.message.content")
        finish = choice.get("finish_reason")  # optional: null while a response is streamed
        if finish is not None and not isinstance(finish, str):
            raise loc.error(f"expected a string, got {type_name(finish)}", f"{at}.finish_reason")
        rows.append((resp.question_id, resp.split, index, text, model, finish))
    return rows


def prepare(raw_dir: Path, out_dir: Path, bad: BadRows, *, task: str = "medqa") -> dict:
    """Write rationales.parquet sorted by (split, question_id, rationale_id)."""
    files = _from_tree(raw_dir, task)
    if files:
        responses = _read_tree(files, raw_dir, task)
        source = f"{len(files)} files under {raw_dir}"
    else:
        archive = find_input(raw_dir, ARCHIVE, required=False)
        if archive is None:
            raise InputError(raw_dir, f"no {task}/<split>/<question_id>.json files and no {ARCHIVE}")
        responses = _read_archive(archive, task)
        source = str(archive)
    rows: list[tuple] = []
    seen: set[tuple[str, str]] = set()
    for resp in tqdm(responses, desc="rationales", unit=" files", leave=False, disable=None):
        try:
            if (resp.split, resp.question_id) in seen:
                raise Loc(resp.where).error(f"a second response for {task}/{resp.split}/{resp.question_id}")
            rows.extend(parse_response(resp))
            seen.add((resp.split, resp.question_id))
        except InputError as err:
            bad(err, key=f"{task}/{resp.split}")
    rows.sort(key=lambda r: (r[1], r[0], r[2]))
    table = rows_table(rows, SCHEMA)
    write_parquet(table, out_dir / "rationales.parquet")
    log.info("rationales: %d rationales from %d responses (%s)", table.num_rows, len(seen), source)
    per_split = Counter(r[1] for r in rows)
    return {"responses": len(seen), "rationales": table.num_rows,
            **{f"{split}_rationales": n for split, n in sorted(per_split.items())}}
