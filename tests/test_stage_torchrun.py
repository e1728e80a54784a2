"""A training stage under ``torchrun --nproc_per_node 2`` (gloo, CPU): one process writes the
metrics, and the model and metrics match a 1-process run with the same global batch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file
from test_kg_lm_toy import tiny_params, toy_world
from test_training_ddp import _free_port

REPO = Path(__file__).resolve().parents[1]
# Summation order differs between one process and two (gradients all-reduced across ranks), so
# weights agree to float32 rounding over a few steps, not bit for bit.
ATOL = 1e-5


def _params(tmp: Path, batch_size: int) -> Path:
    """params.yaml with the tiny KG-LM, no dropout (one process and two then see one function)."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    tiny = tiny_params().model_dump(mode="json", exclude_unset=True)
    tiny["model"]["encoder_config"].update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    tiny["model"].update(gnn_dropout=0.0, head_dropout=0.0)
    tiny["medqa"]["train"].update(batch_size=batch_size, ddp_find_unused_parameters=True)
    params["kg_lm"] = tiny
    params["numerics"] = {"cpu_isa": "avx2", "cpu_threads": 1}
    path = tmp / f"params_b{batch_size}.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def _finetune(tmp: Path, world, name: str, nproc: int) -> Path:
    out = tmp / name
    launcher = ([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
                 "--master_addr", "127.0.0.1", "--master_port", str(_free_port())] if nproc > 1 else [sys.executable])
    # The same global batch: 4 per step in one process, 2 per rank in two.
    res = subprocess.run(
        [*launcher, str(REPO / "stages" / "finetune_medqa.py"), "--params", str(_params(tmp, 4 // nproc)),
         "--variant", "scratch", "--questions", str(world.questions), "--graphs", str(world.graphs),
         "--embeddings", str(world.embeddings), "--out", str(out / "model"), "--checkpoints", str(out / "ckpt"),
         "--plots", str(out / "plots"), "--metrics", str(out / "metrics.json")],
        cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    return out


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch without distributed")
def test_finetune_medqa_under_torchrun_matches_one_process(tmp_path: Path) -> None:
    world = toy_world(tmp_path / "world")
    single = _finetune(tmp_path, world, "single", 1)
    ddp = _finetune(tmp_path, world, "ddp", 2)

    one, two = (json.loads((d / "metrics.json").read_text()) for d in (single, ddp))
    assert set(two) == set(one) and two["best_step"] == one["best_step"]  # rank 0's file, not rank 1's
    for key, value in one.items():
        if isinstance(value, float):
            assert two[key] == pytest.approx(value, abs=1e-4), key
    a, b = load_file(single / "model" / "model.safetensors"), load_file(ddp / "model" / "model.safetensors")
    assert a.keys() == b.keys()
    # The choice scorer's last bias adds one constant to every option's score, which the softmax over
    # options ignores: its true gradient is zero, so Adam's normalised step turns rounding noise into
    # +-lr steps that depend on the summation order. Every other weight must match.
    for k in a.keys() - {"head.net.4.bias"}:
        torch.testing.assert_close(b[k], a[k], atol=ATOL, rtol=0, msg=k)
