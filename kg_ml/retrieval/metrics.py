"""Recall@k of gold passages: per query |gold ∩ top-k| / |gold|, averaged over queries with gold."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from kg_ml.io.metrics import rounded


def recall_at_k(ranked: Sequence[Sequence[str]], gold: Sequence[Iterable[str]], k: int) -> float | None:
    """Mean recall@k over queries that have gold passages; None when none has."""
    per_query = [len(set(r[:k]) & g) / len(g) for r, g in zip(ranked, map(set, gold), strict=True) if g]
    return float(np.mean(per_query)) if per_query else None


def recall_table(ranked: Sequence[Sequence[str]], gold: Sequence[Iterable[str]], ks: Iterable[int],
                 prefix: str) -> dict[str, float]:
    """``{f"{prefix}recall@{k}": value}`` rounded to 4 places (metrics JSON stays diff-friendly)."""
    gold = [set(g) for g in gold]
    out = {}
    for k in ks:
        value = recall_at_k(ranked, gold, k)
        if value is not None:
            out[f"{prefix}recall@{k}"] = rounded(value)
    return out
