"""The shared training loop (kg_ml.training) on tiny models and synthetic data, single process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from kg_ml.errors import ConfigError
from kg_ml.training import TrainConfig, load_weights, train, train_config
from kg_ml.training.checkpoint import BEST, COMPLETE, LAST
from kg_ml.training.optim import build_optimizer, linear_schedule, param_groups, warmup_steps

N_FEATURES = 8


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: more intra-op threads only add contention (and ``pytest -n 2`` fills both cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class Tiny(nn.Module):
    """``encoder`` plays the LM (selected by ``is_lm``), ``head`` the non-LM part."""

    def __init__(self, dropout: float = 0.0, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.encoder = nn.Sequential(nn.Linear(N_FEATURES, 16), nn.LayerNorm(16), nn.Tanh(),
                                     nn.Dropout(dropout))
        self.head = nn.Linear(16, 1)
        self.config = {"dropout": dropout}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x)).squeeze(-1)


def is_lm(name: str) -> bool:
    return name.startswith("encoder.")


class Regression(torch.utils.data.Dataset):
    """y = tanh(x . w / 2); ``noise`` > 0 adds random jitter in __getitem__ (randomness in data loading)."""

    def __init__(self, n: int, seed: int = 1, noise: float = 0.0) -> None:
        w = torch.randn(N_FEATURES, generator=torch.Generator().manual_seed(0))  # one task for every split
        self.x = torch.randn(n, N_FEATURES, generator=torch.Generator().manual_seed(seed))
        self.y = torch.tanh(self.x @ w / 2)
        self.noise = noise

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i] + self.noise * torch.randn(N_FEATURES), self.y[i]


def collate(items):
    return {"x": torch.stack([x for x, _ in items]), "y": torch.stack([y for _, y in items])}


def noisy_collate(items):
    """Random in the collate function too (like MLM masking)."""
    batch = collate(items)
    batch["x"] = batch["x"] + 0.01 * torch.randn_like(batch["x"])
    return batch


def mse(model, batch):
    loss = ((model(batch["x"]) - batch["y"]) ** 2).mean()
    return loss, {"abs_err": (model(batch["x"]) - batch["y"]).abs().mean().detach()}


def eval_on(data: Regression):
    @torch.no_grad()
    def evaluate(model):
        device = next(model.parameters()).device
        return {"loss": float(((model(data.x.to(device)).cpu() - data.y) ** 2).mean())}

    return evaluate


def weights(out_dir) -> dict[str, torch.Tensor]:
    return load_file(out_dir / "model.safetensors")


def run(tmp_path, name, *, model=None, data=None, **overrides):
    # CPU: the equalities asserted here are promised on CPU (GPU kernels need not be bit-stable).
    defaults = {"epochs": 2, "batch_size": 8, "lr": 1e-2, "log_every": 5, "seed": 3, "device": "cpu"}
    settings = defaults | overrides
    kwargs = {k: settings.pop(k) for k in ("eval_fn", "checkpoint_dir", "log_dir", "is_lm_param",
                                           "loss_fn", "collate_fn") if k in settings}
    kwargs.setdefault("loss_fn", mse)
    kwargs.setdefault("collate_fn", collate)
    result = train(model or Tiny(), data or Regression(64), config=TrainConfig(**settings),
                   out_dir=tmp_path / name, **kwargs)
    return result, tmp_path / name


def test_loss_decreases_on_a_learnable_task(tmp_path):
    held_out = Regression(64, seed=7)
    model = Tiny()
    before = eval_on(held_out)(model)["loss"]
    result, out = run(tmp_path, "out", model=model, data=Regression(128), epochs=6, eval_fn=eval_on(held_out))
    assert result.best_metrics["loss"] < 0.3 * before
    assert result.global_step == 6 * 128 // 8 and result.epochs_run == 6
    assert (out / "model.safetensors").exists() and (out / "config.json").exists()


def test_grad_accumulation_equals_a_larger_batch(tmp_path):
    _, big = run(tmp_path, "big", batch_size=8, grad_accum=1)
    _, acc = run(tmp_path, "acc", batch_size=4, grad_accum=2)
    a, b = weights(big), weights(acc)
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-6, rtol=0)


def test_lm_frozen_for_the_first_epochs_then_trained(tmp_path):
    model = Tiny()
    start = {k: v.clone() for k, v in model.state_dict().items()}
    snapshots = []

    def snapshot(m):
        snapshots.append({k: v.clone() for k, v in m.state_dict().items()})
        return {"loss": 0.0}

    run(tmp_path, "out", model=model, epochs=3, freeze_lm_epochs=2, eval_fn=snapshot, is_lm_param=is_lm)
    assert len(snapshots) == 3  # one evaluation per epoch
    for epoch, snap in enumerate(snapshots, 1):
        lm_same = all(torch.equal(snap[k], start[k]) for k in start if is_lm(k))
        head_same = all(torch.equal(snap[k], start[k]) for k in start if not is_lm(k))
        assert lm_same == (epoch <= 2), epoch
        assert not head_same
    assert all(p.requires_grad for p in model.parameters())  # handed back trainable


def test_freezing_needs_lm_parameters(tmp_path):
    with pytest.raises(ConfigError, match="freeze_lm_epochs"):
        run(tmp_path, "out", freeze_lm_epochs=1)


def test_warmup_then_linear_decay():
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = linear_schedule(opt, total_steps=10, warmup=warmup_steps(TrainConfig(warmup_ratio=0.15), 10))
    lrs = []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == pytest.approx([0.5, 1.0, 1.0, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 3 / 8, 2 / 8, 1 / 8])


def test_param_groups_split_lm_and_skip_decay_on_biases_and_norms():
    model = Tiny()
    config = TrainConfig(lr=1e-3, lm_lr=1e-5, weight_decay=0.1)
    groups = param_groups(model, config, {n for n, _ in model.named_parameters() if is_lm(n)})
    names = {id(p): n for n, p in model.named_parameters()}
    got = {(g["name"], g["lr"], g["weight_decay"]): sorted(names[id(p)] for p in g["params"]) for g in groups}
    assert got == {
        ("other", 1e-3, 0.1): ["head.weight"],
        ("other", 1e-3, 0.0): ["head.bias"],
        ("lm", 1e-5, 0.1): ["encoder.0.weight"],
        ("lm", 1e-5, 0.0): ["encoder.0.bias", "encoder.1.bias", "encoder.1.weight"],
    }


def test_adafactor_steps_scale_with_each_parameter():
    """KGT5's Adafactor: a unit-scale embedding and a small-init matrix move by the same share of their
    size under the same gradient (without that, T5's embeddings barely train from scratch)."""
    big = nn.Parameter(torch.full((8, 8), 1.0))
    small = nn.Parameter(torch.full((8, 8), 0.01))
    model = nn.ParameterList([big, small])
    opt = build_optimizer(model, TrainConfig(optimizer="adafactor", lr=1e-2, weight_decay=0.0), set(),
                          torch.device("cpu"))
    before = [p.detach().clone() for p in model]
    for p in model:
        p.grad = torch.full_like(p, 0.5)
    opt.step()
    moved = [((b - p.detach()).abs().mean() / b.abs().mean()).item() for b, p in zip(before, model)]
    assert moved[0] > 0 and moved[0] == pytest.approx(moved[1], rel=0.05)


def test_best_checkpoint_selection_and_early_stopping(tmp_path):
    scores = iter([0.5, 0.7, 0.6, 0.65, 0.9])  # best at the 2nd evaluation, then 2 without improvement
    snapshots = {}

    def scripted(model):
        snapshots[len(snapshots) + 1] = {k: v.clone() for k, v in model.state_dict().items()}
        return {"accuracy": next(scores), "loss": 1.0}

    result, out = run(tmp_path, "out", epochs=5, eval_every=2, metric_for_best="accuracy",
                      early_stopping_patience=2, eval_fn=scripted, checkpoint_dir=tmp_path / "ckpt")
    assert result.stopped_early and result.global_step == 8 and len(snapshots) == 4
    assert result.best_step == 4 and result.best_metrics == {"accuracy": 0.7, "loss": 1.0}
    best = snapshots[2]
    saved = weights(out)
    assert all(torch.equal(saved[k], best[k]) for k in best)
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == [COMPLETE]


def test_metric_for_best_must_be_reported(tmp_path):
    with pytest.raises(ConfigError, match="'accuracy' is not among"):
        run(tmp_path, "out", metric_for_best="accuracy", eval_fn=lambda m: {"loss": 1.0})


class Interrupt(Exception):
    """Stands in for a kill: raised from inside the training step."""


def interrupt_after(micro_steps: int):
    calls = 0

    def loss_fn(model, batch):
        nonlocal calls
        calls += 1
        if calls > micro_steps:
            raise Interrupt
        return mse(model, batch)

    return loss_fn


def test_resumed_run_ends_bit_identical_to_an_uninterrupted_one(tmp_path):
    data = Regression(100, noise=0.05)  # 6 steps per epoch (global batch 16), 4 examples dropped
    held_out = Regression(32, seed=9)
    settings = {"data": data, "epochs": 3, "batch_size": 8, "grad_accum": 2, "warmup_ratio": 0.2,
                "freeze_lm_epochs": 1, "checkpoint_every": 4, "eval_every": 5, "optimizer": "radam",
                "collate_fn": noisy_collate, "eval_fn": eval_on(held_out), "is_lm_param": is_lm,
                "log_every": 3, "log_dir": tmp_path / "plots"}
    full, full_out = run(tmp_path, "full", model=Tiny(dropout=0.2), checkpoint_dir=tmp_path / "ck_full",
                         **settings)

    ckpt = tmp_path / "ck"
    with pytest.raises(Interrupt):  # dies in step 10: the last checkpoint is from step 8
        run(tmp_path, "resumed", model=Tiny(dropout=0.2), checkpoint_dir=ckpt,
            loss_fn=interrupt_after(9 * 2 + 1), **settings)
    assert not (tmp_path / "resumed").exists()
    state = torch.load(ckpt / LAST, weights_only=True)
    assert state["progress"]["global_step"] == 8 and state["progress"]["epoch"] == 1
    assert {"model", "optimizer", "scheduler", "rng", "data"} <= set(state)
    assert set(state["rng"]) >= {"python", "numpy", "torch"}
    assert set(torch.load(ckpt / BEST, weights_only=True)) == set(Tiny().state_dict())
    (ckpt / f".{LAST}.tmp-12345").write_bytes(b"half a checkpoint")  # a kill during a save

    # A different initialisation and loader workers must not matter: everything comes from the checkpoint.
    resumed, resumed_out = run(tmp_path, "resumed", model=Tiny(dropout=0.2, seed=99), checkpoint_dir=ckpt,
                               num_workers=2, **settings)
    assert resumed.global_step == full.global_step == 18
    assert (resumed.best_step, resumed.best_metrics) == (full.best_step, full.best_metrics)
    a, b = weights(full_out), weights(resumed_out)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert sorted(p.name for p in ckpt.iterdir()) == [COMPLETE]
    # The log dir survived the kill: rows after the checkpoint (step 9) were dropped and logged again.
    rows = (tmp_path / "plots" / "plots" / "metrics" / "train" / "loss.tsv").read_text().split()
    assert rows[2::2] == ["3", "6", "9", "12", "15", "18"]


KILL_SETTINGS = {"epochs": 2, "checkpoint_every": 2, "seed": 5}
# Every run of this test is a fresh process, as a stage rerun after a kill is: what earlier tests
# did to this process's torch and environment cannot make the runs differ.
_CHILD = """
import logging, sys, time, torch
sys.path.insert(0, {tests!r})
from pathlib import Path
from test_training import KILL_SETTINGS, Tiny, mse, run
torch.set_num_threads(1)
def slow(model, batch):
    time.sleep(0.05)
    return mse(model, batch)
logging.basicConfig(level=logging.INFO)
ckpt = {ckpt!r}
run(Path({tmp!r}), {name!r}, model=Tiny(dropout=0.1), loss_fn=slow if {slow!r} else mse,
    checkpoint_dir=ckpt and Path(ckpt), **KILL_SETTINGS)
"""


def _child(tmp_path: Path, name: str, ckpt: Path | None, slow: bool) -> list[str]:
    code = _CHILD.format(tests=str(Path(__file__).parent), tmp=str(tmp_path), name=name,
                         ckpt=ckpt and str(ckpt), slow=slow)
    return [sys.executable, "-c", code]


def load_last(ckpt: Path) -> dict:
    return torch.load(ckpt / LAST, weights_only=True)


def test_sigkilled_run_resumes_to_the_same_weights(tmp_path):
    ckpt = tmp_path / "ck"
    child = subprocess.Popen(_child(tmp_path, "killed", ckpt, slow=True))
    try:
        # A guard against a hung child, not a speed bound: beside the e2e repro this test runs in the
        # idle scheduling class and can get no CPU for a minute (the loop ends at step 4 anyway).
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline and child.poll() is None:
            if (ckpt / LAST).exists() and load_last(ckpt)["progress"]["global_step"] >= 4:
                break
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL and not (tmp_path / "killed").exists()
    step = load_last(ckpt)["progress"]["global_step"]
    assert 4 <= step < 16

    resumed = subprocess.run(_child(tmp_path, "killed", ckpt, slow=False), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming from {ckpt / LAST} at epoch" in resumed.stderr  # not a fresh start
    subprocess.run(_child(tmp_path, "full", None, slow=False), check=True)
    a, b = weights(tmp_path / "full"), weights(tmp_path / "killed")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_checkpoint_from_other_settings_is_not_resumed(tmp_path):
    ckpt = tmp_path / "ck"
    with pytest.raises(Interrupt):
        run(tmp_path, "a", checkpoint_dir=ckpt, checkpoint_every=2, loss_fn=interrupt_after(5))
    _, fresh = run(tmp_path, "fresh", lr=5e-3)
    _, after = run(tmp_path, "after", lr=5e-3, checkpoint_dir=ckpt, checkpoint_every=2)
    a, b = weights(fresh), weights(after)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_dvclive_step_metrics(tmp_path):
    logs = tmp_path / "plots"
    run(tmp_path, "out", log_dir=logs, eval_fn=eval_on(Regression(16, seed=5)), log_every=4)
    metrics = logs / "plots" / "metrics"
    loss_rows = (metrics / "train" / "loss.tsv").read_text().splitlines()
    assert loss_rows[0].split("\t") == ["step", "loss"]
    assert [row.split("\t")[0] for row in loss_rows[1:]] == ["4", "8", "12", "16"]
    for name in ("lr", "samples_per_s", "abs_err", "grad_norm"):
        assert (metrics / "train" / f"{name}.tsv").exists(), name
    assert len((metrics / "eval" / "loss.tsv").read_text().splitlines()) == 1 + 2  # 2 epochs
    summary = json.loads((logs / "metrics.json").read_text())
    assert "loss" in summary["eval"] and summary["step"] == 16
    assert not list(tmp_path.rglob("dvc.yaml"))


def test_plain_model_saved_as_safetensors_and_config(tmp_path):
    model = Tiny(dropout=0.1)
    run(tmp_path, "out", model=model, epochs=1)
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config == {"class": f"{Tiny.__module__}.Tiny", "config": {"dropout": 0.1}}
    loaded = load_weights(Tiny(seed=5), tmp_path / "out")
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), model.state_dict().values()))


