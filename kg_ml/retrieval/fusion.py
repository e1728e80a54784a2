"""Reciprocal-rank fusion (Cormack et al. 2009): score(d) = sum over rankings of 1 / (k + rank)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kg_ml.retrieval.ranking import NO_DOC, top_k_row


def reciprocal_rank_fusion(rankings: Sequence[np.ndarray], k: int = 60,
                           depth: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fuse ranked document rows of one query (each best first, `NO_DOC`-padded).

    Returns (rows int64 [depth], fused scores float32 [depth]) best first, ties by lower row,
    padded with `NO_DOC` / -inf; ``depth`` defaults to every document seen.
    """
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking.tolist(), start=1):
            if doc != NO_DOC:
                fused[doc] = fused.get(doc, 0.0) + 1.0 / (k + rank)
    depth = len(fused) if depth is None else depth
    docs = np.array(sorted(fused), dtype=np.int64)  # sorted, so top_k_row's ties go to the lower row
    scores = np.array([fused[d] for d in docs.tolist()], dtype=np.float64)
    pick = top_k_row(scores, depth)
    rows = np.full(depth, NO_DOC, dtype=np.int64)
    vals = np.full(depth, -np.inf, dtype=np.float32)
    rows[: pick.size], vals[: pick.size] = docs[pick], scores[pick]
    return rows, vals


def fuse_batch(batches: Sequence[np.ndarray], k: int = 60, depth: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """`reciprocal_rank_fusion` per query over aligned [Q, *] row arrays."""
    n = batches[0].shape[0]
    rows = np.empty((n, depth), dtype=np.int64)
    vals = np.empty((n, depth), dtype=np.float32)
    for q in range(n):
        rows[q], vals[q] = reciprocal_rank_fusion([b[q] for b in batches], k, depth)
    return rows, vals
