"""Speed and memory of the training step, for bench/train_throughput.py.

`measure_train_step` times the very step `train` runs (autocast, backward, clipping, optimizer,
schedule) on batches already on the device, so the data pipeline is left out. `mfu` turns a
throughput into model FLOPs utilisation with the usual transformer estimate
(`transformer_train_flops_per_token`, PaLM appendix B) and the device's dense bf16 peak.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from kg_ml.training.config import TrainConfig
from kg_ml.training.data import count_tokens, to_device
from kg_ml.training.distributed import resolve_device
from kg_ml.training.optim import build_optimizer, linear_schedule, lm_parameter_names
from kg_ml.training.step import LossFn, autocast_for, compiled, micro_step, update

# Dense bf16 tensor-core peaks (no sparsity), FLOP/s; the first name substring that matches wins.
PEAK_BF16_FLOPS = (("H100 PCIe", 756e12), ("H100", 989e12), ("H200", 989e12), ("GH200", 989e12),
                   ("A100", 312e12), ("L40S", 362e12), ("L4", 121e12), ("A10", 125e12))


def measure_train_step(model: nn.Module, batches: Sequence[Any], loss_fn: LossFn, config: TrainConfig, *,
                       steps: int = 20, warmup: int = 10, is_lm_param: Callable[[str], bool] | None = None,
                       samples_per_batch: int | None = None) -> dict[str, Any]:
    """Time ``steps`` optimizer steps after ``warmup`` untimed ones (compilation, autotuning and
    clock ramp-up happen there: use several), cycling through ``batches``.

    Returns step_s, samples_per_s (``samples_per_batch``, default ``config.batch_size``, per
    micro-batch), tokens_per_s (None unless batches carry ``num_tokens`` / ``attention_mask``),
    peak_mem_bytes (CUDA: peak allocated during the timed steps; CPU: the process's peak RSS) and
    device. Trains ``model`` in place.
    """
    device = resolve_device(config.device)
    model.to(device).train()
    optimizer = build_optimizer(model, config, lm_parameter_names(model, is_lm_param), device)
    scheduler = linear_schedule(optimizer, warmup + steps, 0)
    autocast = autocast_for(config.precision, device)
    batches = [to_device(b, device) for b in batches]
    forward = compiled(model, config.compile)
    accum = config.grad_accum

    def run(first: int, n: int) -> list[int]:
        used = []
        for step in range(first, first + n):
            for micro in range(accum):
                used.append((step * accum + micro) % len(batches))
                micro_step(forward, batches[used[-1]], loss_fn, autocast, accum)
            update(model, optimizer, scheduler, config.max_grad_norm)
        return used

    run(0, warmup)
    _synchronize(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    used = run(warmup, steps)
    _synchronize(device)
    elapsed = time.perf_counter() - start

    counts = [count_tokens(batches[i]) for i in used]
    tokens = None if any(c is None for c in counts) else float(sum(c.float().sum() for c in counts))
    peak = (torch.cuda.max_memory_allocated(device) if device.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)  # Linux reports KiB
    return {"step_s": elapsed / steps,
            "samples_per_s": len(used) * (samples_per_batch or config.batch_size) / elapsed,
            "tokens_per_s": None if tokens is None else tokens / elapsed,
            "peak_mem_bytes": int(peak), "device": _device_name(device)}


def transformer_train_flops_per_token(n_params: int, n_layers: int, hidden: int, seq_len: int) -> float:
    """Forward + backward FLOPs per token: 6 per weight (``n_params``: matmul weights, embeddings
    excluded unless they also project the output) + 12 * layers * hidden * seq_len for attention."""
    return 6 * n_params + 12 * n_layers * hidden * seq_len


def peak_flops(device: torch.device | str) -> float | None:
    """Dense bf16 peak of a known CUDA device, else None (CPU, unknown GPU)."""
    device = torch.device(device)
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((flops for key, flops in PEAK_BF16_FLOPS if key in name), None)


def mfu(flops_per_token: float, tokens_per_s: float, device: torch.device | str) -> float | None:
    """Model FLOPs utilisation: achieved / peak; None where the peak is unknown."""
    peak = peak_flops(device)
    return None if peak is None else flops_per_token * tokens_per_s / peak


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
