"""The official SQuAD v1.1 / MRQA answer normalisation, exact match and token F1.

``normalize_answer`` lowercases, drops ASCII punctuation and the articles a/an/the, and squeezes
whitespace, exactly as ``evaluate-v1.1.py`` and MRQA's ``mrqa_official_eval.py``. A prediction's
score against several gold answers is its best score over them.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = frozenset(string.punctuation)


def normalize_answer(s: str) -> str:
    s = "".join(ch for ch in s.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", s).split())


def exact_match(prediction: str, gold: str) -> bool:
    return normalize_answer(prediction) == normalize_answer(gold)


def f1_score(prediction: str, gold: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def best_over(golds: Sequence[str], prediction: str) -> tuple[float, float]:
    """(exact match, F1) of ``prediction`` against its best gold answer; (0, 0) without golds."""
    if not golds:
        return 0.0, 0.0
    return (max(float(exact_match(prediction, g)) for g in golds),
            max(f1_score(prediction, g) for g in golds))


def squad_scores(predictions: Sequence[str], golds: Sequence[Sequence[str]]) -> dict[str, float]:
    """Corpus ``exact_match`` and ``f1`` in percent (the official scripts' scale)."""
    if not predictions:
        return {"exact_match": 0.0, "f1": 0.0}
    pairs = [best_over(g, p) for p, g in zip(predictions, golds, strict=True)]
    n = len(pairs)
    return {"exact_match": 100.0 * sum(em for em, _ in pairs) / n, "f1": 100.0 * sum(f1 for _, f1 in pairs) / n}
