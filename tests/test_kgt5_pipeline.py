"""KGT5 and KGQA end to end on a tiny prepared KG: tokenizer, training with the shared loop,
the sampled filtered evaluation (deterministic output), KGQA answer resolution, finetune and evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kg_ml.errors import InputError
from kg_ml.io import write_parquet
from kg_ml.kgt5.build_tokenizer import build_tokenizer
from kg_ml.kgt5.config import GenerationParams, KGQAParams, KGT5Params, T5Size, TokenizerParams
from kg_ml.kgt5.evaluate import evaluate_kgqa, evaluate_kgt5
from kg_ml.kgt5.kg import load_kg
from kg_ml.kgt5.kgqa import most_frequent_answers, read_qa, template
from kg_ml.kgt5.train import finetune_kgqa, train_kgt5
from kg_ml.sources.kgqa import SCHEMA as KGQA_SCHEMA
from kg_ml.sources.wikidata5m import ENTITIES_SCHEMA, RELATIONS_SCHEMA, TRIPLES_SCHEMA
from kg_ml.training import TrainConfig

# Two people named "Ada Lund" (display names disambiguate); Q3 is born in Irholm, Q4 in Sæstad.
ENTITIES = [("Q1", "Ada Lund", "Ada Lund (a chemist)"), ("Q2", "Ada Lund", "Ada Lund (a pilot)"),
            ("Q3", "Finn Castell", "Finn Castell"), ("Q4", "Bea Jansen", "Bea Jansen"),
            ("Q5", "Irholm", "Irholm"), ("Q6", "Sæstad", "Sæstad"), ("Q7", "Ruvavia", "Ruvavia"),
            ("Q8", "Crown Textiles", "Crown Textiles")]
RELATIONS = [("P19", "place of birth"), ("P17", "country"), ("P112", "founded by"), ("P26", "spouse")]
TRAIN = [("Q3", "P19", "Q5"), ("Q4", "P19", "Q6"), ("Q5", "P17", "Q7"), ("Q6", "P17", "Q7"),
         ("Q8", "P112", "Q1"), ("Q3", "P26", "Q4"), ("Q2", "P19", "Q5"), ("Q1", "P19", "Q6")]
VALID = [("Q4", "P26", "Q3")]
TEST = [("Q2", "P26", "Q3"), ("Q8", "P17", "Q7")]
TINY = T5Size(d_model=32, d_ff=64, d_kv=8, num_heads=2, num_layers=1, num_decoder_layers=1, dropout_rate=0.0)


def _write(path: Path, rows: dict, schema: pa.Schema) -> None:
    write_parquet(pa.Table.from_pydict(rows, schema=schema), path)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("prepared")
    kg = root / "wikidata5m"
    kg.mkdir()
    _write(kg / "entities.parquet", {"id": [e[0] for e in ENTITIES], "name": [e[1] for e in ENTITIES],
                                     "aliases": [[e[1]] for e in ENTITIES], "display_name": [e[2] for e in ENTITIES]},
           ENTITIES_SCHEMA)
    _write(kg / "relations.parquet", {"id": [r[0] for r in RELATIONS], "name": [r[1] for r in RELATIONS],
                                      "aliases": [[r[1]] for r in RELATIONS]}, RELATIONS_SCHEMA)
    for split, triples in (("train", TRAIN), ("valid", VALID), ("test", TEST)):
        _write(kg / f"triples_{split}.parquet", {c: [t[i] for t in triples] for i, c in enumerate(TRIPLES_SCHEMA.names)},
               TRIPLES_SCHEMA)
    qa = root / "kgqa"
    qa.mkdir()
    questions = {
        "train": [("who founded [Crown Textiles]", "Crown Textiles", ["Ada Lund"]),
                  ("where was [Finn Castell] born", "Finn Castell", ["Irholm"]),
                  ("where was [Bea Jansen] born", "Bea Jansen", ["Sæstad", "Nowhere Town"]),
                  ("which country is [Irholm] in", "Irholm", ["Ruvavia"])],
        "dev": [("who is [Finn Castell] married to", "Finn Castell", ["Bea Jansen"])],
        "test": [("which country is [Sæstad] in", "Sæstad", ["Ruvavia"]),
                 ("where was [Finn Castell] born", "Finn Castell", ["Irholm"])],
    }
    for split, rows in questions.items():
        _write(qa / f"{split}.parquet", {"id": [f"{split}-{i:05d}" for i in range(len(rows))],
                                        "question": [r[0] for r in rows], "topic_entity": [r[1] for r in rows],
                                        "answers": [r[2] for r in rows], "split": [split] * len(rows)}, KGQA_SCHEMA)
    return root


def test_load_kg_and_errors(prepared: Path, tmp_path: Path) -> None:
    kg = load_kg(prepared / "wikidata5m")
    assert kg.num_entities == 8 and kg.relation_names[0] == "place of birth"
    assert kg.triples["train"][0].tolist() == [2, 0, 4] and kg.triples["test"].shape == (2, 3)
    bad = tmp_path / "kg"
    bad.mkdir()
    for f in (prepared / "wikidata5m").iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    _write(bad / "triples_test.parquet", {"head": ["Q1"], "relation": ["P19"], "tail": ["Q99"]}, TRIPLES_SCHEMA)
    with pytest.raises(InputError, match=r"triples_test.parquet:1: field 'tail': unknown id 'Q99'"):
        load_kg(bad)


def test_kgqa_answers_resolve_through_the_topic_neighbourhood(prepared: Path) -> None:
    kg = load_kg(prepared / "wikidata5m")
    qa = read_qa(prepared / "kgqa" / "train.parquet", kg)
    # "Ada Lund" names Q1 and Q2; only Q1 is adjacent to Crown Textiles.
    assert qa.answers[0] == [0]
    assert qa.answers[2] == [5] and qa.unresolved == 1  # "Nowhere Town" is not in the KG
    assert template("who founded [Crown Textiles]") == "who founded []"
    prior = most_frequent_answers(qa)
    assert prior["where was [] born"] == 4  # Irholm and Sæstad once each: the lower position wins


@pytest.fixture(scope="module")
def kgt5_params() -> KGT5Params:
    return KGT5Params(tokenizer=TokenizerParams(vocab_size=300, min_frequency=1), model=TINY,
                      max_input_length=24, max_target_length=12, eval_queries=2,
                      train=TrainConfig(optimizer="adafactor", lr=1e-2, batch_size=4, max_steps=6, weight_decay=0.0,
                                        metric_for_best="hits@1", eval_every=3, log_every=2, seed=0),
                      evaluate=GenerationParams(num_samples=8, batch_size=2, max_new_tokens=8))


@pytest.fixture(scope="module")
def trained(prepared: Path, kgt5_params: KGT5Params, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("models")
    m = build_tokenizer(prepared=prepared / "wikidata5m", out_dir=out / "tok", params=kgt5_params.tokenizer)
    assert m["vocab_size"] <= 300 and (out / "tok" / "tokenizer.json").is_file()
    metrics = train_kgt5(prepared=prepared / "wikidata5m", tokenizer_dir=out / "tok", out_dir=out / "kgt5",
                         params=kgt5_params, checkpoint_dir=out / "ckpt", log_dir=out / "plots")
    assert metrics["steps"] == 6 and metrics["train_examples"] == 16 and "valid_hits@1" in metrics
    assert (out / "kgt5" / "model.safetensors").is_file() and (out / "kgt5" / "tokenizer.json").is_file()
    assert list((out / "plots").rglob("*.tsv"))
    return out


def test_kgt5_training_is_reproducible(prepared: Path, kgt5_params: KGT5Params, trained: Path, tmp_path: Path) -> None:
    train_kgt5(prepared=prepared / "wikidata5m", tokenizer_dir=trained / "tok", out_dir=tmp_path / "again",
               params=kgt5_params)
    assert (tmp_path / "again" / "model.safetensors").read_bytes() == (trained / "kgt5" / "model.safetensors").read_bytes()


def test_evaluate_kgt5(prepared: Path, kgt5_params: KGT5Params, trained: Path, tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        metrics = evaluate_kgt5(model_dir=trained / "kgt5", prepared=prepared / "wikidata5m", split="test",
                                params=kgt5_params, predictions=tmp_path / f"{name}.parquet", device="cpu")
        runs.append(metrics)
    assert runs[0] == runs[1]
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    m = runs[0]
    assert m["queries"] == 4
    for key in ("mrr", "hits@1", "hits@3", "hits@10", "tail_mrr", "head_hits@10", "unfiltered_hits@1",
                "baseline_hits@1", "baseline_tail_mrr", "baseline_head_hits@1"):
        assert 0.0 <= m[key] <= 1.0, key
    table = pq.read_table(tmp_path / "a.parquet")
    assert table.column_names[:5] == ["triple", "direction", "entity", "relation", "answer"]
    ranks = table.column("rank").to_pylist()
    assert all(1 <= r <= 8 for r in ranks)
    # The baseline: (?, spouse, Q3): only Q3 is a train head of P26, gold Q2 ranks last;
    # (Q8, country, ?): Q7 is the only train tail of P17.
    assert table.column("baseline_rank").to_pylist()[1:3] == [8, 1]
    json.dumps(m)  # flat and serialisable


def test_finetune_and_evaluate_kgqa(prepared: Path, trained: Path, tmp_path: Path) -> None:
    params = KGQAParams(max_input_length=24, max_target_length=12, eval_batch_size=2,
                        train=TrainConfig(optimizer="adafactor", lr=1e-2, batch_size=2, max_steps=4, weight_decay=0.0,
                                          metric_for_best="hits@1", seed=0))
    metrics = finetune_kgqa(prepared_qa=prepared / "kgqa", prepared_kg=prepared / "wikidata5m",
                            init_dir=trained / "kgt5", out_dir=tmp_path / "kgqa", params=params)
    assert metrics["train_examples"] == 4 and metrics["unresolved_answers"] == 1
    result = evaluate_kgqa(model_dir=tmp_path / "kgqa", prepared_qa=prepared / "kgqa",
                           prepared_kg=prepared / "wikidata5m", split="test", params=params,
                           predictions=tmp_path / "pred.parquet", device="cpu")
    assert result["questions"] == 2 and 0.0 <= result["hits@1"] <= 1.0
    # Template baseline: "which country is [] in" -> Ruvavia (right), "where was [] born" -> Irholm (right).
    assert result["baseline_most_frequent_hits@1"] == 1.0
    assert pq.read_table(tmp_path / "pred.parquet").column("baseline").to_pylist() == ["Ruvavia", "Irholm"]
