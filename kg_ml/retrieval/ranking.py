"""Top-k selection with a total order: higher score first, ties broken by the lower row index.

argpartition alone picks an arbitrary subset of equal scores at the cut; here the cut is exact, so
rankings are identical across runs, libraries and batchings.
"""

from __future__ import annotations

import numpy as np

NO_DOC = -1  # padding in index arrays when fewer than k documents qualify


def top_k_row(scores: np.ndarray, k: int, *, min_score: float | None = None) -> np.ndarray:
    """Indices of the ``k`` best entries of a 1-D array, best first.

    ``min_score``: only entries strictly above it qualify (BM25 uses 0: no term matched).
    """
    if min_score is not None:
        cand = np.flatnonzero(scores > min_score)
        vals = scores[cand]
    else:
        cand, vals = None, scores
    n = vals.shape[0]
    if k < n:
        part = np.argpartition(-vals, k - 1)[:k]
        cut = vals[part].min()
        above = np.flatnonzero(vals > cut)
        ties = np.flatnonzero(vals == cut)[: k - above.size]
        pick = np.concatenate([above, ties])
    else:
        pick = np.arange(n)
    pick = pick[np.lexsort((pick, -vals[pick]))]
    return pick if cand is None else cand[pick]


def top_k(scores: np.ndarray, k: int, *, min_score: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise `top_k_row` of a 2-D array: (indices int64 [B, k], scores float32 [B, k]),
    padded with `NO_DOC` / -inf where a row has fewer than ``k`` qualifying entries."""
    rows = scores.shape[0]
    idx = np.full((rows, k), NO_DOC, dtype=np.int64)
    val = np.full((rows, k), -np.inf, dtype=np.float32)
    for r in range(rows):
        pick = top_k_row(scores[r], k, min_score=min_score)
        idx[r, : pick.size] = pick
        val[r, : pick.size] = scores[r, pick]
    return idx, val
