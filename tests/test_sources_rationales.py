"""prepare@rationales: KARD teacher ChatCompletion responses (tree or tar.gz) -> Parquet."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kg_ml.errors import InputError
from kg_ml.sources import prepare_source


def response(*texts: str, finish: str | None = "stop") -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-3.5-turbo-0301",
            "choices": [{"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": finish}
                        for i, t in enumerate(texts)],
            "usage": {"total_tokens": 1}}


FILES = {
    "medqa/train/q10.json": response("r0", "r1"),
    "medqa/train/q2.json": response("only", finish=None),
    "medqa/dev/q1.json": response("d0"),
    "README.txt": "not a response",
}
EXPECTED = [
    {"question_id": "q1", "split": "dev", "rationale_id": 0, "text": "d0", "model": "gpt-3.5-turbo-0301",
     "finish_reason": "stop"},
    {"question_id": "q10", "split": "train", "rationale_id": 0, "text": "r0", "model": "gpt-3.5-turbo-0301",
     "finish_reason": "stop"},
    {"question_id": "q10", "split": "train", "rationale_id": 1, "text": "r1", "model": "gpt-3.5-turbo-0301",
     "finish_reason": "stop"},
    {"question_id": "q2", "split": "train", "rationale_id": 0, "text": "only", "model": "gpt-3.5-turbo-0301",
     "finish_reason": None},
]


def _bytes(obj) -> bytes:
    return (obj if isinstance(obj, str) else json.dumps(obj)).encode()


def write_tree(raw: Path, files: dict) -> Path:
    for name, obj in files.items():
        (raw / name).parent.mkdir(parents=True, exist_ok=True)
        (raw / name).write_bytes(_bytes(obj))
    return raw


def write_tar(raw: Path, files: dict, prefix: str = "") -> Path:
    raw.mkdir(parents=True, exist_ok=True)
    path = raw / "teacher_rationales.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, obj in reversed(list(files.items())):  # archive order must not matter
            data = _bytes(obj)
            info = tarfile.TarInfo(prefix + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def rows(out: Path) -> list[dict]:
    return pq.read_table(out / "rationales.parquet").to_pylist()


def test_extracted_tree(tmp_path: Path):
    metrics = prepare_source("rationales", write_tree(tmp_path / "raw", FILES), tmp_path / "out")
    assert metrics == {"responses": 3, "rationales": 4, "dev_rationales": 1, "train_rationales": 3}
    assert rows(tmp_path / "out") == EXPECTED
    assert str(pq.read_schema(tmp_path / "out" / "rationales.parquet").field("rationale_id").type) == "int16"


@pytest.mark.parametrize("prefix", ["", "teacher_rationales/"])
def test_tar_read_without_extracting(tmp_path: Path, prefix: str):
    write_tar(tmp_path / "raw", FILES, prefix)
    prepare_source("rationales", tmp_path / "raw", tmp_path / "out")
    assert rows(tmp_path / "out") == EXPECTED
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == ["teacher_rationales.tar.gz"]


def test_tree_and_tar_give_identical_bytes(tmp_path: Path):
    prepare_source("rationales", write_tree(tmp_path / "tree", FILES), tmp_path / "a")
    write_tar(tmp_path / "tar", FILES)
    prepare_source("rationales", tmp_path / "tar", tmp_path / "b")
    prepare_source("rationales", tmp_path / "tar", tmp_path / "c")
    a, b, c = (tmp_path / d / "rationales.parquet" for d in "abc")
    assert a.read_bytes() == b.read_bytes() == c.read_bytes()


@pytest.mark.parametrize("bad, field", [
    ({**response("x"), "choices": None}, "choices"),
    ({k: v for k, v in response("x").items() if k != "choices"}, "choices"),
    (response("a", "b", "c") | {"choices": response("a", "b")["choices"] + [{"index": 2, "message": {}}]},
     "choices[2].message.content"),
    (response("a") | {"choices": [{"index": 0, "message": {"content": 5}}]}, "choices[0].message.content"),
    (response("a") | {"choices": [{"message": {"content": "x"}}]}, "choices[0].index"),
    ({k: v for k, v in response("x").items() if k != "model"}, "model"),
    ("{truncated", None),
])
def test_bad_response(tmp_path: Path, bad, field: str | None):
    raw = write_tree(tmp_path / "raw", {**FILES, "medqa/train/q3.json": bad})
    with pytest.raises(InputError) as err:
        prepare_source("rationales", raw, tmp_path / "out")
    assert (err.value.path, err.value.field) == (str(raw / "medqa/train/q3.json"), field)
    metrics = prepare_source("rationales", raw, tmp_path / "out", strict=False)
    assert metrics["skipped_rows"] == 1 and metrics["skipped_rows.medqa/train"] == 1
    assert rows(tmp_path / "out") == EXPECTED


def test_bad_member_in_tar_names_archive_and_member(tmp_path: Path):
    archive = write_tar(tmp_path / "raw", {"medqa/test/q9.json": {"model": "m"}})
    with pytest.raises(InputError) as err:
        prepare_source("rationales", tmp_path / "raw", tmp_path / "out")
    assert err.value.path == f"{archive}[medqa/test/q9.json]" and err.value.field == "choices"


def test_truncated_archive(tmp_path: Path):
    archive = write_tar(tmp_path / "raw", {f"medqa/train/q{i}.json": response("x" * 2000 + str(i))
                                           for i in range(50)})
    archive.write_bytes(archive.read_bytes()[:-200])
    with pytest.raises(InputError, match="truncated or corrupt"):
        prepare_source("rationales", tmp_path / "raw", tmp_path / "out")


def test_missing_input_says_what_to_place(tmp_path: Path):
    (tmp_path / "raw").mkdir()
    with pytest.raises(InputError, match=r"medqa/<split>/<question_id>.json.*teacher_rationales.tar.gz"):
        prepare_source("rationales", tmp_path / "raw", tmp_path / "out")


def test_same_question_twice_is_a_bad_row(tmp_path: Path):
    raw = write_tree(tmp_path / "raw", {**FILES, "zcopy/medqa/dev/q1.json": response("again")})
    with pytest.raises(InputError, match="a second response for medqa/dev/q1"):
        prepare_source("rationales", raw, tmp_path / "out")
    metrics = prepare_source("rationales", raw, tmp_path / "out", strict=False)
    assert metrics["skipped_rows.medqa/dev"] == 1 and rows(tmp_path / "out") == EXPECTED


def test_single_archive_of_any_name(tmp_path: Path):
    archive = write_tar(tmp_path / "raw", FILES).rename(tmp_path / "kard.tgz")
    prepare_source("rationales", archive, tmp_path / "out")
    assert rows(tmp_path / "out") == EXPECTED
    bad = write_tar(tmp_path / "raw", {"medqa/test/q9.json": {"model": "m"}}).rename(tmp_path / "bad.tgz")
    with pytest.raises(InputError) as err:
        prepare_source("rationales", bad, tmp_path / "out2")
    assert err.value.path == f"{bad}[medqa/test/q9.json]"  # the user's file, not the stand-in link
