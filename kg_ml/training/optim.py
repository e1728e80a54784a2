"""Optimizer with LM / non-LM parameter groups, and the linear warmup-then-decay schedule."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

from kg_ml.training.config import TrainConfig

LM, OTHER = "lm", "other"


def lm_parameter_names(model: nn.Module, is_lm_param: Callable[[str], bool] | None) -> set[str]:
    """Names of the trainable parameters ``is_lm_param`` selects (none without it)."""
    if is_lm_param is None:
        return set()
    return {n for n, p in model.named_parameters() if p.requires_grad and is_lm_param(n)}


def param_groups(model: nn.Module, config: TrainConfig, lm_names: Iterable[str]) -> list[dict]:
    """Up to four groups: (non-LM | LM) x (decayed | not). Biases and norm weights (ndim < 2) never
    decay. Parameters that do not require grad when training starts are left out (frozen by the caller).
    """
    lm_names = set(lm_names)
    buckets: dict[tuple[str, bool], list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if p.requires_grad:
            buckets.setdefault((LM if name in lm_names else OTHER, p.ndim >= 2), []).append(p)
    lrs = {LM: config.lm_learning_rate, OTHER: config.lr}
    return [{"name": kind, "params": buckets[kind, decay], "lr": lrs[kind],
             "weight_decay": config.weight_decay if decay else 0.0}
            for kind in (OTHER, LM) for decay in (True, False) if (kind, decay) in buckets]


def build_optimizer(model: nn.Module, config: TrainConfig, lm_names: Iterable[str],
                    device: torch.device) -> torch.optim.Optimizer:
    groups = param_groups(model, config, lm_names)
    if config.optimizer == "adamw":
        # The fused kernel is the fastest AdamW on GPU; on CPU the default loop keeps runs bit-stable.
        return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas, eps=config.eps,
                                 fused=device.type == "cuda")
    if config.optimizer == "radam":
        return torch.optim.RAdam(groups, lr=config.lr, betas=config.betas, eps=config.eps,
                                 decoupled_weight_decay=True)
    from transformers.optimization import Adafactor

    # An external lr so the shared warmup/decay schedule applies (no relative step). Parameter
    # scaling stays on, as in KGT5: without it T5's embeddings (std 1.0, 20-60x the other weights)
    # barely move at an lr that suits the rest, and a from-scratch KGT5 never leaves the
    # most-frequent-answer baseline on the sample.
    return Adafactor(groups, lr=config.lr, relative_step=False, scale_parameter=True, warmup_init=False)


def warmup_steps(config: TrainConfig, total_steps: int) -> int:
    return math.ceil(config.warmup_ratio * total_steps)


def linear_schedule(optimizer: torch.optim.Optimizer, total_steps: int, warmup: int) -> LambdaLR:
    """Update ``s`` (0-based) runs at ``lr * (s+1)/warmup`` during warmup, then ``lr * (T-s)/(T-warmup)``,
    so no update is wasted at lr 0 and the last of ``T`` updates runs at ``lr/(T-warmup)``.
    """

    def factor(s: int) -> float:
        if s < warmup:
            return (s + 1) / warmup
        return max(0.0, (total_steps - s) / max(1, total_steps - warmup))

    return LambdaLR(optimizer, factor)
