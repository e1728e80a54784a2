"""train_reranker: fit KARD's reranker on rationale-BM25 targets with the shared training loop.

Held-out questions (``val_fraction`` of train, by id hash) give the model-selection metric:
recall@k of KARD's pseudo-gold (each held-out rationale's BM25 top-1 passage) when the question's
BM25 candidates are reordered by the reranker, next to the same recall in BM25's own order.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from transformers import AutoTokenizer

from kg_ml.errors import InputError
from kg_ml.io.metrics import rounded, rounded_all
from kg_ml.retrieval.bm25 import BM25Index
from kg_ml.retrieval.config import RerankerParams
from kg_ml.models.pretrained import resolve_pretrained
from kg_ml.retrieval.encoder import pick_device
from kg_ml.retrieval.metrics import recall_table
from kg_ml.retrieval.passages import open_passages, read_ids
from kg_ml.retrieval.queries import is_heldout, read_questions, read_rationales
from kg_ml.retrieval.ranking import NO_DOC, top_k_row
from kg_ml.retrieval.reranker.data import (Collate, Example, ExampleDataset, build_examples, candidate_scores,
                                           rationale_rows)
from kg_ml.retrieval.reranker.infer import score_examples
from kg_ml.retrieval.reranker.losses import reranker_loss
from kg_ml.retrieval.reranker.model import LateInteractionReranker
from kg_ml.retrieval.reranker.states import TokenStates
from kg_ml.training import train
from kg_ml.training.rng import seed_all
from kg_ml.training.step import autocast_for

log = logging.getLogger(__name__)

VAL_KS = (1, 5)


def _fingerprint(examples: Sequence[Example]) -> str:
    """Hash of the training data, so a checkpoint of other inputs is never resumed."""
    h = hashlib.sha256()
    for e in examples:
        h.update(np.int64(e.query).tobytes())
        h.update(e.candidates.tobytes())
        h.update(e.labels.tobytes())
        h.update(e.label_mask.tobytes())
    return h.hexdigest()


def _recall(examples: Sequence[Example], scores: Sequence[np.ndarray], gold: Sequence[set[int]]) -> dict[str, float]:
    ranked = [e.candidates[top_k_row(s, s.size)].tolist() for e, s in zip(examples, scores)]
    return recall_table(ranked, gold, VAL_KS, "")


def train_reranker(*, bm25_dir: Path, passages: Path, questions: Path, rationales: Path, out_dir: Path,
                   params: RerankerParams, checkpoint_dir: Path | None = None,
                   log_dir: Path | None = None, offline: bool = True) -> dict:
    """Train and save the reranker (save_pretrained + tokenizer) to ``out_dir``; return metrics."""
    bm25 = BM25Index.load(bm25_dir)
    table = open_passages(passages)  # lazily above IN_MEMORY_MAX passages
    if not read_ids(bm25_dir).equals(table.ids()):
        raise InputError(bm25_dir, f"index passage ids differ from {passages} (rerun index_kb)")
    qs = read_questions(questions)
    rat = read_rationales(rationales, qs, "train")
    if not len(rat):
        raise InputError(rationales, "no train rationales to supervise the reranker")

    held = np.array([is_heldout(q, params.val_fraction) for q in qs.ids])
    q_rows, _ = bm25.search(qs.texts, params.question_k, desc="question candidates")
    fit = ~held[rat.question]
    examples = build_examples(bm25, q_rows, rat.question[fit], [t for t, f in zip(rat.texts, fit) if f],
                              rationale_k=params.rationale_k)
    val_examples, val_gold = _validation(bm25, q_rows, rat, held)
    log.info("reranker: %d training questions with %d rationales; %d held-out questions",
             len(examples), int(fit.sum()), len(val_examples))

    device = pick_device(params.train.device)
    seed_all(params.train.seed)  # the projections start at random: same seed, same model
    model = LateInteractionReranker.from_encoder(
        params.encoder, offline=offline, dim=params.dim, trainable_layers=params.trainable_layers,
        query_max_length=params.query_max_length, doc_max_length=params.doc_max_length).to(device)
    tokenizer = AutoTokenizer.from_pretrained(resolve_pretrained(params.encoder, offline=offline))
    rows = np.unique(np.concatenate([e.candidates for e in [*examples, *val_examples]]))
    texts = table.display_texts(rows)
    autocast = autocast_for(params.train.precision, device)
    collate = Collate(
        TokenStates.compute(model, tokenizer, qs.texts, max_length=params.query_max_length,
                            batch_size=params.encode_batch_size, autocast=autocast, desc="question states"),
        TokenStates.for_texts(model, tokenizer, texts, max_length=params.doc_max_length,
                              batch_size=params.encode_batch_size, autocast=autocast, desc="passage states"),
        {int(r): i for i, r in enumerate(rows.tolist())})

    def loss_fn(m, batch):
        sim, labels, mask = rationale_rows(candidate_scores(m, batch).float(), batch)
        return reranker_loss(params.loss, sim, labels, mask, tau=params.tau, tau2=params.tau2), {}

    def eval_fn(m) -> dict[str, float]:
        return _recall(val_examples, score_examples(m, collate, val_examples, batch_size=params.encode_batch_size),
                       val_gold)

    result = train(model, ExampleDataset(examples), collate_fn=collate, loss_fn=loss_fn, config=params.train,
                   out_dir=out_dir, eval_fn=eval_fn if val_examples else None, checkpoint_dir=checkpoint_dir,
                   log_dir=log_dir, is_lm_param=lambda name: name.startswith("encoder."),
                   save_extra=tokenizer.save_pretrained, resume_key=_fingerprint(examples))

    metrics: dict[str, float] = {"train_questions": len(examples), "train_rationales": int(fit.sum()),
                                 "val_questions": len(val_examples),
                                 "best_step": result.best_step, "steps": result.global_step}
    if val_examples:  # BM25's own order of the same candidates, for comparison
        bm25_order = [-np.arange(e.candidates.size, dtype=np.float32) for e in val_examples]
        metrics |= {f"val_bm25_{k}": v for k, v in _recall(val_examples, bm25_order, val_gold).items()}
        metrics |= rounded_all(result.best_metrics, prefix="val_reranked_")
    if result.train_loss is not None:
        metrics["train_loss"] = rounded(result.train_loss, 6)
    return metrics


def _validation(bm25: BM25Index, q_rows: np.ndarray, rat, held: np.ndarray) -> tuple[list[Example], list[set[int]]]:
    """Held-out questions: their BM25 candidates, and the pseudo-gold of their rationales' top-1."""
    mask = held[rat.question]
    tops, _ = bm25.search([t for t, m in zip(rat.texts, mask) if m], 1)
    gold: dict[int, set[int]] = {}
    for q, row in zip(rat.question[mask].tolist(), tops[:, 0].tolist()):
        if row != NO_DOC:
            gold.setdefault(q, set()).add(row)
    questions = sorted(gold)
    examples = [Example.unlabelled(q, q_rows[q]) for q in questions]
    return examples, [gold[q] for q in questions]
