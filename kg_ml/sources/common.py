"""Shared plumbing for the source parsers: locating inputs (a raw directory, or a single file
standing in for one of its files), reading numbered lines from plain or gzip files, the
strict/lenient bad-row policy, field validation and batched Parquet writing."""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from tqdm import tqdm

from kg_ml.errors import ConfigError, InputError
from kg_ml.io import ParquetSink

log = logging.getLogger(__name__)

BATCH_ROWS = 64 * 1024
BLOCK_BYTES = 4 << 20
GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)
_LOGGED_PER_FILE = 5

T = TypeVar("T")
R = TypeVar("R")


# ---------------------------------------------------------------------------------------------
# Locating and opening inputs


def find_input(raw_dir: Path, name: str, *, required: bool = True) -> Path | None:
    """``raw_dir/name``, else ``raw_dir/name.gz``, else the one file of that name below ``raw_dir``
    (archives are sometimes packed with a top-level folder)."""
    for candidate in (raw_dir / name, raw_dir / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    found = sorted(p for n in (name, f"{name}.gz") for p in raw_dir.rglob(n) if p.is_file())
    if len(found) > 1:
        raise InputError(raw_dir, f"several candidates for {name}: {', '.join(map(str, found))}")
    if found:
        return found[0]
    if required:
        raise InputError(raw_dir / name, "missing input file (plain or .gz); run download first")
    return None


def split_inputs(raw_dir: Path, files: Mapping[str, str], source: str) -> dict[str, Path]:
    """The per-split files present (``files``: split -> name), at least one; an absent split is
    skipped with a warning."""
    paths = {split: find_input(raw_dir, name, required=False) for split, name in files.items()}
    if not any(paths.values()):
        find_input(raw_dir, next(iter(files.values())))  # raises the missing-file error
    for split, path in paths.items():
        if path is None:
            log.warning("%s: no %s file in %s; skipping that split", source, split, raw_dir)
    return {split: path for split, path in paths.items() if path is not None}


def split_named(name: str, splits: Iterable[str]) -> str | None:
    """The split a file name names as a word (``us_test.jsonl`` -> ``test``); None for none or
    several."""
    words = set(re.split(r"[^a-z0-9]+", name.lower()))
    found = [split for split in splits if split in words]
    return found[0] if len(found) == 1 else None


def stand_in_name(path: Path, names: str | Mapping[str, str], split: str | None = None) -> str:
    """The raw file name a single input file ``path`` is prepared as: ``names`` itself, or for a
    source with a file per split (``names``: split -> name) that of ``split``, by default the
    split ``path``'s name names. Keeps a ``.gz`` suffix, which is how gzip is detected."""
    if isinstance(names, str):
        if split is not None:
            raise ConfigError(f"--split {split}: this source has no per-split input files")
        name = names
    else:
        choices = ", ".join(names)
        if split is None and (split := split_named(path.name, names)) is None:
            raise ConfigError(f"{path}: the file name does not say which split it is ({choices}); "
                              "pass --split")
        if split not in names:
            raise ConfigError(f"--split {split}: expected one of {choices}")
        name = names[split]
    return f"{name}.gz" if path.name.endswith(".gz") and not name.endswith(".gz") else name


def truncated_gzip(path: Path | str, line: int) -> InputError:
    return InputError(path, "truncated or corrupt gzip stream", line=line)


@contextmanager
def open_binary(path: Path) -> Iterator[tuple[BinaryIO, BinaryIO]]:
    """Yield ``(stream, raw)``: the decompressed byte stream and the underlying file (whose
    position tracks progress). ``.gz`` is detected by suffix."""
    with open(path, "rb") as raw:
        if path.suffix == ".gz":
            with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
                yield gz, raw
        else:
            yield raw, raw


def _progress(path: Path, desc: str | None) -> tqdm:
    return tqdm(total=os.path.getsize(path), unit="B", unit_scale=True, unit_divisor=1024,
                desc=desc or path.name, leave=False, disable=None)


def iter_blocks(path: Path, *, block_bytes: int = BLOCK_BYTES,
                desc: str | None = None) -> Iterator[tuple[int, bytes]]:
    """Yield ``(first_line_number, block)``: blocks of whole lines (1-based numbering).

    Every block but possibly the last ends with ``\\n``. A truncated or corrupt gzip stream
    raises :class:`InputError` at the first line not yet yielded.
    """
    next_line = 1
    carry = b""
    with open_binary(path) as (stream, raw), _progress(path, desc) as bar:
        while True:
            try:
                chunk = stream.read(block_bytes)
            except GZIP_ERRORS:
                raise truncated_gzip(path, next_line) from None
            bar.update(raw.tell() - bar.n)
            if not chunk:
                break
            cut = chunk.rfind(b"\n")
            if cut < 0:
                carry += chunk
                continue
            block, carry = carry + chunk[: cut + 1], chunk[cut + 1:]
            yield next_line, block
            next_line += block.count(b"\n")
    if carry:
        yield next_line, carry


def split_block(block: bytes) -> list[bytes]:
    """The lines of a block without their ``\\n`` or ``\\r\\n`` endings."""
    lines = block.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    if b"\r" in block:
        lines = [ln[:-1] if ln.endswith(b"\r") else ln for ln in lines]
    return lines


def block_lines(block: bytes) -> pa.Array | None:
    """The block's lines as one Arrow string array (endings removed), parsed in C++; None when
    that would not match :func:`split_block` line for line (a lone CR, a 0x1F byte, bad UTF-8):
    callers then fall back to the Python line loop, which also names the bad line."""
    expected = block.count(b"\n") + (not block.endswith(b"\n"))
    try:
        table = pacsv.read_csv(
            pa.BufferReader(block),
            read_options=pacsv.ReadOptions(column_names=["line"], use_threads=False,
                                           block_size=len(block) + 1),
            # 0x1F (unit separator) as delimiter: each line is one field; quoting off
            parse_options=pacsv.ParseOptions(delimiter="\x1f", quote_char=False, escape_char=False,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={"line": pa.string()}),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    return table.column("line").combine_chunks() if table.num_rows == expected else None


def iter_lines(path: Path, *, desc: str | None = None) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line_number, line)`` for every line (bytes, line ending removed), 1-based."""
    for first, block in iter_blocks(path, desc=desc):
        yield from enumerate(split_block(block), first)


def rows_table(rows: Sequence[tuple], schema: pa.Schema) -> pa.Table:
    """Row tuples (in schema order) -> an Arrow table."""
    columns = list(zip(*rows)) or [()] * len(schema)
    return pa.table([pa.array(col, type=f.type) for col, f in zip(columns, schema)], schema=schema)


def iter_tables(path: Path, schema: pa.Schema, bad: BadRows, *,
                fast: Callable[[bytes], pa.Table | None],
                slow: Callable[[tuple[int, bytes]], tuple | None],
                desc: str | None = None) -> Iterator[tuple[pa.Table, np.ndarray]]:
    """Parse a line-oriented file a block at a time; yield each block's rows and line numbers.

    ``fast(block)`` parses a whole block vectorised and returns None when the block needs a
    closer look; then ``slow((line_number, line))`` parses it line by line (None: blank line;
    InputError: a bad row, handled by ``bad``).
    """
    def numbered(item: tuple[int, bytes]) -> tuple[int, tuple] | None:
        row = slow(item)
        return None if row is None else (item[0], row)

    for first, block in iter_blocks(path, desc=desc):
        table = fast(block)
        if table is not None:
            yield table.cast(schema), np.arange(first, first + table.num_rows, dtype=np.int64)
            continue
        parsed = list(bad.parse(enumerate(split_block(block), first), numbered))
        lines = np.fromiter((n for n, _ in parsed), dtype=np.int64, count=len(parsed))
        yield rows_table([row for _, row in parsed], schema), lines


@contextmanager
def open_text(path: Path, line_of: Callable[[], int]) -> Iterator[io.TextIOWrapper]:
    """A UTF-8 text stream (newline='' as the csv module wants); decompression and decoding
    failures become :class:`InputError` at ``line_of()``."""
    with open_binary(path) as (stream, _raw):
        text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
        try:
            yield text
        except GZIP_ERRORS:
            raise truncated_gzip(path, line_of()) from None
        except UnicodeDecodeError as e:
            raise InputError(path, f"invalid UTF-8: {e.reason}", line=line_of()) from None
        finally:
            text.detach()


# ---------------------------------------------------------------------------------------------
# Bad rows and validation


class Loc(NamedTuple):
    """Where a row came from: builds :class:`InputError` for it (a tuple: cheap per row)."""

    path: str
    line: int | None = None

    def error(self, message: str, field: str | None = None) -> InputError:
        return InputError(self.path, message, line=self.line, field=field)


class BadRows:
    """The bad-row policy: strict raises the first row's error; lenient counts it per file,
    logs it (the first few per file) and lets the caller skip the row.

    ``stand_in``: ``(link, file)`` when raw_dir is a temporary directory holding only ``link``
    to the user's single input ``file``; errors and counts then name ``file``.
    """

    def __init__(self, strict: bool, raw_dir: Path, *, stand_in: tuple[Path, Path] | None = None) -> None:
        self.strict = strict
        self.raw_dir = raw_dir
        self.stand_in = stand_in
        self.counts: Counter[str] = Counter()

    def __call__(self, err: InputError, key: str | None = None) -> None:
        """Raise ``err`` (strict) or count it under ``key`` (default: its file, relative to raw_dir)."""
        err = self.shown(err)
        if self.strict:
            raise err
        key = key or self._key(err.path)
        self.counts[key] += 1
        if self.counts[key] <= _LOGGED_PER_FILE:
            log.warning("skipping bad row: %s", err)
        elif self.counts[key] == _LOGGED_PER_FILE + 1:
            log.warning("%s: more bad rows; only their count is reported", key)

    def shown(self, err: InputError) -> InputError:
        """``err`` naming the user's file (and its folder) instead of the stand-in link (and the
        temporary directory); ``err`` itself when there is nothing to rename."""
        if self.stand_in is None:
            return err
        link, file = self.stand_in
        for temporary, real in ((link, file), (self.raw_dir, file.parent)):
            prefix = str(temporary)
            rest = err.path[len(prefix):]
            # rest: "" (the link), "/name" (in the directory) or "[member]" (in an archive)
            if err.path.startswith(prefix) and rest[:1] in ("", os.sep, "["):
                return InputError(f"{real}{rest}", err.message, line=err.line, field=err.field)
        return err

    def _key(self, path: str) -> str:
        try:
            return Path(path).relative_to(self.raw_dir).as_posix()
        except ValueError:
            return Path(path).name

    def metrics(self) -> dict[str, int]:
        """``skipped_rows`` (total) and ``skipped_rows.<file>`` per file; empty when strict."""
        if self.strict:
            return {}
        out = {"skipped_rows": sum(self.counts.values())}
        out.update({f"skipped_rows.{k}": n for k, n in sorted(self.counts.items())})
        return out

    def parse(self, items: Iterable[T], parse: Callable[[T], R | None]) -> Iterator[R]:
        """Apply ``parse`` to each item; bad ones (InputError) go through the policy. Errors from
        iterating ``items`` itself (e.g. a truncated file) are never skipped."""
        for item in items:
            try:
                result = parse(item)
            except InputError as err:
                self(err)
                continue
            if result is not None:
                yield result


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", list: "a list", dict: "an object"}


def type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def require(obj: dict, key: str, typ: type | tuple[type, ...], loc: Loc, field: str | None = None,
            *, nullable: bool = False) -> Any:
    """``obj[key]`` checked to be of ``typ`` (bool is not an int here); else InputError."""
    field = field or key
    if key not in obj:
        raise loc.error("missing", field)
    value = obj[key]
    if value is None and nullable:
        return None
    types = typ if isinstance(typ, tuple) else (typ,)
    if isinstance(value, bool) and bool not in types or not isinstance(value, types):
        want = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)
        raise loc.error(f"expected {want}, got {type_name(value)}", field)
    return value


def require_text(obj: dict, key: str, loc: Loc, field: str | None = None) -> str:
    """``obj[key]``: a string with more than whitespace in it; else InputError."""
    value = require(obj, key, str, loc, field)
    if not value.strip():
        raise loc.error("empty", field or key)
    return value


def parse_json(raw: bytes | str, loc: Loc, field: str | None = None) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise loc.error(f"invalid JSON: {e}", field) from None


def json_object(raw: bytes | str, loc: Loc) -> dict:
    """One JSON object (a JSON-lines record)."""
    obj = parse_json(raw, loc)
    if not isinstance(obj, dict):
        raise loc.error(f"expected a JSON object, got {type_name(obj)}")
    return obj


def decode(raw: bytes, loc: Loc) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise loc.error(f"invalid UTF-8 at byte {e.start}") from None


def tab_fields(raw: bytes, loc: Loc, n: int | None = None, *, names: Sequence[str] = ()) -> list[str]:
    """Split a tab-separated line; with ``n``, exactly that many fields."""
    fields = decode(raw, loc).split("\t")
    if n is not None and len(fields) != n:
        cols = f" ({', '.join(names)})" if names else ""
        raise loc.error(f"expected {n} tab-separated fields{cols}, got {len(fields)}")
    return fields


# ---------------------------------------------------------------------------------------------
# Writing


class TableWriter:
    """Collect rows (tuples in schema order) and stream them into a Parquet file in batches."""

    def __init__(self, path: Path, schema: pa.Schema, *, batch_rows: int = BATCH_ROWS) -> None:
        self.schema = schema
        self.batch_rows = batch_rows
        self._rows: list[tuple] = []
        self._sink = ParquetSink(path, schema)
        self.count = 0

    def add(self, row: tuple) -> None:
        self._rows.append(row)
        if len(self._rows) >= self.batch_rows:
            self.flush()

    def write(self, table: pa.Table) -> None:
        """Append a table directly (after any buffered rows)."""
        self.flush()
        self._sink.write(table)
        self.count += table.num_rows

    def flush(self) -> None:
        if not self._rows:
            return
        self._sink.write(rows_table(self._rows, self.schema))
        self.count += len(self._rows)
        self._rows = []

    def close(self) -> int:
        self.flush()
        self._sink.close()
        return self.count

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:  # the atomic output dir is discarded anyway; just release the file
            self._sink.close()
