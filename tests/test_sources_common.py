"""Shared source plumbing: line reading (plain, gzip, CRLF), truncation, bad-row policy, registry."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from kg_ml.errors import ConfigError, InputError
from kg_ml.sources import SOURCES, prepare_source, source_options
from kg_ml.sources.common import (BadRows, Loc, block_lines, find_input, iter_blocks, iter_lines, require,
                                  require_text, split_inputs, split_named, stand_in_name)


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


def test_split_inputs_needs_one_of_the_files(tmp_path: Path):
    files = {"train": "a_train.txt", "dev": "a_dev.txt"}
    with pytest.raises(InputError, match=r"a_train.txt: missing input file"):
        split_inputs(tmp_path, files, "src")
    (tmp_path / "a_dev.txt.gz").write_bytes(b"")
    assert split_inputs(tmp_path, files, "src") == {"dev": tmp_path / "a_dev.txt.gz"}


@pytest.mark.parametrize("name, split", [
    ("us_test.jsonl", "test"),
    ("phrases_no_exclude_train.jsonl.gz", "train"),
    ("MedQA-Dev.jsonl", "dev"),
    ("contest.jsonl", None),  # only whole words count
    ("train_test.jsonl", None),  # two splits: ambiguous
    ("us.jsonl", None),
])
def test_split_named(name: str, split: str | None):
    assert split_named(name, ("train", "dev", "test")) == split


def test_stand_in_name():
    files = {"train": "q_train.txt", "test": "q_test.txt"}
    assert stand_in_name(Path("x/us_test.txt"), files) == "q_test.txt"
    assert stand_in_name(Path("x/mine.txt.gz"), files, "train") == "q_train.txt.gz"  # gzip kept
    assert stand_in_name(Path("x/mine.csv"), "edges.csv") == "edges.csv"
    assert stand_in_name(Path("x/mine.tgz.gz"), "a.tar.gz") == "a.tar.gz"
    with pytest.raises(ConfigError, match=r"x/mine.txt: .*\(train, test\); pass --split"):
        stand_in_name(Path("x/mine.txt"), files)
    with pytest.raises(ConfigError, match="expected one of train, test"):
        stand_in_name(Path("x/mine.txt"), files, "dev")
    with pytest.raises(ConfigError, match="no per-split input files"):
        stand_in_name(Path("x/mine.csv"), "edges.csv", "train")


def test_split_is_for_a_single_file_only(tmp_path: Path):
    with pytest.raises(ConfigError, match="only for a single input file"):
        prepare_source("medqa", tmp_path, tmp_path / "out", split="test")


def test_single_file_errors_name_the_users_folder(tmp_path: Path):
    """A source that needs several files: the missing one is named next to the user's file."""
    path = tmp_path / "triples.txt"
    path.write_text("Q1\tP1\tQ2\n")
    with pytest.raises(InputError) as err:
        prepare_source("wikidata5m", path, tmp_path / "out")
    assert err.value.path.startswith(f"{tmp_path}/wikidata5m_")
    assert "missing input file" in err.value.message


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
    assert require_text({"a": " x "}, "a", loc) == " x "  # kept verbatim
    with pytest.raises(InputError, match=r"^f.jsonl:7: field 'o.A': empty$"):
        require_text({"A": "\t "}, "A", loc, "o.A")


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
