"""Rerank first-stage candidates with a saved reranker (models/reranker/)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import numpy as np
import torch
from transformers import AutoTokenizer

from kg_ml.errors import InputError
from kg_ml.retrieval.encoder import pick_device
from kg_ml.retrieval.ranking import NO_DOC, top_k
from kg_ml.retrieval.reranker.data import Collate, Example, candidate_scores
from kg_ml.retrieval.reranker.model import LateInteractionReranker
from kg_ml.retrieval.reranker.states import TokenStates
from kg_ml.training.step import autocast_for

log = logging.getLogger(__name__)


def score_examples(model, collate: Collate, examples: Sequence[Example], *, batch_size: int,
                   autocast: Callable[[], AbstractContextManager] = nullcontext) -> list[np.ndarray]:
    """Reranker similarity of every candidate of every example (eval mode, no gradient)."""
    device = next(model.parameters()).device
    out: list[np.ndarray] = []
    was_training = model.training
    model.eval()
    with torch.no_grad(), autocast():
        for lo in range(0, len(examples), batch_size):
            chunk = examples[lo: lo + batch_size]
            batch = {k: v.to(device) for k, v in collate(chunk).items()}
            sim = candidate_scores(model, batch).float().cpu().numpy()
            out.extend(sim[i, : len(e.candidates)] for i, e in enumerate(chunk))
    model.train(was_training)
    return out


def encode_for_rerank(model, tokenizer, queries: Sequence[str], candidates: np.ndarray,
                      passage_text: Callable[[np.ndarray], list[str]], *, batch_size: int,
                      autocast: Callable[[], AbstractContextManager] = nullcontext) -> tuple[Collate, list[Example]]:
    """Frozen states of the queries and of every distinct candidate, and one example per query."""
    cfg = model.config
    unique = np.unique(candidates[candidates != NO_DOC])
    q_states = TokenStates.compute(model, tokenizer, queries, max_length=cfg.query_max_length,
                                   batch_size=batch_size, autocast=autocast, desc="rerank questions")
    p_states = TokenStates.for_texts(model, tokenizer, passage_text(unique), max_length=cfg.doc_max_length,
                                     batch_size=batch_size, autocast=autocast, desc="rerank passages")
    collate = Collate(q_states, p_states, {int(r): i for i, r in enumerate(unique.tolist())})
    examples = [Example.unlabelled(i, row) for i, row in enumerate(candidates)]
    return collate, examples


class Reranker:
    """A saved late-interaction reranker, ready to reorder candidate passages."""

    def __init__(self, model_dir: Path, *, batch_size: int = 64, precision: str = "auto",
                 device: str = "auto") -> None:
        if not (model_dir / "config.json").is_file():
            raise InputError(model_dir, "no trained reranker here (run train_reranker first)")
        device = pick_device(device)
        self.model = LateInteractionReranker.from_pretrained(model_dir).to(device).eval()
        # passing the config stops AutoTokenizer re-reading config.json as an unknown model type
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, config=self.model.config)
        self.batch_size = batch_size
        self.autocast = autocast_for(precision, device)

    def rerank(self, queries: Sequence[str], candidates: np.ndarray, passage_text: Callable[[np.ndarray], list[str]],
               k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k of each query's candidate rows (``NO_DOC``-padded [Q, C]) by reranker score."""
        collate, examples = encode_for_rerank(self.model, self.tokenizer, queries, candidates, passage_text,
                                              batch_size=self.batch_size, autocast=self.autocast)
        sims = score_examples(self.model, collate, examples, batch_size=self.batch_size, autocast=self.autocast)
        rows = np.full((len(queries), k), NO_DOC, dtype=np.int64)
        vals = np.full((len(queries), k), -np.inf, dtype=np.float32)
        for i, (e, s) in enumerate(zip(examples, sims)):
            if e.candidates.size:
                pick, _ = top_k(s[None, :], min(k, e.candidates.size))
                n = pick.shape[1]
                rows[i, :n], vals[i, :n] = e.candidates[pick[0]], s[pick[0]]
        return rows, vals
