"""The T5 student: a hub checkpoint, or a small T5 from scratch with a tokenizer trained on the
task's own texts (questions, options, knowledge passages, rationales)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from transformers import AutoTokenizer, T5ForConditionalGeneration

from kg_ml.errors import InputError
from kg_ml.kard.config import Student
from kg_ml.kgt5.model import new_t5
from kg_ml.kgt5.tokenizer import train_tokenizer

log = logging.getLogger(__name__)


def build_student(params: Student, texts: Iterable[str], *, offline: bool = True):
    """(model, tokenizer); seed the RNGs first for reproducible from-scratch weights. A hub
    ``params.pretrained`` resolves as every hub model does (`resolve_pretrained`): ``offline``
    (the sample profile) or under ``HF_HUB_OFFLINE=1`` only from the local cache, else a one-line
    error naming it."""
    if params.pretrained:
        from kg_ml.models.pretrained import resolve_pretrained

        path = resolve_pretrained(params.pretrained, offline=offline)
        return T5ForConditionalGeneration.from_pretrained(path), AutoTokenizer.from_pretrained(path)
    tokenizer = train_tokenizer(texts, params.tokenizer)
    model = new_t5(params.size, tokenizer)
    log.info("student: T5 from scratch, %d parameters, vocabulary %d",
             sum(p.numel() for p in model.parameters()), len(tokenizer))
    return model, tokenizer


def load_student(model_dir: str | Path):
    """A trained student and the tokenizer saved beside it."""
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise InputError(model_dir, "no trained student here (run distill first)")
    return T5ForConditionalGeneration.from_pretrained(str(model_dir)).eval(), AutoTokenizer.from_pretrained(str(model_dir))


def encode_inputs(tokenizer, texts: Sequence[str], max_length: int, keep_tail: str) -> tuple[list[list[int]], int]:
    """Token ids of the inputs; an input over ``max_length`` loses tokens before its final
    ``keep_tail`` marker (the end of the knowledge), so the prompt still ends in the marker.
    Returns the ids and how many inputs were cut."""
    tail = tokenizer(" " + keep_tail, add_special_tokens=False).input_ids
    out, cut = [], 0
    for ids in tokenizer(list(texts)).input_ids:
        if len(ids) > max_length:
            # ids end with the marker then </s>: keep the head, the marker and </s>.
            keep = len(tail) + 1
            ids = ids[: max_length - keep] + ids[-keep:]
            cut += 1
        out.append(ids)
    return out, cut


def encode_targets(tokenizer, texts: Sequence[str], max_length: int) -> list[list[int]]:
    """Target ids ending in ``</s>``; over-long targets keep their start (and so lose the answer,
    which the log reports as truncation)."""
    out = []
    for ids in tokenizer(list(texts)).input_ids:
        out.append(ids[: max_length - 1] + [ids[-1]] if len(ids) > max_length else ids)
    return out
