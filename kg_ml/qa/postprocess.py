"""N-best span post-processing: window logits -> the best answer text of each example.

Per window, the ``n_best`` highest start and end logits are paired; a pair is a candidate when
both tokens lie in the context, end >= start and the span has at most ``max_answer_length``
tokens; its score is start logit + end logit. An example's answer is its best candidate over all
windows, cut from the original context by character offsets (Hugging Face's ``run_qa``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kg_ml.qa.features import Offset


@dataclass(frozen=True)
class Span:
    """A candidate answer: score and character range ``[start, end)`` in the context."""

    score: float
    start: int
    end: int


@dataclass(frozen=True)
class Prediction:
    text: str
    score: float  # -inf when no window produced a valid span
    start: int  # character offset in the context; -1 without a span


def _top(logits: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-logits, kind="stable")[:k]  # stable: equal logits keep token order


def window_spans(start_logits: np.ndarray, end_logits: np.ndarray, offsets: Sequence[Offset], *,
                 n_best: int, max_answer_length: int) -> list[Span]:
    """The valid candidate spans of one window (unsorted)."""
    n = len(offsets)
    starts, ends = _top(np.asarray(start_logits[:n]), n_best), _top(np.asarray(end_logits[:n]), n_best)
    spans = []
    for s in starts.tolist():
        if offsets[s] is None:
            continue
        for e in ends.tolist():
            if offsets[e] is None or e < s or e - s + 1 > max_answer_length:
                continue
            spans.append(Span(float(start_logits[s] + end_logits[e]), offsets[s][0], offsets[e][1]))
    return spans


def best_spans(spans: Sequence[Span], n_best: int) -> list[Span]:
    """The ``n_best`` highest-scoring spans; ties go to the earlier, then the shorter span."""
    return sorted(spans, key=lambda sp: (-sp.score, sp.start, sp.end))[:n_best]


def predict_answers(contexts: Sequence[str], window_example: Sequence[int], window_offsets: Sequence[Sequence[Offset]],
                    start_logits: Sequence[np.ndarray], end_logits: Sequence[np.ndarray], *,
                    n_best: int = 20, max_answer_length: int = 30) -> list[Prediction]:
    """One prediction per context, from the logits of all its windows."""
    per_example: list[list[Span]] = [[] for _ in contexts]
    for ex, offs, sl, el in zip(window_example, window_offsets, start_logits, end_logits):
        per_example[ex] += window_spans(sl, el, offs, n_best=n_best, max_answer_length=max_answer_length)
    out = []
    for context, spans in zip(contexts, per_example):
        top = best_spans(spans, 1)
        out.append(Prediction(context[top[0].start:top[0].end], top[0].score, top[0].start) if top
                   else Prediction("", float("-inf"), -1))
    return out
