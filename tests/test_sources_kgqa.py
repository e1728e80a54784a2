"""KGQA (MetaQA format) parsing."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from kg_ml.errors import ConfigError, InputError
from kg_ml.sources import prepare_source


def _write(tmp_path, text: str):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "qa_train.txt").write_text(text)
    return raw


def test_metaqa_lines_become_rows(tmp_path) -> None:
    raw = _write(tmp_path, "where was [Ann Berg] born\tOslo\r\nwho founded [A|B Corp]\tAnn Berg|Bo Lin\n")
    metrics = prepare_source("kgqa", raw, tmp_path / "out")
    rows = pq.read_table(tmp_path / "out" / "train.parquet").to_pylist()
    assert metrics == {"train_rows": 2}
    assert rows[0] == {"id": "train-00000", "question": "where was [Ann Berg] born",
                       "topic_entity": "Ann Berg", "answers": ["Oslo"], "split": "train"}
    assert rows[1]["topic_entity"] == "A|B Corp" and rows[1]["answers"] == ["Ann Berg", "Bo Lin"]


@pytest.mark.parametrize(("line", "field"), [
    ("where was Ann born\tOslo\n", "question"),
    ("where was [Ann] born\tOslo|\n", "answers"),
])
def test_bad_lines_name_line_and_field(tmp_path, line, field) -> None:
    raw = _write(tmp_path, "where was [Bo] born\tRiga\n" + line)
    with pytest.raises(InputError) as e:
        prepare_source("kgqa", raw, tmp_path / "out")
    assert e.value.line == 2 and e.value.field == field
    assert not (tmp_path / "out").exists()


def test_missing_tab_is_reported(tmp_path) -> None:
    raw = _write(tmp_path, "where was [Bo] born Riga\n")
    with pytest.raises(InputError, match="expected 2 tab-separated fields"):
        prepare_source("kgqa", raw, tmp_path / "out")


def test_lenient_mode_counts_skipped_lines(tmp_path) -> None:
    raw = _write(tmp_path, "no topic here\tX\nwhere was [Bo] born\tRiga\n")
    metrics = prepare_source("kgqa", raw, tmp_path / "out", strict=False)
    assert metrics["train_rows"] == 1 and metrics["skipped_rows"] == 1


def test_any_one_split_file_is_enough(tmp_path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "qa_dev.txt").write_text("where was [Bo] born\tRiga\n")
    assert prepare_source("kgqa", raw, tmp_path / "out") == {"dev_rows": 1}


def test_single_file_takes_its_split_from_name_or_flag(tmp_path) -> None:
    path = tmp_path / "metaqa_1hop_test.txt"
    path.write_text("where was [Bo] born\tRiga\n")
    assert prepare_source("kgqa", path, tmp_path / "a") == {"test_rows": 1}
    assert pq.read_table(tmp_path / "a" / "test.parquet").column("id").to_pylist() == ["test-00000"]
    assert prepare_source("kgqa", path, tmp_path / "b", split="dev") == {"dev_rows": 1}
    with pytest.raises(ConfigError, match="pass --split"):
        prepare_source("kgqa", path.rename(tmp_path / "questions.txt"), tmp_path / "c")
