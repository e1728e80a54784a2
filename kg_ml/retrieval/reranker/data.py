"""KARD reranker training data: candidates and BM25 targets per (question, rationale).

For each rationale: candidates = its top ``rationale_k`` passages by BM25 with the rationale as the
query, then the question's top ``question_k`` by BM25 with the question (+ options) as the query
(duplicates dropped, rationale side first); label of a candidate = its BM25 score against the
rationale (0 when it matches no rationale term). Both rankings come from one score vector per
rationale, so re-scoring question-side candidates costs nothing extra.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from kg_ml.retrieval.bm25 import BM25Index
from kg_ml.retrieval.ranking import NO_DOC, top_k_row
from kg_ml.retrieval.reranker.states import TokenStates


@dataclass(frozen=True)
class Example:
    query: int  # position of the question (its text and frozen states)
    candidates: np.ndarray  # int64 passage rows
    labels: np.ndarray  # float32 rationale-BM25 scores of the candidates


def build_examples(bm25: BM25Index, question_rows: np.ndarray, rationale_question: np.ndarray,
                   rationale_texts: Sequence[str], *, rationale_k: int, batch_size: int = 256) -> list[Example]:
    """One example per rationale; ``question_rows`` [Q, question_k] = BM25 top rows of each question."""
    terms = [bm25.term_ids(t) for t in rationale_texts]
    out: list[Example] = []
    step = bm25.batch_size(batch_size)
    for lo in tqdm(range(0, len(terms), step), desc="rationale candidates", unit=" batches",
                   leave=False, disable=None):
        scores = bm25.scores(terms[lo: lo + step])
        for r in range(scores.shape[0]):
            q = int(rationale_question[lo + r])
            row = scores[r]
            top = top_k_row(row, rationale_k, min_score=0.0)
            extra = question_rows[q][question_rows[q] != NO_DOC]
            cands = np.array(list(dict.fromkeys([*top.tolist(), *extra.tolist()])), dtype=np.int64)
            out.append(Example(q, cands, row[cands].astype(np.float32)))
    return out


class ExampleDataset(torch.utils.data.Dataset):
    def __init__(self, examples: Sequence[Example]) -> None:
        self.examples = list(examples)

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> Example:
        return self.examples[i]


class Collate:
    """Examples -> a batch of tensors over the cached frozen states.

    Passages shared by several examples of the batch are gathered once (``doc_states`` [U, Ld, H])
    and referenced through ``cand_index`` [B, C] (-1 = padding).
    """

    def __init__(self, query_states: TokenStates, passage_states: TokenStates, passage_slot: dict[int, int]) -> None:
        self.query_states = query_states
        self.passage_states = passage_states
        self.passage_slot = passage_slot

    def __call__(self, examples: Sequence[Example]) -> dict[str, torch.Tensor]:
        q_states, q_mask = self.query_states.gather([e.query for e in examples])
        unique = sorted({int(r) for e in examples for r in e.candidates})
        where = {r: i for i, r in enumerate(unique)}
        d_states, d_mask = self.passage_states.gather([self.passage_slot[r] for r in unique])
        width = max(len(e.candidates) for e in examples)
        cand = torch.full((len(examples), width), -1, dtype=torch.long)
        labels = torch.zeros(len(examples), width)
        for b, e in enumerate(examples):
            cand[b, : len(e.candidates)] = torch.tensor([where[int(r)] for r in e.candidates])
            labels[b, : len(e.candidates)] = torch.from_numpy(e.labels)
        return {"query_states": q_states, "query_mask": q_mask, "doc_states": d_states, "doc_mask": d_mask,
                "cand_index": cand, "cand_mask": cand >= 0, "labels": labels}


def candidate_scores(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Reranker similarities [B, C] of a collated batch (padding candidates hold junk: mask them).
    Goes through ``model(...)`` so a DDP wrapper sees the call."""
    return model(batch["query_states"], batch["query_mask"], batch["doc_states"], batch["doc_mask"],
                 batch["cand_index"])