def test_hf_model_saved_with_save_pretrained(tmp_path):
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=16, num_labels=2)
    model = BertForSequenceClassification(config)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, 50, (32, 12), generator=g)
    data = [(ids[i], int(ids[i, 0] > 25)) for i in range(32)]

    def hf_collate(items):
        input_ids = torch.stack([x for x, _ in items])
        return {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids),
                "labels": torch.tensor([y for _, y in items])}

    logs = tmp_path / "logs"
    run(tmp_path, "hf", model=model, data=data, collate_fn=hf_collate, loss_fn=lambda m, b: (m(**b).loss, {}),
        epochs=1, lr=1e-3, lm_lr=1e-4, is_lm_param=lambda n: n.startswith("bert."), log_dir=logs, log_every=2)
    out = tmp_path / "hf"
    assert (out / "model.safetensors").exists() and (out / "config.json").exists()
    loaded = BertForSequenceClassification.from_pretrained(out)
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v.cpu()), k
    tokens_rows = (logs / "plots" / "metrics" / "train" / "tokens_per_s.tsv").read_text().splitlines()
    assert len(tokens_rows) == 1 + 2 and float(tokens_rows[1].split("\t")[-1]) > 0
    lm_lr = (logs / "plots" / "metrics" / "train" / "lm_lr.tsv").read_text().splitlines()
    assert float(lm_lr[1].split("\t")[-1]) == pytest.approx(1e-4 * 3 / 4)  # step 2 of 4, linear decay


