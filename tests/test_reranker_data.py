"""KARD reranker training data: rationale + question candidates, rationale-BM25 labels, grouping."""

from __future__ import annotations

import numpy as np
import torch

from kg_ml.retrieval.bm25 import BM25Index
from kg_ml.retrieval.config import BM25Params, TokenizerParams
from kg_ml.retrieval.ranking import NO_DOC
from kg_ml.retrieval.reranker.data import Collate, Example, build_examples, rationale_rows
from kg_ml.retrieval.reranker.states import TokenStates

CORPUS = ["alpha beta", "beta gamma", "gamma delta", "delta epsilon", "epsilon zeta"]


def test_candidates_labels_and_grouping_by_question() -> None:
    bm25 = BM25Index.build(CORPUS, TokenizerParams(), BM25Params())
    question_rows = np.array([[4, NO_DOC], [0, 1]])  # BM25 top rows of questions 0 and 1
    examples = build_examples(bm25, question_rows, np.array([0, 0, 1]), ["alpha", "delta", "zeta"], rationale_k=2)
    assert [e.query for e in examples] == [0, 1]
    first, second = examples
    # question 0: rationale "alpha" -> [0] + question's [4]; rationale "delta" -> [2, 3] + [4]
    assert first.candidates.tolist() == [0, 4, 2, 3]
    assert first.label_mask.tolist() == [[True, True, False, False], [False, True, True, True]]
    scores = bm25.scores([bm25.term_ids("alpha"), bm25.term_ids("delta")])
    np.testing.assert_allclose(first.labels[0, :2], scores[0, [0, 4]])
    np.testing.assert_allclose(first.labels[1, 1:], scores[1, [4, 2, 3]])
    assert first.labels[0, 1] == 0.0  # the question's passage 4 has no rationale term
    assert second.candidates.tolist() == [4, 0, 1] and second.labels.shape == (1, 3)


def test_collate_pads_candidates_and_rationales_and_rows_drop_padding() -> None:
    states = TokenStates(torch.arange(12, dtype=torch.float32).reshape(6, 2), torch.tensor([0, 2, 3, 6]))
    examples = [Example(0, np.array([7, 8]), np.ones((2, 2), np.float32), np.array([[True, False], [True, True]])),
                Example(1, np.array([8]), np.full((1, 1), 5.0, np.float32), np.array([[True]]))]
    batch = Collate(states, states, {7: 1, 8: 2})(examples)
    assert batch["cand_index"].tolist() == [[0, 1], [1, -1]]  # distinct passages [7, 8] gathered once
    assert batch["doc_states"].shape == (2, 3, 2) and batch["doc_mask"].tolist() == [[True, False, False], [True] * 3]
    assert batch["query_mask"].tolist() == [[True, True], [True, False]]
    sim = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    rows, labels, mask = rationale_rows(sim, batch)
    assert rows.tolist() == [[1.0, 2.0], [1.0, 2.0], [3.0, 4.0]]  # 3 real rationales; the padded one dropped
    assert labels[2].tolist() == [5.0, 0.0] and mask.tolist() == [[True, False], [True, True], [True, False]]
