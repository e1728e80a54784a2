"""Shared source plumbing: line reading (plain, gzip, CRLF), truncation, bad-row policy, registry."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from kg_ml.errors import ConfigError, InputError
from kg_ml.sources import SOURCES, prepare_source, source_options
from kg_ml.sources.common import BadRows, Loc, block_lines, find_input, iter_blocks, iter_lines, require


def test_registry_names_every_source():
    assert set(SOURCES) >= {"hotpotqa", "wikidata5m", "medqa", "conceptnet", "medical_kg",
                            "knowledge_base", "rationales"}
    assert source_options("conceptnet") == ["sense_quirk"]


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_iter_lines_plain_gzip_and_crlf(tmp_path: Path, suffix: str, eol: str):
    data = eol.join(["a\tb", "", "c\rd", "last"]).encode()  # no final newline; a lone CR stays
    path = tmp_path / f"f.txt{suffix}"
    path.write_bytes(gzip.compress(data) if suffix else data)
    assert list(iter_lines(path)) == [(1, b"a\tb"), (2, b""), (3, b"c\rd"), (4, b"last")]


def test_iter_blocks_cut_at_line_boundaries(tmp_path: Path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"".join(b"line %d\n" % i for i in range(1, 101)))
    blocks = list(iter_blocks(path, block_bytes=64))
    assert all(b.endswith(b"\n") for _, b in blocks)
    assert b"".join(b for _, b in blocks) == path.read_bytes()
    firsts = [first for first, _ in blocks]
    counts = [b.count(b"\n") for _, b in blocks]
    assert firsts == [1 + sum(counts[:i]) for i in range(len(blocks))]


def test_truncated_gzip_names_first_unread_line(tmp_path: Path):
    path = tmp_path / "f.txt.gz"
    full = gzip.compress(b"".join(b"row %d padding padding\n" % i for i in range(200_000)))
    path.write_bytes(full[: len(full) // 2])
    seen = 0
    with pytest.raises(InputError) as err:
        for seen, _ in iter_lines(path):
            pass
    assert err.value.message == "truncated or corrupt gzip stream"
    assert err.value.line == seen + 1
    assert str(err.value).startswith(f"{path}:{seen + 1}: ")


def test_block_lines_matches_split_or_declines():
    assert block_lines(b"a\tb\r\nc\n").to_pylist() == ["a\tb", "c"]
    assert block_lines(b"a\n\nb").to_pylist() == ["a", "", "b"]
    assert block_lines(b"a\rb\n") is None  # Arrow would split at the lone CR
    assert block_lines(b"\xff\n") is None


def test_find_input_plain_gz_and_nested(tmp_path: Path):
    (tmp_path / "a.txt.gz").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_bytes(b"")
    assert find_input(tmp_path, "a.txt") == tmp_path / "a.txt.gz"
    assert find_input(tmp_path, "b.txt") == tmp_path / "sub" / "b.txt"
    assert find_input(tmp_path, "c.txt", required=False) is None
    with pytest.raises(InputError, match="missing input file"):
        find_input(tmp_path, "c.txt")


def test_bad_rows_strict_raises_lenient_counts(tmp_path: Path):
    err = InputError(tmp_path / "x" / "f.jsonl", "boom", line=3, field="q")
    with pytest.raises(InputError):
        BadRows(True, tmp_path)(err)
    assert BadRows(True, tmp_path).metrics() == {}
    bad = BadRows(False, tmp_path)
    bad(err)
    bad(err)
    bad(InputError(tmp_path / "g.txt", "x"))
    assert bad.metrics() == {"skipped_rows": 3, "skipped_rows.g.txt": 1, "skipped_rows.x/f.jsonl": 2}


def test_require_checks_presence_and_type():
    loc = Loc("f.jsonl", 7)
    assert require({"a": "x"}, "a", str, loc) == "x"
    with pytest.raises(InputError, match=r"f.jsonl:7: field 'a': missing"):
        require({}, "a", str, loc)
    with pytest.raises(InputError, match=r"field 'n': expected an integer, got bool"):
        require({"n": True}, "n", int, loc)


def test_prepare_source_rejects_unknown_source_and_option(tmp_path: Path):
    with pytest.raises(ConfigError, match="unknown source"):
        prepare_source("nope", tmp_path, tmp_path / "out")
    with pytest.raises(ConfigError, match="sense_quirk"):
        prepare_source("conceptnet", tmp_path, tmp_path / "out", sense_qurk=True)


def test_failed_prepare_leaves_no_output(tmp_path: Path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "phrases_no_exclude_test.jsonl").write_text("{not json\n")
    with pytest.raises(InputError):
        prepare_source("medqa", raw, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]
