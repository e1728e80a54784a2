"""Process-group plumbing for runs under ``torchrun``: which device, which rank, and the few collectives."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.distributed as dist

from kg_ml.errors import ConfigError


def rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def is_main_process() -> bool:
    """True on rank 0 (and in a single-process run): the one process that writes files."""
    return rank() == 0


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def resolve_device(kind: str) -> torch.device:
    """``auto`` -> CUDA when present (the local rank's GPU under torchrun), else CPU."""
    if kind == "auto":
        kind = "cuda" if torch.cuda.is_available() else "cpu"
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("train.device: 'cuda' requested but no CUDA device is available")
        return torch.device("cuda", local_rank())
    return torch.device("cpu")


@contextmanager
def process_group() -> Iterator[None]:
    """Join the process group that torchrun's env (RANK, WORLD_SIZE, MASTER_ADDR/PORT) describes,
    and leave it after the block.

    One group serves CPU and GPU tensors (gloo and, with CUDA, NCCL), so the caller need not know
    its device. A no-op in a single process or when the group is already joined: the stage runner
    (`kg_ml.cli.run`) joins it for the whole stage, so ranks stay known after training, when the
    stage writes its outputs; the training loop joins it only when called without the runner.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        yield
        return
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank())
        dist.init_process_group("cpu:gloo,cuda:nccl")
    else:
        dist.init_process_group("gloo")
    try:
        yield
    finally:
        dist.destroy_process_group()


def all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    if world_size() > 1:
        dist.all_reduce(t)
    return t


def broadcast_flag(flag: bool, device: torch.device) -> bool:
    """Rank 0's ``flag`` on every rank (a decision only rank 0 can take, e.g. early stopping)."""
    if world_size() == 1:
        return flag
    t = torch.tensor([int(flag)], device=device)
    dist.broadcast(t, src=0)
    return bool(t.item())


def barrier() -> None:
    if world_size() > 1:
        dist.barrier()
