"""Seeding and RNG state: derived per-step seeds and a weights_only-loadable state snapshot."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from kg_ml.training.seeds import derive_seed  # noqa: F401  (re-exported)


def seed_host(seed: int) -> None:
    """Seed python, numpy and torch's CPU generator: what data loading draws from. Cheaper than
    `seed_all`, whose ``torch.manual_seed`` also queues lazy seeding of every accelerator backend
    (formatting a stack trace each time): per item that cost more than training a tiny model."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.default_generator.manual_seed(seed)


def seed_all(seed: int) -> None:
    """Seed python, numpy and torch (CPU and every CUDA device)."""
    seed_host(seed)
    torch.manual_seed(seed)


def get_rng_state() -> dict[str, Any]:
    """RNG states as tensors and plain Python values, so ``torch.load(weights_only=True)`` reads them."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": {"version": version, "state": torch.tensor(internal, dtype=torch.int64), "gauss": gauss},
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached": float(cached)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `get_rng_state` returned."""
    py = state["python"]
    random.setstate((py["version"], tuple(py["state"].tolist()), py["gauss"]))
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["cached"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
