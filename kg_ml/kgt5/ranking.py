"""Filtered ranking with ties (KGT5-context's rule) and the rank metrics.

A query's candidates are the entities it scored; known true answers other than the gold one are
filtered out (train + valid + test). With ``better`` candidates scoring above the gold and ``ties``
others scoring equal, rank = better + ties // 2 + 1. A gold entity without a score (never sampled)
ranks last: rank = number of entities.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np


def tie_rank(better: int, ties: int) -> int:
    return better + ties // 2 + 1


def filtered_rank(candidates: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray, gold: int,
                  known: Collection[int], num_entities: int) -> int:
    """Rank of ``gold`` among distinct ``candidates`` with ``scores``, other ``known`` answers removed."""
    candidates, scores = np.asarray(candidates), np.asarray(scores, dtype=np.float64)
    at = np.flatnonzero(candidates == gold)
    if at.size == 0:
        return num_entities
    target = scores[at[0]]
    keep = candidates != gold
    if len(known):
        keep &= ~np.isin(candidates, np.fromiter(known, dtype=candidates.dtype if candidates.size else np.int64))
    others = scores[keep]
    return tie_rank(int((others > target).sum()), int((others == target).sum()))


def rank_metrics(ranks: Sequence[int] | np.ndarray, ks: Sequence[int] = (1, 3, 10), prefix: str = "") -> dict[str, float]:
    """``{prefix}mrr`` and ``{prefix}hits@k`` of ranks (1 = best); empty input gives zeros."""
    r = np.asarray(ranks, dtype=np.float64)
    if r.size == 0:
        return {f"{prefix}mrr": 0.0, **{f"{prefix}hits@{k}": 0.0 for k in ks}}
    return {f"{prefix}mrr": float(np.mean(1.0 / r)), **{f"{prefix}hits@{k}": float(np.mean(r <= k)) for k in ks}}