def test_train_config_from_params_section():
    config = train_config({"lr": 3e-5, "epochs": 2, "metric_for_best": "accuracy"}, batch_size=4, seed=None)
    assert (config.lr, config.epochs, config.batch_size, config.seed) == (3e-5, 2, 4, 0)
    assert config.greater_is_better is True and TrainConfig().greater_is_better is False
    assert config.lm_learning_rate == 3e-5
    with pytest.raises(ConfigError, match=r"^finetune\.medqa\.train\.lr: .*got 'fast'"):
        train_config({"lr": "fast"}, where="finetune.medqa.train")
    with pytest.raises(ConfigError, match=r"^train\.lerning_rate: Extra inputs"):
        train_config({"lerning_rate": 1e-3})


def test_dataset_smaller_than_a_global_batch(tmp_path):
    with pytest.raises(ConfigError, match="fewer than one global batch"):
        run(tmp_path, "out", data=Regression(6), batch_size=4, grad_accum=2)


def test_throughput_harness_times_the_training_step():
    from kg_ml.training.throughput import measure_train_step, mfu, transformer_train_flops_per_token

    data = Regression(32)
    batches = [collate([data[i] for i in range(j, j + 8)]) | {"num_tokens": 8 * 16} for j in (0, 8, 16)]
    model = Tiny()
    before = model.head.weight.detach().clone()
    config = TrainConfig(device="cpu", grad_accum=2)
    stats = measure_train_step(model, batches, mse, config, steps=4, warmup=1)
    assert stats["device"] == "cpu" and stats["step_s"] > 0 and stats["peak_mem_bytes"] > 0
    assert stats["tokens_per_s"] == pytest.approx(stats["samples_per_s"] * 16)
    assert not torch.equal(model.head.weight, before)  # it really trained
    assert mfu(1e9, 1e3, "cpu") is None
    assert transformer_train_flops_per_token(100, 2, 8, 4) == 6 * 100 + 12 * 2 * 8 * 4


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@cuda
def test_cuda_runs_bf16_autocast_without_a_host_sync_per_step(tmp_path):
    """Syncs happen per log line / evaluation / save, never per step: 10 and 30 steps sync equally often."""
    seen = []

    def loss_fn(model, batch):
        seen.append((batch["x"].device.type, torch.is_autocast_enabled("cuda")))
        return mse(model, batch)

    def syncs(steps: int) -> int:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
            try:
                run(tmp_path, f"out{steps}", data=Regression(8 * steps), epochs=1, device="auto",
                    log_every=1000, loss_fn=loss_fn)
            finally:
                torch.cuda.set_sync_debug_mode("default")
        return sum("synchroniz" in str(w.message) for w in caught)

    few, many = syncs(10), syncs(30)
    assert set(seen) == {("cuda", True)}
    assert many <= few + 2, (few, many)  # 20 more steps, no more syncs (give or take a one-off)


