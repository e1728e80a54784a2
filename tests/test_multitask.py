"""Joint multitask pieces: task mixing proportions, adapter freezing, adapter merge round trip."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from transformers import BertConfig, BertModel

from kg_ml.errors import ConfigError
from kg_ml.multitask import (
    AdapterConfig,
    MixingConfig,
    TaskMixer,
    adapter_state,
    add_adapters,
    backbone_fingerprint,
    freeze_backbone,
    merge_adapters,
    set_task,
    trainable_share,
)

SIZES = {"medqa": 600, "hotpotqa": 300, "kgqa": 100}


def test_proportional_mixing_follows_dataset_sizes():
    mixer = TaskMixer(SIZES, MixingConfig(strategy="proportional", seed=3))
    counts = Counter(mixer.task_order(20_000))
    for task, n in SIZES.items():
        assert counts[task] / 20_000 == pytest.approx(n / 1000, abs=0.015)
    assert mixer.task_order(50) == TaskMixer(SIZES, MixingConfig(strategy="proportional", seed=3)).task_order(50)
    flat = TaskMixer(SIZES, MixingConfig(strategy="proportional", temperature_exponent=0.0))
    assert list(flat.weights.values()) == pytest.approx([1 / 3] * 3)


def test_round_robin_and_per_task_batches_cover_each_epoch():
    config = MixingConfig(strategy="round_robin", batch_size={"medqa": 4, "kgqa": 3}, loss_weight={"kgqa": 0.5})
    mixer = TaskMixer({"medqa": 8, "kgqa": 6}, config)
    steps = list(mixer.schedule(8))
    assert [t for t, _ in steps] == ["kgqa", "medqa"] * 4
    assert all(len(ix) == mixer.batch_size(t) for t, ix in steps)
    # Every example of a task appears once per epoch of that task before any repeats.
    assert sorted(i for t, ix in steps[:4] if t == "medqa" for i in ix) == list(range(8))
    assert sorted(i for t, ix in steps[:4] if t == "kgqa" for i in ix) == list(range(6))
    assert mixer.loss_weight("kgqa") == 0.5 and mixer.loss_weight("medqa") == 1.0


def _encoder(seed: int = 0) -> BertModel:
    torch.manual_seed(seed)
    return BertModel(BertConfig(vocab_size=500, hidden_size=128, num_hidden_layers=2, num_attention_heads=4,
                                intermediate_size=256, max_position_embeddings=64)).eval()


def _inputs():
    return {"input_ids": torch.randint(0, 500, (2, 10), generator=torch.Generator().manual_seed(1))}


def test_adapters_start_as_identity_and_freeze_the_backbone():
    model = _encoder()
    plain = model(**_inputs()).last_hidden_state
    add_adapters(model, model, ["medqa", "kgqa"], AdapterConfig(bottleneck={"medqa": 16}, default_bottleneck=8))
    set_task(model, "medqa")
    torch.testing.assert_close(model(**_inputs()).last_hidden_state, plain)  # Up = 0, task embedding = 0
    freeze_backbone(model)
    assert trainable_share(model) < 0.10
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith("task_adapters.") for n in trainable)
    assert model.task_adapters.adapters["medqa"][0].down.out_features == 16
    assert model.task_adapters.adapters["kgqa"][0].down.out_features == 8
    # One step changes adapters only.
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model.train()
    model(**_inputs()).last_hidden_state.pow(2).mean().backward()
    opt.step()
    changed = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert changed and changed <= trainable


def _single_task_run(task: str, seed: int) -> BertModel:
    """A backbone with adapters for ``task`` only, as a single-task run leaves it (weights perturbed)."""
    model = _encoder()
    add_adapters(model, model, [task], AdapterConfig(default_bottleneck=8))
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith("task_adapters."):
                p.add_(torch.randn_like(p) * 0.1)
    return model


def test_merge_round_trip_reproduces_each_single_task_model():
    runs = {"medqa": _single_task_run("medqa", 1), "kgqa": _single_task_run("kgqa", 2)}
    merged = _encoder()
    add_adapters(merged, merged, sorted(runs), AdapterConfig(default_bottleneck=8))
    merge_adapters(merged, {t: adapter_state(m, t) for t, m in runs.items()},
                   backbones={t: backbone_fingerprint(m) for t, m in runs.items()})
    for task, single in runs.items():
        set_task(single, task)
        set_task(merged, task)
        torch.testing.assert_close(merged(**_inputs()).last_hidden_state, single(**_inputs()).last_hidden_state,
                                   rtol=0, atol=0)
        for k, v in adapter_state(single, task).items():
            assert torch.equal(merged.state_dict()[k], v)


def test_merge_rejects_other_backbones_and_partial_states():
    run = _single_task_run("medqa", 1)
    other = _encoder(seed=5)
    add_adapters(other, other, ["medqa"], AdapterConfig(default_bottleneck=8))
    with pytest.raises(ConfigError, match="another backbone"):
        merge_adapters(other, {"medqa": adapter_state(run, "medqa")}, backbones={"medqa": backbone_fingerprint(run)})
    partial = dict(list(adapter_state(run, "medqa").items())[1:])
    with pytest.raises(ConfigError, match="lack"):
        merge_adapters(other, {"medqa": partial})
    with pytest.raises(ConfigError, match="no adapters for task 'kgqa'"):
        merge_adapters(other, {"kgqa": {}})
