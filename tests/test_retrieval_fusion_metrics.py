"""Reciprocal-rank fusion and recall@k on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest

from kg_ml.retrieval.fusion import fuse_batch, reciprocal_rank_fusion
from kg_ml.retrieval.metrics import recall_at_k, recall_table
from kg_ml.retrieval.ranking import NO_DOC


def test_rrf_sums_reciprocal_ranks() -> None:
    rows, scores = reciprocal_rank_fusion([np.array([7, 3, 5]), np.array([3, 9, NO_DOC])], k=60)
    # 3: 1/62 + 1/61; 7: 1/61; 9: 1/62; 5: 1/63
    assert rows.tolist() == [3, 7, 9, 5]
    assert scores.tolist() == pytest.approx([1 / 62 + 1 / 61, 1 / 61, 1 / 62, 1 / 63])


def test_rrf_ties_go_to_the_lower_row_and_depth_pads() -> None:
    rows, scores = reciprocal_rank_fusion([np.array([8]), np.array([2])], k=1, depth=3)
    assert rows.tolist() == [2, 8, NO_DOC]
    assert np.isneginf(scores[2])
    rows, _ = fuse_batch([np.array([[1, 2], [4, 5]]), np.array([[2, 1], [5, 6]])], k=60, depth=2)
    assert rows.tolist() == [[1, 2], [5, 4]]


def test_recall_at_k_averages_per_query_fractions_over_queries_with_gold() -> None:
    ranked = [["a", "b", "c"], ["x", "y", "z"], ["p"]]
    gold = [["b", "q"], ["z"], []]  # the third query has no gold: skipped
    assert recall_at_k(ranked, gold, 1) == 0.0
    assert recall_at_k(ranked, gold, 2) == pytest.approx(0.25)
    assert recall_at_k(ranked, gold, 3) == pytest.approx(0.75)
    assert recall_at_k([["a"]], [[]], 1) is None
    assert recall_table(ranked, gold, [1, 3], "dev_bm25_") == {"dev_bm25_recall@1": 0.0, "dev_bm25_recall@3": 0.75}
