"""prepare@medqa: MedQA-USMLE JSON lines -> per-split Parquet."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kg_ml.errors import ConfigError, InputError
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
    (json.dumps(record(question="")), 2, "question", "empty"),
    (json.dumps(record(question=" \t\n")), 2, "question", "empty"),
    (json.dumps(record(options={"A": "option A", "B": "option B", "C": " ", "D": "option D"})),
     2, "options.C", "empty"),
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
    write_split(raw, "train", [record(), "{oops", record(answer_idx="Z"), "", record(question=" "), record()])
    write_split(raw, "dev", [record()])
    metrics = prepare_source("medqa", raw, tmp_path / "out", strict=False)
    assert metrics["train_rows"] == 2 and metrics["dev_rows"] == 1
    assert metrics["skipped_rows"] == 3
    assert metrics["skipped_rows.phrases_no_exclude_train.jsonl"] == 3
    ids = pq.read_table(tmp_path / "out" / "train.parquet").column("id").to_pylist()
    assert ids == ["train-00000", "train-00005"]  # ids keep the file's line index


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("text", ["", "\n\r\n  \n"])
def test_file_without_records_is_an_error(tmp_path: Path, text: str, strict: bool):
    raw = tmp_path / "raw"
    write_split(raw, "train", [record()])
    path = raw / "phrases_no_exclude_dev.jsonl"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        prepare_source("medqa", raw, tmp_path / "out", strict=strict)
    assert str(err.value) == f"{path}: no records"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name, split, table", [
    ("us_test.jsonl", None, "test"),  # the split its name names
    ("phrases_no_exclude_dev.jsonl", None, "dev"),
    ("US.Train.jsonl.gz", None, "train"),
    ("mine.jsonl", "dev", "dev"),  # named by --split
    ("us_test.jsonl", "train", "train"),  # --split wins over the name
])
def test_single_file_of_any_name(tmp_path: Path, name: str, split: str | None, table: str):
    path = tmp_path / name
    data = (json.dumps(record()) + "\n").encode()
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    metrics = prepare_source("medqa", path, tmp_path / "out", split=split)
    assert metrics == {f"{table}_rows": 1, f"{table}_options": 4}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{table}.parquet"]
    assert pq.read_table(tmp_path / "out" / f"{table}.parquet").column("id").to_pylist() == [f"{table}-00000"]


@pytest.mark.parametrize("name, split, message", [
    ("us.jsonl", None, r"us.jsonl: the file name does not say which split it is \(train, dev, test\); "
                       r"pass --split$"),
    ("train_and_test.jsonl", None, "pass --split"),  # names two splits
    ("us.jsonl", "valid", "--split valid: expected one of train, dev, test"),
])
def test_single_file_split_unknown(tmp_path: Path, name: str, split: str | None, message: str):
    path = write_split(tmp_path, "train", [record()]).rename(tmp_path / name)
    with pytest.raises(ConfigError, match=message):
        prepare_source("medqa", path, tmp_path / "out", split=split)
    assert not (tmp_path / "out").exists()


def test_single_file_errors_and_counts_name_the_file(tmp_path: Path):
    path = tmp_path / "us_test.jsonl"
    path.write_text(json.dumps(record()) + "\n" + json.dumps(record(question="")) + "\n")
    with pytest.raises(InputError) as err:
        prepare_source("medqa", path, tmp_path / "out")
    assert str(err.value) == f"{path}:2: field 'question': empty"
    assert not (tmp_path / "out").exists()
    metrics = prepare_source("medqa", path, tmp_path / "out", strict=False)
    assert metrics == {"test_rows": 1, "test_options": 4, "skipped_rows": 1, "skipped_rows.us_test.jsonl": 1}
    path.write_text("")
    with pytest.raises(InputError, match=f"^{path}: no records$"):
        prepare_source("medqa", path, tmp_path / "out2")


def test_deterministic_bytes(tmp_path: Path):
    raw = tmp_path / "raw"
    write_split(raw, "train", [record(), record("C")])
    prepare_source("medqa", raw, tmp_path / "a")
    prepare_source("medqa", raw, tmp_path / "b")
    assert (tmp_path / "a" / "train.parquet").read_bytes() == (tmp_path / "b" / "train.parquet").read_bytes()
