"""The shared training loop under DDP: 2 CPU processes (gloo) match 1 process on the same global batch."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict

import pytest
import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file
from test_training import Regression, Tiny, collate, eval_on, is_lm, mse, one_thread  # noqa: F401

from kg_ml.training import TrainConfig, train

# No dropout or batch norm, so one process and two see the same function; the LM is frozen for the
# first epoch so the DDP re-wrap at unfreezing is exercised too.
SETTINGS = {"epochs": 3, "grad_accum": 2, "lr": 1e-2, "warmup_ratio": 0.1, "freeze_lm_epochs": 1,
            "log_every": 3, "seed": 4, "device": "cpu"}
N_EXAMPLES = 96


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(out_dir, log_dir, batch_size):
    return train(Tiny(), Regression(N_EXAMPLES), collate_fn=collate, loss_fn=mse,
                 config=TrainConfig(batch_size=batch_size, **SETTINGS), out_dir=out_dir,
                 eval_fn=eval_on(Regression(32, seed=8)), is_lm_param=is_lm, log_dir=log_dir,
                 checkpoint_dir=out_dir.parent / "ckpt")


def _rank_main(rank: int, world: int, port: int, tmp) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    # Each rank names its own log dir so the test can see that only rank 0 writes one.
    result = _run(tmp / "ddp", tmp / f"logs_rank{rank}", batch_size=4)
    (tmp / f"result_rank{rank}.json").write_text(json.dumps(asdict(result)))


def test_two_cpu_processes_equal_one_on_the_same_global_batch(tmp_path):
    mp.spawn(_rank_main, args=(2, _free_port(), tmp_path), nprocs=2, join=True)
    single = _run(tmp_path / "single" / "out", tmp_path / "single_logs", batch_size=8)

    ddp = json.loads((tmp_path / "result_rank0.json").read_text())
    other = json.loads((tmp_path / "result_rank1.json").read_text())
    assert ddp["global_step"] == single.global_step == 3 * N_EXAMPLES // 16
    assert other["global_step"] == ddp["global_step"] and other["best_metrics"] == {}  # rank 0 evaluates
    assert ddp["train_loss"] == pytest.approx(single.train_loss, abs=1e-6)
    assert other["train_loss"] == pytest.approx(single.train_loss, abs=1e-6)  # averaged over ranks
    assert ddp["best_metrics"]["loss"] == pytest.approx(single.best_metrics["loss"], abs=1e-6)
    assert ddp["best_step"] == single.best_step

    a = load_file(tmp_path / "ddp" / "model.safetensors")
    b = load_file(tmp_path / "single" / "out" / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-6, rtol=0)

    assert (tmp_path / "logs_rank0" / "plots" / "metrics" / "train" / "loss.tsv").exists()
    assert not (tmp_path / "logs_rank1").exists()
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["complete.json"]
