"""The training step itself, shared by `train` and the throughput harness so both measure one thing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from functools import partial
from typing import Any

import torch
from torch import nn

Metrics = Mapping[str, "float | torch.Tensor"]
LossFn = Callable[[nn.Module, Any], tuple[torch.Tensor, Metrics]]


def autocast_for(precision: str, device: torch.device) -> Callable[[], AbstractContextManager]:
    """A factory of autocast contexts: bf16 for "bf16", and for "auto" on a CUDA device that has it."""
    if precision == "auto":
        bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    else:
        bf16 = precision == "bf16"
    return partial(torch.autocast, device.type, dtype=torch.bfloat16, enabled=bf16)


def compiled(model: nn.Module, enabled: bool) -> nn.Module:
    """``torch.compile(model)`` when enabled; the caller keeps the plain module for state dicts."""
    return torch.compile(model) if enabled else model


def micro_step(model: nn.Module, batch: Any, loss_fn: LossFn, autocast: Callable[[], AbstractContextManager],
               grad_accum: int) -> tuple[torch.Tensor, Metrics]:
    """Forward under autocast, backward of ``loss / grad_accum`` outside it; returns the loss and extras."""
    with autocast():
        loss, extra = loss_fn(model, batch)
    (loss / grad_accum).backward()
    return loss, extra


def update(model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any,
           max_grad_norm: float | None) -> torch.Tensor | None:
    """Clip, step the optimizer and the schedule, drop the gradients; returns the pre-clip norm (no sync)."""
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm) if max_grad_norm else None
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return grad_norm
