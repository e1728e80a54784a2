"""pretrain on a toy corpus: outputs, collate targets, and a killed run that resumes to the same weights."""

from __future__ import annotations

import importlib.util
import json
import logging

import pytest
import torch
from safetensors.torch import load_file
from test_kg_lm_toy import R, one_thread, tiny_params, toy_world

import kg_ml.pretraining.run as pretrain_run
from kg_ml.graphs.dataset import SubgraphDataset
from kg_ml.models.factory import load_tokenizer
from kg_ml.models.kg_lm import KGLMForPretraining
from kg_ml.pretraining.data import PretrainCollator, PretrainDataset, tokenize_texts
from kg_ml.pretraining.links import kg_edge_types


def _pretrain(world, out, params=None):
    params = params or tiny_params()
    with one_thread():
        return pretrain_run.pretrain(params, grounded_dir=world.grounded_corpus, graphs_dir=world.graphs_corpus,
                                     embeddings=world.embeddings, out_dir=out / "model", checkpoint_dir=out / "ckpt",
                                     log_dir=out / "plots")


def test_collate_targets_index_the_batched_graph(tmp_path):
    world = toy_world(tmp_path)
    params = tiny_params()
    tokenizer = load_tokenizer(params.model)
    texts = ["flu presents with cough and fever.", "alpha is used to treat flu.", "gout presents with rash and pain."]
    graphs = SubgraphDataset(world.graphs_corpus / "train.parquet", world.embeddings)
    dataset = PretrainDataset(tokenize_texts(tokenizer, texts, 32), graphs, [0, 1, 2])
    objective = params.pretrain.objective.model_copy(update={"link_drop": 1.0})
    collate = PretrainCollator(tokenizer, objective, num_edge_types=2 * (R + 2), kg_types=kg_edge_types(R),
                               generator=torch.Generator().manual_seed(0))
    batch = collate([dataset[i] for i in range(3)])
    g = batch["graph"]
    assert g.num_graphs == 3 and batch["input_ids"].shape[0] == 3
    kept = {(int(s), int(t), int(d)) for (s, d), t in zip(g.edge_index.T, g.edge_type)}
    lp = batch["lp"]
    assert lp["head"].numel() == 5  # link_drop 1: every KG edge of the three graphs (2 + 1 + 2)
    for h, r, t in zip(lp["head"].tolist(), lp["relation"].tolist(), lp["tail"].tolist()):
        assert g.batch[h] == g.batch[t] and (h, r, t) not in kept and 2 <= r < 2 + R
    assert bool((g.batch[lp["neg_head"]] == g.batch[lp["head"]].unsqueeze(1)).all())
    assert bool((g.batch[lp["neg_tail"]] == g.batch[lp["head"]].unsqueeze(1)).all())
    flat = batch["input_ids"].view(-1)
    assert torch.equal(batch["mlm_labels"] != flat[batch["mlm_positions"]],
                       flat[batch["mlm_positions"]] != batch["mlm_labels"])
    assert batch["mlm_positions"].numel() >= 3  # at least one word per text


def test_pretrain_writes_a_loadable_model_and_metrics(tmp_path):
    world = toy_world(tmp_path)
    metrics = _pretrain(world, tmp_path / "run")
    assert metrics["texts"] + metrics["heldout_texts"] == 8 and metrics["heldout_texts"] > 0
    assert metrics["steps"] == 2 * (metrics["texts"] // 2)  # 2 epochs of batch 2
    assert {"heldout_loss", "heldout_mlm_loss", "heldout_lp_loss", "train_loss"} <= set(metrics)
    model_dir = tmp_path / "run" / "model"
    assert (model_dir / "model.safetensors").is_file() and (model_dir / "tokenizer.json").is_file()
    model = KGLMForPretraining.from_pretrained(model_dir)
    assert model.config.num_edge_types == 2 * (R + 2) and model.config.node_feature_dim == 8
    assert json.loads((tmp_path / "run" / "ckpt" / "complete.json").read_text())["global_step"] == metrics["steps"]
    assert list((tmp_path / "run" / "plots").rglob("*.tsv"))


def test_killed_pretraining_resumes_to_the_same_weights(tmp_path, monkeypatch, caplog):
    world = toy_world(tmp_path)
    params = tiny_params()
    params = params.model_copy(update={"pretrain": params.pretrain.model_copy(update={
        "train": params.pretrain.train.model_copy(update={"checkpoint_every": 1})})})
    _pretrain(world, tmp_path / "straight", params)

    real = pretrain_run.pretrain_loss

    def dying_loss(weights):
        inner, calls = real(weights), []

        def loss_fn(model, batch):
            if model.training:
                calls.append(1)
                if len(calls) == 3:  # the third training step: two checkpoints are on disk
                    raise KeyboardInterrupt
            return inner(model, batch)

        return loss_fn

    monkeypatch.setattr(pretrain_run, "pretrain_loss", dying_loss)
    with pytest.raises(KeyboardInterrupt):
        _pretrain(world, tmp_path / "killed", params)
    assert (tmp_path / "killed" / "ckpt" / "last.pt").is_file()
    assert not (tmp_path / "killed" / "model").exists()
    monkeypatch.setattr(pretrain_run, "pretrain_loss", real)
    with caplog.at_level(logging.INFO, logger="kg_ml.training"):
        _pretrain(world, tmp_path / "killed", params)
    assert "resuming from" in caplog.text
    straight = load_file(tmp_path / "straight" / "model" / "model.safetensors")
    resumed = load_file(tmp_path / "killed" / "model" / "model.safetensors")
    assert straight.keys() == resumed.keys()
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)


@pytest.mark.parametrize("stage", ["pretrain_corpus", "pretrain", "finetune_medqa", "evaluate_medqa"])
def test_stage_cli_help_names_its_defaults(repo_root, stage):
    spec = importlib.util.spec_from_file_location(f"stage_{stage}", repo_root / "stages" / f"{stage}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.parser().format_help()
    assert "--params" in text and "default" in text