@cuda
def test_cuda_compiled_forward_trains_and_saves_plain_weights(tmp_path):
    held_out = Regression(64, seed=7)
    model = Tiny()
    before = eval_on(held_out)(model)["loss"]
    result, out = run(tmp_path, "out", model=model, data=Regression(128), epochs=4, device="auto",
                      compile=True, eval_fn=eval_on(held_out))
    assert result.best_metrics["loss"] < 0.5 * before
    assert weights(out).keys() == Tiny().state_dict().keys()  # no torch.compile prefixes


def test_compile_is_for_cuda_runs_a_cpu_run_stays_eager(tmp_path, monkeypatch, caplog):
    """The full profile sets train.compile; on a CPU (its rehearsal) the forward runs eager, with
    the same weights as compile: false, instead of compiling C++ for minutes."""
    def no_compile(*args, **kwargs):
        raise AssertionError("torch.compile called on a CPU run")

    monkeypatch.setattr(torch, "compile", no_compile)
    with caplog.at_level("INFO", logger="kg_ml.training"):
        _, out = run(tmp_path, "compiled", data=Regression(32), compile=True)
    assert "train.compile: the forward runs eager on cpu" in caplog.text
    _, plain = run(tmp_path, "plain", data=Regression(32))
    assert all(torch.equal(a, b) for a, b in zip(weights(out).values(), weights(plain).values()))
