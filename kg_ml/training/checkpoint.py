"""Resumable checkpoints and the final model directory.

A checkpoint directory holds ``last.pt`` (model, optimizer, scheduler, data position, RNG
states, best-so-far, and a fingerprint of the settings it belongs to) and ``best.pt`` (the
weights of the best evaluation so far). Both are written atomically with ``torch.save`` and only
contain tensors and plain Python values, so they load with ``torch.load(weights_only=True)``.
When a run completes both are deleted and ``complete.json`` is left, so the next run of the
stage starts fresh instead of "resuming" a finished run.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_model, save_model
from torch import nn

from kg_ml.io import atomic_dir, atomic_file, write_json
from kg_ml.training.config import RESUME_INSENSITIVE, TrainConfig

log = logging.getLogger(__name__)

LAST, BEST, COMPLETE = "last.pt", "best.pt", "complete.json"
WEIGHTS, CONFIG = "model.safetensors", "config.json"


def fingerprint(config: TrainConfig, model: nn.Module, n_examples: int, world: int, extra: str | None) -> str:
    """What must match for a checkpoint to be resumed: result-relevant settings, the parameter
    names and shapes, the dataset size, the world size and the caller's ``extra`` key."""
    settings = config.model_dump(mode="json", exclude=set(RESUME_INSENSITIVE))
    shapes = [[name, list(t.shape), str(t.dtype)] for name, t in model.state_dict().items()]
    blob = json.dumps([settings, shapes, n_examples, world, extra], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def save(path: Path, obj: Any) -> None:
    with atomic_file(path) as tmp:
        torch.save(obj, tmp)


def load(path: Path) -> Any:
    return torch.load(path, map_location="cpu", weights_only=True)


def load_resumable(checkpoint_dir: Path | None, key: str) -> dict | None:
    """The last checkpoint if there is one for these settings; a mismatching one is ignored."""
    if checkpoint_dir is None or not (checkpoint_dir / LAST).exists():
        return None
    ckpt = load(checkpoint_dir / LAST)
    if ckpt.get("fingerprint") != key:
        log.warning("%s: made with other settings, data size or world size; starting afresh",
                    checkpoint_dir / LAST)
        return None
    return ckpt


def start_fresh(checkpoint_dir: Path) -> None:
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    _remove(checkpoint_dir, LAST, BEST, COMPLETE)


def mark_complete(checkpoint_dir: Path, summary: dict) -> None:
    _remove(checkpoint_dir, LAST, BEST)
    write_json(checkpoint_dir / COMPLETE, summary)


def _remove(checkpoint_dir: Path, *names: str) -> None:
    """Remove ``names`` and the temporaries of writes a kill interrupted (see kg_ml.io.atomic_file)."""
    for path in [*(checkpoint_dir / n for n in names), *checkpoint_dir.glob(".*.tmp-*")]:
        path.unlink(missing_ok=True)


def cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def _config_dict(model: nn.Module) -> dict:
    cfg = getattr(model, "config", None)
    for attr in ("to_dict", "model_dump"):
        if callable(getattr(cfg, attr, None)):
            return getattr(cfg, attr)()
    return dict(cfg) if isinstance(cfg, dict) else {}


def save_model_dir(model: nn.Module, out_dir: Path, save_extra: Callable[[Path], None] | None = None) -> None:
    """Write ``model`` to ``out_dir`` atomically: ``save_pretrained`` (safetensors) when the model
    has it, else ``model.safetensors`` + ``config.json`` (class name and ``model.config``).
    ``save_extra(tmp_dir)`` may add files (a tokenizer) before the directory is moved into place."""
    with atomic_dir(out_dir) as tmp:
        if callable(getattr(model, "save_pretrained", None)):
            model.save_pretrained(tmp)
        else:
            save_model(model, str(tmp / WEIGHTS))
            cls = type(model)
            meta = {"class": f"{cls.__module__}.{cls.__qualname__}", "config": _config_dict(model)}
            (tmp / CONFIG).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        if save_extra is not None:
            save_extra(tmp)


def load_weights(model: nn.Module, model_dir: str | Path) -> nn.Module:
    """Load ``model.safetensors`` written by `save_model_dir` (non-HF models) into ``model``."""
    load_model(model, str(Path(model_dir) / WEIGHTS))
    return model
