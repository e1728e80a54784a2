"""KARD reranker training data: candidates and BM25 targets per (question, rationale).

For each rationale: candidates = its top ``rationale_k`` passages by BM25 with the rationale as the
query, plus the question's top ``question_k`` by BM25 with the question (+ options) as the query;
label of a candidate = its BM25 score against the rationale (0 when it matches no rationale
term). Both rankings come from one score vector per rationale, so re-scoring the question-side
candidates costs nothing extra; over a sharded index (tens of millions of passages) the rationale's
top-k comes from the pruned search and the candidates are scored exactly, without a dense row.

Rationales of one question are grouped into one example: the question is encoded once and
scored against the union of their candidates, and each rationale contributes its own loss term
over its own candidates (``label_mask``). The objective is KARD's per-rationale one; the work per
epoch shrinks by the number of rationales per question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from kg_ml.retrieval.bm25 import BM25Index
from kg_ml.retrieval.bm25_shards import ShardedBM25Index
from kg_ml.retrieval.ranking import NO_DOC, top_k_row
from kg_ml.retrieval.reranker.states import TokenStates


@dataclass(frozen=True)
class Example:
    """A question and candidate passages; for training, one label row per rationale."""

    query: int  # position of the question (its text and frozen states)
    candidates: np.ndarray  # int64 passage rows [C]
    labels: np.ndarray  # float32 [R, C] rationale-BM25 scores (R = 0 at inference)
    label_mask: np.ndarray  # bool [R, C]: candidate c belongs to rationale r's candidate set

    @classmethod
    def unlabelled(cls, query: int, candidates: np.ndarray) -> "Example":
        c = candidates[candidates != NO_DOC]
        return cls(query, c, np.zeros((0, c.size), np.float32), np.zeros((0, c.size), bool))


def build_examples(bm25: BM25Index, question_rows: np.ndarray, rationale_question: np.ndarray,
                   rationale_texts: Sequence[str], *, rationale_k: int, batch_size: int = 256) -> list[Example]:
    """One example per question that has rationales (``rationale_question`` must be sorted);
    ``question_rows`` [Q, question_k] are the BM25 top rows of each question."""
    terms = [bm25.term_ids(t) for t in rationale_texts]
    per_question: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}  # q -> [(own candidates, scores)]

    def candidates_of(r: int, top: np.ndarray) -> np.ndarray:
        extra = question_rows[int(rationale_question[r])]
        return np.array(list(dict.fromkeys([*top.tolist(), *extra[extra != NO_DOC].tolist()])), dtype=np.int64)

    if isinstance(bm25, ShardedBM25Index):  # pruned top-k, then the candidates' exact scores (no dense row)
        tops, _ = bm25.search_ids(terms, rationale_k, desc="rationale candidates")
        for r, top in enumerate(tops):
            rows = candidates_of(r, top[top != NO_DOC])
            per_question.setdefault(int(rationale_question[r]), []).append((rows, bm25.scores_at(terms[r], rows)))
    else:
        step = bm25.batch_size(batch_size)
        for lo in tqdm(range(0, len(terms), step), desc="rationale candidates", unit=" batches",
                       leave=False, disable=None):
            scores = bm25.scores(terms[lo: lo + step])
            for r in range(scores.shape[0]):
                rows = candidates_of(lo + r, top_k_row(scores[r], rationale_k, min_score=0.0))
                per_question.setdefault(int(rationale_question[lo + r]), []).append((rows, scores[r][rows]))
    out = []
    for q, rationales in per_question.items():
        union = np.array(list(dict.fromkeys(int(c) for own, _ in rationales for c in own)), dtype=np.int64)
        where = {c: i for i, c in enumerate(union.tolist())}
        labels = np.zeros((len(rationales), union.size), np.float32)
        mask = np.zeros((len(rationales), union.size), bool)
        for r, (own, score) in enumerate(rationales):
            cols = [where[c] for c in own.tolist()]
            labels[r, cols], mask[r, cols] = score, True
        out.append(Example(q, union, labels, mask))
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
        rats = max(e.labels.shape[0] for e in examples)
        cand = torch.full((len(examples), width), -1, dtype=torch.long)
        labels = torch.zeros(len(examples), rats, width)
        label_mask = torch.zeros(len(examples), rats, width, dtype=torch.bool)
        for b, e in enumerate(examples):
            c, r = len(e.candidates), e.labels.shape[0]
            cand[b, :c] = torch.tensor([where[int(x)] for x in e.candidates])
            labels[b, :r, :c] = torch.from_numpy(e.labels)
            label_mask[b, :r, :c] = torch.from_numpy(e.label_mask)
        return {"query_states": q_states, "query_mask": q_mask, "doc_states": d_states, "doc_mask": d_mask,
                "cand_index": cand, "labels": labels, "label_mask": label_mask}


def rationale_rows(sim: torch.Tensor, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """(similarities, labels, mask) with one row per real rationale: [N, C] each."""
    mask = batch["label_mask"]
    keep = mask.any(-1)  # [B, R]: padded rationale rows are all False
    return sim[:, None, :].expand_as(mask)[keep], batch["labels"][keep], mask[keep]


def candidate_scores(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Reranker similarities [B, C] of a collated batch (padding candidates hold junk: mask them).
    Goes through ``model(...)`` so a DDP wrapper sees the call."""
    return model(batch["query_states"], batch["query_mask"], batch["doc_states"], batch["doc_mask"],
                 batch["cand_index"])
