"""The span model: a Hugging Face encoder with its question-answering head (start/end logits),
and batched inference over feature windows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForQuestionAnswering, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerFast
from transformers.utils import logging as hf_logging

from kg_ml.errors import InputError
from kg_ml.models.pretrained import offline_profile, resolve_pretrained
from kg_ml.qa.features import EvalFeatures, check_fast

HEAD_PREFIX = "qa_outputs."  # the span head of every AutoModelForQuestionAnswering


def is_lm_param(name: str) -> bool:
    """Encoder parameters (trained at ``lm_lr``); the span head is everything else."""
    return not name.startswith(HEAD_PREFIX)


@contextmanager
def _quiet_loading() -> Iterator[None]:
    """Hide the load report of a fresh head / dropped layers: expected here, not a problem."""
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


def new_span_model(encoder: str, *, num_hidden_layers: int | None = None, overrides: dict | None = None,
                   profile: str = "sample") -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """A pretrained encoder (optionally only its first ``num_hidden_layers`` layers, its config
    values ``overrides`` replaced) with a fresh span head."""
    path = resolve_pretrained(encoder, offline=offline_profile(profile))
    tokenizer = check_fast(AutoTokenizer.from_pretrained(path))
    overrides = dict(overrides or {})
    if num_hidden_layers is not None:
        overrides["num_hidden_layers"] = num_hidden_layers
    with _quiet_loading():
        model = AutoModelForQuestionAnswering.from_pretrained(path, **overrides)
    return model, tokenizer


def load_span_model(model_dir: str | Path) -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """A finetuned span model and its tokenizer, as finetune@hotpotqa saved them."""
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise InputError(model_dir, "no config.json here (run finetune@hotpotqa first)")
    return (AutoModelForQuestionAnswering.from_pretrained(str(model_dir)).eval(),
            check_fast(AutoTokenizer.from_pretrained(str(model_dir))))


@torch.no_grad()
def window_logits(model: PreTrainedModel, tokenizer: PreTrainedTokenizerFast, features: EvalFeatures,
                  batch_size: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Start and end logits of every window (unpadded, float32), in window order.

    Windows run in batches of similar length so little compute goes to padding.
    """
    device = next(model.parameters()).device
    n = len(features.encodings)
    order = sorted(range(n), key=lambda i: (len(features.encodings[i]["input_ids"]), i))
    starts: list[np.ndarray] = [np.empty(0, np.float32)] * n
    ends: list[np.ndarray] = [np.empty(0, np.float32)] * n
    for lo in range(0, n, batch_size):
        idx = order[lo:lo + batch_size]
        batch = tokenizer.pad([features.encodings[i] for i in idx], return_tensors="pt")
        out = model(**{k: v.to(device) for k, v in batch.items()})
        s, e = out.start_logits.float().cpu().numpy(), out.end_logits.float().cpu().numpy()
        for row, i in enumerate(idx):
            length = len(features.encodings[i]["input_ids"])
            cut = slice(-length, None) if tokenizer.padding_side == "left" else slice(length)
            starts[i], ends[i] = s[row, cut], e[row, cut]
    return starts, ends


class SpanCollate:
    """Training batches: windows padded to the longest in the batch, with their span labels."""

    def __init__(self, tokenizer: PreTrainedTokenizerFast) -> None:
        self.tokenizer = tokenizer

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        inputs = [{k: v for k, v in item.items() if not k.endswith("_positions")} for item in items]
        batch = dict(self.tokenizer.pad(inputs, return_tensors="pt"))
        width = batch["input_ids"].shape[1]
        left = self.tokenizer.padding_side == "left"  # positions move with the padding in front
        for key in ("start_positions", "end_positions"):
            batch[key] = torch.tensor([item[key] + (width - len(item["input_ids"]) if left else 0)
                                       for item in items], dtype=torch.long)
        return batch


def span_loss(model: PreTrainedModel, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
    """The head's own loss: mean of the start and end cross-entropies."""
    return model(**batch).loss, {}
