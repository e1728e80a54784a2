"""MedQA with the KG-LM: examples line up with their subgraphs, finetune and evaluate write what they claim."""

from __future__ import annotations

import csv

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from test_kg_lm_toy import DISEASES, one_thread, tiny_params, toy_world

from kg_ml.errors import InputError
from kg_ml.graphs.dataset import SubgraphDataset
from kg_ml.io import write_parquet
from kg_ml.models.factory import load_tokenizer
from kg_ml.models.kg_lm import KGLMForMultipleChoice
from kg_ml.pretraining.run import pretrain
from kg_ml.tasks.medqa import PREDICTIONS_SCHEMA, MedqaCollator, MedqaDataset
from kg_ml.tasks.medqa_run import evaluate, finetune


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The toy world with a pretrained tiny KG-LM in ``root/pretrain``."""
    w = toy_world(tmp_path_factory.mktemp("medqa"))
    params = tiny_params()
    with one_thread():
        pretrain(params, grounded_dir=w.grounded_corpus, graphs_dir=w.graphs_corpus, embeddings=w.embeddings,
                 out_dir=w.root / "pretrain")
    return w


def _finetune(world, variant, tmp_path, **train):
    params = tiny_params(**train)
    with one_thread():
        metrics = finetune(params, variant, questions_dir=world.questions, graphs_dir=world.graphs,
                           embeddings=world.embeddings, pretrained_dir=world.root / "pretrain",
                           out_dir=tmp_path / variant, checkpoint_dir=tmp_path / f"ckpt_{variant}",
                           log_dir=tmp_path / f"plots_{variant}")
        return metrics, params


def test_examples_are_question_option_pairs_aligned_with_their_subgraphs(world):
    tokenizer = load_tokenizer(tiny_params().model)
    graphs = SubgraphDataset(world.graphs / "train.parquet", world.embeddings)
    dataset = MedqaDataset(world.questions / "train.parquet", tokenizer, 64, graphs)
    q = dataset[0]
    assert dataset.num_choices == 4 and len(q.input_ids) == 4 and q.graphs.question_id == q.id
    assert q.graphs.label == q.label
    for c, ids in enumerate(q.input_ids):  # [CLS] question [SEP] option [SEP], the option in segment 1
        option = tokenizer.decode([t for t, s in zip(ids, q.token_type_ids[c]) if s == 1], skip_special_tokens=True)
        assert option.strip() in DISEASES
    batch = MedqaCollator(tokenizer.pad_token_id)([dataset[i] for i in range(3)])
    assert batch["input_ids"].shape[0] == 12 and batch["num_choices"] == 4
    assert batch["graph"].num_graphs == 12 and batch["labels"].tolist() == [dataset[i].label for i in range(3)]
    choices = batch["graph"].choice.view(3, 4)  # question-major, choice order
    assert torch.equal(choices, torch.arange(4).repeat(3, 1))
    assert int(batch["num_tokens"]) == int(batch["attention_mask"].sum())


def test_subgraphs_of_other_questions_are_rejected(world, tmp_path):
    table = pq.read_table(world.questions / "dev.parquet")
    labels = [(label + 1) % 4 for label in table.column("label").to_pylist()]
    write_parquet(table.set_column(3, "label", [np.array(labels, np.int8)]), tmp_path / "dev.parquet")
    graphs = SubgraphDataset(world.graphs / "dev.parquet", world.embeddings)
    with pytest.raises(InputError, match="field 'choice'"):
        MedqaDataset(tmp_path / "dev.parquet", load_tokenizer(tiny_params().model), 64, graphs)


def test_kg_variant_learns_the_toy_task_and_evaluates(world, tmp_path):
    metrics, _ = _finetune(world, "kg", tmp_path, epochs=6)
    assert metrics["train_questions"] == 24 and metrics["steps"] == 6 * 6
    assert metrics["best_dev_accuracy"] >= 0.75  # the gold option is the one linked to both symptoms
    model = KGLMForMultipleChoice.from_pretrained(tmp_path / "kg")
    assert model.config.use_kg and (tmp_path / "kg" / "tokenizer.json").is_file()

    out = evaluate(tmp_path / "kg", questions_dir=world.questions, graphs_dir=world.graphs,
                   embeddings=world.embeddings, predictions_dir=tmp_path / "pred", plots_dir=tmp_path / "plots",
                   batch_size=3)
    assert out["dev_questions"] == 8 and out["test_questions"] == 8
    assert out["dev_accuracy"] == pytest.approx(metrics["best_dev_accuracy"])
    test = pq.read_table(tmp_path / "pred" / "test.parquet")
    assert test.schema.equals(PREDICTIONS_SCHEMA)
    rows = test.to_pylist()
    assert out["test_accuracy"] == pytest.approx(np.mean([r["correct"] for r in rows]))
    assert all(r["prediction"] == int(np.argmax(r["scores"])) and len(r["scores"]) == 4 for r in rows)
    with open(tmp_path / "plots" / "confusion.csv") as f:
        confusion = list(csv.DictReader(f))
    assert len(confusion) == 8 and {r["actual"] for r in confusion} <= set("ABCD")
    with open(tmp_path / "plots" / "accuracy.csv") as f:
        assert [r["split"] for r in csv.DictReader(f)] == ["dev", "test"]


def test_text_only_and_no_pretraining_variants(world, tmp_path):
    text, _ = _finetune(world, "text", tmp_path, epochs=1)
    model = KGLMForMultipleChoice.from_pretrained(tmp_path / "text")
    assert not model.config.use_kg and not any("gnn" in n for n, _ in model.named_parameters())
    scratch, _ = _finetune(world, "scratch", tmp_path, epochs=1)  # init: encoder, no pretrained weights used
    assert text["steps"] == scratch["steps"] == 6
    pretrained = KGLMForMultipleChoice.from_pretrained(world.root / "pretrain")
    fresh = KGLMForMultipleChoice.from_pretrained(tmp_path / "scratch")
    key = "kg_lm.encoder.embeddings.word_embeddings.weight"
    assert not torch.allclose(dict(fresh.named_parameters())[key], dict(pretrained.named_parameters())[key])
