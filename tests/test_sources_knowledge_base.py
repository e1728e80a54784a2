"""prepare@knowledge_base: DPR passages TSV (csv-quoted) -> passages Parquet."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kg_ml.errors import InputError
from kg_ml.sources import prepare_source

DPR = (
    'id\ttext\ttitle\n'
    '1\t"Aaron Aaron ( or ; ""Ahärôn"") is a prophet"\tAaron\n'
    '2\tplain text, no quotes\t"""Weird Al"" Yankovic"\n'
    '3\t"spans\ntwo lines"\tMulti\n'
    '4\tlast\tEnd\n'
)


def write(raw: Path, text: str, *, gz: bool = True) -> Path:
    raw.mkdir(exist_ok=True)
    path = raw / ("psgs_w100.tsv.gz" if gz else "psgs_w100.tsv")
    path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    return path


@pytest.mark.parametrize("gz", [True, False])
def test_dpr_quoting(tmp_path: Path, gz: bool):
    write(tmp_path / "raw", DPR, gz=gz)
    assert prepare_source("knowledge_base", tmp_path / "raw", tmp_path / "out") == {"passages": 4}
    assert pq.read_table(tmp_path / "out" / "passages.parquet").to_pylist() == [
        {"id": "1", "title": "Aaron", "text": 'Aaron Aaron ( or ; "Ahärôn") is a prophet'},
        {"id": "2", "title": '"Weird Al" Yankovic', "text": "plain text, no quotes"},
        {"id": "3", "title": "Multi", "text": "spans\ntwo lines"},
        {"id": "4", "title": "End", "text": "last"},
    ]


def test_crlf(tmp_path: Path):
    write(tmp_path / "raw", "id\ttext\ttitle\r\n1\thello\tT\r\n")
    prepare_source("knowledge_base", tmp_path / "raw", tmp_path / "out")
    assert pq.read_table(tmp_path / "out" / "passages.parquet").to_pylist() == [
        {"id": "1", "title": "T", "text": "hello"}]


@pytest.mark.parametrize("row, line, field, message", [
    ("9\tonly two\n", 7, None, "expected 3 tab-separated fields (id, text, title), got 2"),
    ('9\t"bad "quote\tT\n', 7, None, "malformed CSV"),
    ("\ttext\tT\n", 7, "id", "empty passage id"),
])
def test_bad_rows(tmp_path: Path, row: str, line: int, field: str | None, message: str):
    path = write(tmp_path / "raw", DPR + row + "10\tafter\tT\n")  # DPR: 6 physical lines
    with pytest.raises(InputError) as err:
        prepare_source("knowledge_base", tmp_path / "raw", tmp_path / "out")
    assert (err.value.path, err.value.line, err.value.field) == (str(path), line, field)
    assert message in err.value.message
    metrics = prepare_source("knowledge_base", tmp_path / "raw", tmp_path / "out", strict=False)
    assert metrics == {"passages": 5, "skipped_rows": 1, "skipped_rows.psgs_w100.tsv.gz": 1}


def test_header_required(tmp_path: Path):
    write(tmp_path / "raw", "1\ttext\ttitle\n")
    with pytest.raises(InputError) as err:
        prepare_source("knowledge_base", tmp_path / "raw", tmp_path / "out", strict=False)
    assert (err.value.line, err.value.field) == (1, "header")


def test_truncated_gzip(tmp_path: Path):
    body = "".join(f"{i}\tpassage {i} text\tT{i}\n" for i in range(20000))
    path = write(tmp_path / "raw", "id\ttext\ttitle\n" + body)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(InputError, match="truncated or corrupt gzip stream"):
        prepare_source("knowledge_base", tmp_path / "raw", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_deterministic_bytes(tmp_path: Path):
    write(tmp_path / "raw", DPR)
    prepare_source("knowledge_base", tmp_path / "raw", tmp_path / "a")
    prepare_source("knowledge_base", tmp_path / "raw", tmp_path / "b")
    a, b = (tmp_path / d / "passages.parquet" for d in "ab")
    assert a.read_bytes() == b.read_bytes()


def test_single_file_of_any_name(tmp_path: Path):
    path = write(tmp_path / "raw", DPR).rename(tmp_path / "my_passages.tsv.gz")
    assert prepare_source("knowledge_base", path, tmp_path / "out") == {"passages": 4}
