"""prepare@medqa: MedQA-USMLE JSON lines -> per-split Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kg_ml.errors import InputError
from kg_ml.sources import prepare_source


def record(answer_idx: str = "B", n: int = 4, **over) -> dict:
    options = {k: f"option {k}" for k in "ABCDE"[:n]}
    rec = {"question": "Which?", "answer": options.get(answer_idx, "x"), "options": options,
           "meta_info": "stfep2&3", "answer_idx": answer_idx, "metamap_phrases": ["ignored"]}
    rec.update(over)
    return rec


def write_split(raw: Path, split: str, records: list, eol: str = "\n") -> Path:
    raw.mkdir(exist_ok=True)
    path = raw / f"phrases_no_exclude_{split}.jsonl"
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_bytes((eol.join(lines) + eol).encode())
    return path


def test_happy_path_rows_and_metrics(tmp_path: Path):
    raw = tmp_path / "raw"
    write_split(raw, "train", [record("B"), record("D", question="Second?")])
    write_split(raw, "test", [record("A")], eol="\r\n")
    metrics = prepare_source("medqa", raw, tmp_path / "out")
    assert metrics == {"train_rows": 2, "train_options": 4, "test_rows": 1, "test_options": 4}
    rows = pq.read_table(tmp_path / "out" / "train.parquet").to_pylist()
    assert rows[0] == {"id": "train-00000", "question": "Which?",
                       "options": ["option A", "option B", "option C", "option D"],
                       "label": 1, "answer": "option B", "meta_info": "stfep2&3", "split": "train"}
    assert rows[1]["id"] == "train-00001" and rows[1]["label"] == 3
    assert pq.read_table(tmp_path / "out" / "test.parquet").to_pylist()[0]["label"] == 0
    assert not (tmp_path / "out" / "dev.parquet").exists()
    schema = pq.read_schema(tmp_path / "out" / "train.parquet")
    assert str(schema.field("label").type) == "int8"


def test_five_option_release(tmp_path: Path):
    raw = tmp_path / "raw"
    write_split(raw, "dev", [record("E", n=5)])
    assert prepare_source("medqa", raw, tmp_path / "out")["dev_options"] == 5
    row = pq.read_table(tmp_path / "out" / "dev.parquet").to_pylist()[0]
    assert row["options"][-1] == "option E" and row["label"] == 4


@pytest.mark.parametrize("bad, line, field, message", [
    ("{not json", 2, None, "invalid JSON"),
    (json.dumps(record(answer_idx="F")), 2, "answer_idx", "not one of the options"),
    (json.dumps(record(answer="something else")), 2, "answer", "differs from options"),
    (json.dumps({k: v for k, v in record().items() if k != "question"}), 2, "question", "missing"),
    (json.dumps(record(meta_info=3)), 2, "meta_info", "expected a string, got int"),
    (json.dumps(record("E", n=5)), 2, "options", "5 options, but earlier rows of this file have 4"),
    (json.dumps(record(options={"A": "a", "C": "c"})), 2, "options", "expected keys A, B"),
    ("[1, 2]", 2, None, "expected a JSON object"),
])
def test_bad_rows_name_file_line_field(tmp_path: Path, bad: str, line: int, field: str | None, message: str):
    raw = tmp_path / "raw"
    path = write_split(raw, "train", [record(), bad, record()])
    with pytest.raises(InputError) as err:
        prepare_source("medqa", raw, tmp_path / "out")
    assert (err.value.path, err.value.line, err.value.field) == (str(path), line, field)
    assert message in err.value.message
    assert not (tmp_path / "out").exists()


def test_lenient_skips_and_counts_per_file(tmp_path: Path):
    raw = tmp_path / "raw"
    write_split(raw, "train", [record(), "{oops", record(answer_idx="Z"), "", record()])
    write_split(raw, "dev", [record()])
    metrics = prepare_source("medqa", raw, tmp_path / "out", strict=False)
    assert metrics["train_rows"] == 2 and metrics["dev_rows"] == 1
    assert metrics["skipped_rows"] == 2
    assert metrics["skipped_rows.phrases_no_exclude_train.jsonl"] == 2
    ids = pq.read_table(tmp_path / "out" / "train.parquet").column("id").to_pylist()
    assert ids == ["train-00000", "train-00004"]  # ids keep the file's line index


def test_deterministic_bytes(tmp_path: Path):
    raw = tmp_path / "raw"
    write_split(raw, "train", [record(), record("C")])
    prepare_source("medqa", raw, tmp_path / "a")
    prepare_source("medqa", raw, tmp_path / "b")
    assert (tmp_path / "a" / "train.parquet").read_bytes() == (tmp_path / "b" / "train.parquet").read_bytes()
