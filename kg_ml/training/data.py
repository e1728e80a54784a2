"""Data order and batches: a seeded, shardable epoch plan and a DataLoader built on it.

Each epoch is a permutation of the dataset drawn from (seed, epoch). It is cut into global
batches of ``batch_size * grad_accum * world_size`` (an incomplete last one is dropped); micro-step
``a`` of a step gives rank ``r`` the slice ``[(a * world + r) * batch_size, +batch_size)`` of it, so
one process with a larger batch or more accumulation sees exactly the examples that several
ranks see together. Every item and every batch is produced after reseeding the host RNGs (python,
numpy, torch CPU) from its position, so random augmentation or masking in ``__getitem__`` /
``collate_fn`` is the same with any number of workers and after a resume.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from kg_ml.errors import ConfigError
from kg_ml.training.rng import derive_seed, seed_host


class EpochPlan:
    """A batch sampler yielding this rank's micro-batches from a given (epoch, step) on."""

    def __init__(self, n: int, batch_size: int, grad_accum: int, world: int, rank: int, seed: int) -> None:
        self.n, self.batch_size, self.grad_accum = n, batch_size, grad_accum
        self.world, self.rank, self.seed = world, rank, seed
        self.global_batch = batch_size * grad_accum * world
        self.steps_per_epoch = n // self.global_batch
        if self.steps_per_epoch == 0:
            raise ConfigError(f"train.batch_size: the training set has {n} examples, fewer than one global "
                              f"batch ({batch_size} x grad_accum {grad_accum} x {world} processes)")
        self.epoch = self.start_step = 0

    def epoch_seed(self, epoch: int) -> int:
        return derive_seed(self.seed, "epoch", epoch)

    def set_epoch(self, epoch: int, start_step: int = 0) -> None:
        self.epoch, self.start_step = epoch, start_step

    def __len__(self) -> int:
        return (self.steps_per_epoch - self.start_step) * self.grad_accum

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        generator = torch.Generator().manual_seed(self.epoch_seed(self.epoch))
        perm = torch.randperm(self.n, generator=generator).tolist()
        for step in range(self.start_step, self.steps_per_epoch):
            for micro in range(self.grad_accum):
                lo = step * self.global_batch + (micro * self.world + self.rank) * self.batch_size
                key = derive_seed(self.seed, "batch", self.epoch, step, micro, self.rank)
                yield [(key, i) for i in perm[lo:lo + self.batch_size]]


class _Keyed(Dataset):
    """Index with (batch key, index); seed the RNGs from both before reading the item."""

    def __init__(self, dataset: Sequence) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, item: tuple[int, int]) -> tuple[int, Any]:
        key, index = item
        seed_host(derive_seed(key, index))
        return key, self.dataset[index]


class _SeededCollate:
    """Seed the RNGs from the batch key, then call the user's collate on the bare items."""

    def __init__(self, collate_fn: Callable[[list], Any]) -> None:
        self.collate_fn = collate_fn

    def __call__(self, items: list[tuple[int, Any]]) -> Any:
        seed_host(items[0][0])
        return self.collate_fn([item for _, item in items])


def make_loader(dataset: Sequence, plan: EpochPlan, collate_fn: Callable[[list], Any], *,
                num_workers: int, pin_memory: bool) -> DataLoader:
    if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
        raise ConfigError("train: the training dataset must be map-style (__len__ and __getitem__)")
    return DataLoader(_Keyed(dataset), batch_sampler=plan, collate_fn=_SeededCollate(collate_fn),
                      num_workers=num_workers, pin_memory=pin_memory, persistent_workers=num_workers > 0)


def to_device(batch: Any, device: torch.device) -> Any:
    """Move every tensor in a (nested) batch to ``device`` without blocking the host."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if type(batch) is dict:
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        moved = [to_device(v, device) for v in batch]
        return type(batch)(*moved) if hasattr(batch, "_fields") else type(batch)(moved)
    if callable(getattr(batch, "to", None)):  # HF BatchEncoding, PyG Data/Batch
        return batch.to(device)
    if isinstance(batch, Mapping):
        return {k: to_device(v, device) for k, v in batch.items()}
    return batch


def count_tokens(batch: Any) -> torch.Tensor | None:
    """Tokens in a batch if it says: a ``num_tokens`` entry, else the sum of its ``attention_mask``."""
    if not isinstance(batch, Mapping):
        return None
    if "num_tokens" in batch:
        return torch.as_tensor(batch["num_tokens"])
    mask = batch.get("attention_mask")
    return mask.sum() if isinstance(mask, torch.Tensor) else None
