"""prepare@hotpotqa: MRQA v2 JSON lines (gzip) -> SQuAD-style train/dev/test Parquet."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kg_ml.errors import ConfigError, InputError
from kg_ml.sources import prepare_source
from kg_ml.sources.hotpotqa import dev_test_half

CONTEXT = "[PAR] [TLE] Paris [SEP] Paris is the capital of France."
S = CONTEXT.index("capital")
E = S + len("capital") - 1  # MRQA spans are inclusive


def qa(qid: str, spans=((S, E),), det_text: str = "capital") -> dict:
    return {"qid": qid, "question": f"q {qid}?", "answers": ["capital", "Capital"],
            "question_tokens": [["q", 0]],
            "detected_answers": [{"text": det_text, "char_spans": [list(s) for s in spans],
                                  "token_spans": [[0, 0]]}]}


def context(*qas: dict) -> dict:
    return {"context": CONTEXT, "context_tokens": [["Paris", 0]], "qas": list(qas)}


def write(raw: Path, split: str, lines: list, header: dict | None = None) -> Path:
    path = raw / split / "HotpotQA.jsonl.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    header = header or {"header": {"dataset": "HotpotQA", "split": split}}
    body = [json.dumps(header)] + [x if isinstance(x, str) else json.dumps(x) for x in lines]
    path.write_bytes(gzip.compress(("\n".join(body) + "\n").encode()))
    return path


def _qids_by_half(n: int) -> dict[str, list[str]]:
    halves: dict[str, list[str]] = {"dev": [], "test": []}
    for i in range(n):
        halves[dev_test_half(f"d{i}")].append(f"d{i}")
    return halves


def test_happy_path_spans_inclusive_and_dev_split(tmp_path: Path):
    raw = tmp_path / "raw"
    write(raw, "train", [context(qa("t1", spans=((S, E), (S, E))), qa("t2", spans=((S, E - 1),)))])
    halves = _qids_by_half(20)
    dev_q, test_q = halves["dev"][0], halves["test"][0]
    # a context goes to the half of its first qid, with all its qas
    write(raw, "dev", [context(qa(dev_q), qa("other")), context(qa(test_q))],
          header={"header": {"dataset": "HotpotQA", "original_split": "dev", "mrqa_split": "dev"}})
    metrics = prepare_source("hotpotqa", raw, tmp_path / "out")
    assert metrics == {"train_rows": 2, "dev_rows": 2, "test_rows": 1,
                       "span_text_mismatches": 1, "duplicate_qids": 0}
    train = pq.read_table(tmp_path / "out" / "train.parquet").to_pylist()
    assert train[0] == {"id": "t1", "question": "q t1?", "context": CONTEXT,
                        "answers": {"text": ["capital", "capital"], "answer_start": [S, S]},
                        "gold_answers": ["capital", "Capital"], "split": "train"}
    # a span that disagrees with the detected text is kept, as LinkBERT does, and counted
    assert train[1]["answers"] == {"text": ["capita"], "answer_start": [S]}
    dev = pq.read_table(tmp_path / "out" / "dev.parquet").to_pylist()
    test = pq.read_table(tmp_path / "out" / "test.parquet").to_pylist()
    assert [r["id"] for r in dev] == [dev_q, "other"] and {r["split"] for r in dev} == {"dev"}
    assert [r["id"] for r in test] == [test_q] and test[0]["split"] == "test"


def test_dev_test_half_is_stable_and_balanced():
    halves = _qids_by_half(1000)
    assert 400 < len(halves["dev"]) < 600
    assert dev_test_half("d0") == dev_test_half("d0")


def test_span_out_of_range_names_field(tmp_path: Path):
    raw = tmp_path / "raw"
    path = write(raw, "train", [context(qa("t1")), context(qa("t2", spans=((S, len(CONTEXT)),)))])
    with pytest.raises(InputError) as err:
        prepare_source("hotpotqa", raw, tmp_path / "out")
    assert (err.value.path, err.value.line) == (str(path), 3)
    assert err.value.field == "qas[0].detected_answers[0].char_spans[0]"
    assert "out of range" in err.value.message


@pytest.mark.parametrize("header, field", [
    ({"header": {"dataset": "SQuAD", "split": "train"}}, "header.dataset"),
    ({"header": {"dataset": "HotpotQA", "split": "dev"}}, "header.split"),
    ({"context": "no header"}, "header"),
])
def test_header_validated(tmp_path: Path, header: dict, field: str):
    write(tmp_path / "raw", "train", [context(qa("t1"))], header=header)
    with pytest.raises(InputError) as err:
        prepare_source("hotpotqa", tmp_path / "raw", tmp_path / "out")
    assert (err.value.line, err.value.field) == (1, field)


def test_header_dataset_check_can_be_relaxed(tmp_path: Path):
    header = {"header": {"dataset": "SQuAD", "split": "train"}}
    write(tmp_path / "raw", "train", [context(qa("t1"))], header=header)
    assert prepare_source("hotpotqa", tmp_path / "raw", tmp_path / "out", dataset=None)["train_rows"] == 1


@pytest.mark.parametrize("line, field", [
    ("{broken", None),
    (json.dumps({"context": CONTEXT}), "qas"),
    (json.dumps(context({**qa("x"), "qid": 7})), "qas[0].qid"),
    (json.dumps(context(qa("x", spans=(("a", 3),)))), "qas[0].detected_answers[0].char_spans[0]"),
])
def test_bad_lines(tmp_path: Path, line: str, field: str | None):
    path = write(tmp_path / "raw", "train", [line])
    with pytest.raises(InputError) as err:
        prepare_source("hotpotqa", tmp_path / "raw", tmp_path / "out")
    assert (err.value.path, err.value.line, err.value.field) == (str(path), 2, field)


def test_truncated_gzip(tmp_path: Path):
    path = write(tmp_path / "raw", "train", [context(qa(f"t{i}")) for i in range(3000)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 50])
    with pytest.raises(InputError, match="truncated or corrupt gzip stream"):
        prepare_source("hotpotqa", tmp_path / "raw", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_lenient_and_deterministic(tmp_path: Path):
    raw = tmp_path / "raw"
    write(raw, "train", [context(qa("t1")), "{broken", context(qa("t2", spans=((0, 999),)))])
    write(raw, "dev", [context(qa(f"d{i}")) for i in range(10)])
    m1 = prepare_source("hotpotqa", raw, tmp_path / "a", strict=False)
    prepare_source("hotpotqa", raw, tmp_path / "b", strict=False)
    assert m1["train_rows"] == 1 and m1["dev_rows"] + m1["test_rows"] == 10
    assert m1["skipped_rows"] == 2 and m1["skipped_rows.train/HotpotQA.jsonl.gz"] == 2
    for name in ("train", "dev", "test"):
        a, b = (tmp_path / d / f"{name}.parquet" for d in "ab")
        assert a.read_bytes() == b.read_bytes()


def test_single_file_needs_its_split(tmp_path: Path):
    """Upstream names both files HotpotQA.jsonl.gz: the split comes from --split (the header agrees)."""
    halves = _qids_by_half(20)
    path = write(tmp_path, "dev", [context(qa(halves["dev"][0])), context(qa(halves["test"][0]))])
    with pytest.raises(ConfigError, match="pass --split"):
        prepare_source("hotpotqa", path, tmp_path / "out")
    metrics = prepare_source("hotpotqa", path, tmp_path / "out", split="dev")
    assert (metrics["dev_rows"], metrics["test_rows"]) == (1, 1) and "train_rows" not in metrics
    with pytest.raises(InputError) as err:
        prepare_source("hotpotqa", path, tmp_path / "out2", split="train")
    assert (err.value.path, err.value.line, err.value.field) == (str(path), 1, "header.split")
    assert not (tmp_path / "out2").exists()
