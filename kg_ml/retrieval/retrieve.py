"""retrieve@<task>: top-k knowledge passages per query, written as Parquet, with recall metrics.

- train: one query per teacher rationale (KARD's training retrieval), ``rationale_retriever``;
- dev/test: one query per question, question + options as the text, ``retriever``.
Every question-side retriever (bm25, dense, hybrid, reranked) is scored for recall of the gold
passages: the annotated ones where the task has them (the sample world), else KARD's pseudo-gold,
the top ``pseudo_gold_k`` BM25 passages of each rationale, for the held-out train questions. The
rationale queries are scored for ``rationale_retriever`` (and BM25, the pseudo-gold's source),
or for every first stage with ``compare_rationale_retrievers``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from kg_ml.errors import InputError
from kg_ml.io import atomic_dir, write_parquet
from kg_ml.retrieval.config import RetrieveParams
from kg_ml.retrieval.knowledge_base import KnowledgeBase, Ranked
from kg_ml.retrieval.metrics import recall_table
from kg_ml.retrieval.queries import Questions, is_heldout, read_gold, read_questions, read_rationales
from kg_ml.retrieval.ranking import NO_DOC
from kg_ml.retrieval.reranker.infer import Reranker

log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")
QUESTION_RETRIEVERS = ("bm25", "dense", "hybrid", "reranked")
RATIONALE_RETRIEVERS = ("bm25", "dense", "hybrid")  # the reranker is a question-side model
SCHEMA = pa.schema([
    ("query_id", pa.string()),
    ("question_id", pa.string()),
    ("rationale_id", pa.int16()),
    ("rank", pa.int16()),
    ("passage_id", pa.string()),
    ("score", pa.float32()),
    ("retriever", pa.string()),
])


@dataclass
class QuerySet:
    """Queries scored together; ``gold`` (passage ids per query) only where known."""

    name: str
    question_ids: list[str]
    rationale_ids: np.ndarray  # int16, -1 for question queries
    texts: list[str]
    gold: list[list[str]] | None = None
    ranked: dict[str, Ranked] = field(default_factory=dict)

    @property
    def query_ids(self) -> list[str]:
        return [q if r < 0 else f"{q}:{r}" for q, r in zip(self.question_ids, self.rationale_ids.tolist())]


def rationale_retrievers(params: RetrieveParams) -> tuple[str, ...]:
    """The first stages run on the rationale queries: the train output's, and BM25 for pseudo-gold."""
    if params.compare_rationale_retrievers:
        return RATIONALE_RETRIEVERS
    return tuple(r for r in RATIONALE_RETRIEVERS if r in {"bm25", params.rationale_retriever})


def question_set(name: str, questions: Questions, keep: Sequence[int] | None = None) -> QuerySet:
    keep = range(len(questions.ids)) if keep is None else keep
    return QuerySet(name, [questions.ids[i] for i in keep], np.full(len(keep), -1, np.int16),
                    [questions.texts[i] for i in keep])


def run_retrievers(kb: KnowledgeBase, texts: Sequence[str], names: Sequence[str], params: RetrieveParams,
                   reranker: Reranker | None) -> dict[str, Ranked]:
    """Top ``params.k`` per query for each retriever in ``names`` (shared first stages run once)."""
    k = params.k
    first_depth = max(k, params.hybrid_depth if "hybrid" in names else 0,
                      params.rerank_depth if "reranked" in names else 0)
    needs = set(names) | ({params.rerank_from} if "reranked" in names else set())
    out: dict[str, Ranked] = {}
    if needs & {"bm25", "hybrid"}:
        out["bm25"] = kb.search_bm25(texts, first_depth)
    if needs & {"dense", "hybrid"}:
        out["dense"] = kb.search_dense(texts, first_depth)
    if "hybrid" in needs:
        out["hybrid"] = kb.fuse(out["bm25"], out["dense"], rrf_k=params.rrf_k, depth=params.hybrid_depth,
                                k=max(k, params.rerank_depth))
    if "reranked" in names:
        first = out[params.rerank_from][0][:, : params.rerank_depth]
        out["reranked"] = reranker.rerank(texts, first, kb.passage_texts, k)
    return {n: (out[n][0][:, :k], out[n][1][:, :k]) for n in names}


def _split_sets(combined: QuerySet, parts: Sequence[QuerySet]) -> None:
    """Hand the rankings of a concatenated query set back to its parts."""
    lo = 0
    for part in parts:
        hi = lo + len(part.texts)
        part.ranked = {n: (r[lo:hi], s[lo:hi]) for n, (r, s) in combined.ranked.items()}
        lo = hi


def ranked_ids(kb: KnowledgeBase, rows: np.ndarray) -> list[list[str]]:
    ids = kb.passage_ids(rows).to_pylist()
    counts = (rows != NO_DOC).sum(axis=1)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return [ids[bounds[i]: bounds[i + 1]] for i in range(rows.shape[0])]


def retrieved_table(kb: KnowledgeBase, qs: QuerySet, retriever: str) -> pa.Table:
    rows, scores = qs.ranked[retriever]
    valid = rows != NO_DOC
    per_query = valid.sum(axis=1)
    take = np.repeat(np.arange(rows.shape[0]), per_query)
    rank = np.nonzero(valid)[1] + 1  # 1-based; valid entries are a prefix of each row
    return pa.table({
        "query_id": pa.array(qs.query_ids).take(pa.array(take)),
        "question_id": pa.array(qs.question_ids).take(pa.array(take)),
        "rationale_id": pa.array(qs.rationale_ids[take], pa.int16()),
        "rank": pa.array(rank.astype(np.int16)),
        "passage_id": kb.passage_ids(rows),
        "score": pa.array(scores[valid].astype(np.float32)),
        "retriever": pa.array([retriever] * int(valid.sum()), pa.string()),
    }, schema=SCHEMA)


def _recall(kb: KnowledgeBase, qs: QuerySet, ks: Sequence[int]) -> dict[str, float]:
    if qs.gold is None:
        return {}
    out: dict[str, float] = {f"{qs.name}_queries": len(qs.texts)}
    for name, (rows, _) in qs.ranked.items():
        out.update(recall_table(ranked_ids(kb, rows), qs.gold, ks, f"{qs.name}_{name}_"))
    return out


def retrieve_task(task: str, *, questions_dir: Path, rationales: Path, gold: Path | None, kb: KnowledgeBase,
                  reranker: Reranker, out_dir: Path, params: RetrieveParams, val_fraction: float) -> dict:
    """Write ``out_dir/<split>.parquet`` for the task's splits and return the recall metrics."""
    splits = [s for s in SPLITS if (questions_dir / f"{s}.parquet").is_file()]
    if not splits:
        raise InputError(questions_dir, f"no {task} split tables (train/dev/test.parquet); run prepare@{task}")
    questions = {s: read_questions(questions_dir / f"{s}.parquet") for s in splits}
    annotated = read_gold(gold) if gold is not None else None

    outputs: dict[str, tuple[QuerySet, str]] = {}
    rationale_set = None
    if "train" in questions:
        rat = read_rationales(rationales, questions["train"], "train")
        if len(rat):
            ids = questions["train"].ids
            rationale_set = QuerySet("train_rationale", [ids[i] for i in rat.question], rat.rationale_id, rat.texts)
            log.info("%s train: %d rationale queries", task, len(rat))
            rationale_set.ranked = run_retrievers(kb, rationale_set.texts, rationale_retrievers(params), params, None)
            outputs["train"] = (rationale_set, params.rationale_retriever)
        else:
            log.warning("%s train: no rationales in %s; train uses question queries", task, rationales)

    parts = [question_set(s, questions[s]) for s in splits if s not in outputs]
    if annotated is None and rationale_set is not None:
        parts.append(_heldout_set(kb, questions["train"], rationale_set, params, val_fraction))
    if parts:
        combined = QuerySet("questions", [q for p in parts for q in p.question_ids],
                            np.concatenate([p.rationale_ids for p in parts]), [t for p in parts for t in p.texts])
        log.info("%s: %d question queries (%s)", task, len(combined.texts), ", ".join(p.name for p in parts))
        combined.ranked = run_retrievers(kb, combined.texts, QUESTION_RETRIEVERS, params, reranker)
        _split_sets(combined, parts)
        for part in parts:
            if part.name in splits:
                outputs[part.name] = (part, params.retriever)

    metrics: dict[str, float] = {}
    for qs in [rationale_set, *parts]:
        if qs is None:
            continue
        if annotated is not None:
            qs.gold = [annotated.get(q, []) for q in qs.question_ids]
        metrics.update(_recall(kb, qs, params.recall_at))
    with atomic_dir(out_dir) as tmp:
        for split, (qs, retriever) in outputs.items():
            write_parquet(retrieved_table(kb, qs, retriever), tmp / f"{split}.parquet")
    return metrics


def _heldout_set(kb: KnowledgeBase, train: Questions, rationale_set: QuerySet, params: RetrieveParams,
                 val_fraction: float) -> QuerySet:
    """Held-out train questions with KARD's pseudo-gold: each rationale's BM25 top ``pseudo_gold_k``."""
    rows = rationale_set.ranked["bm25"][0][:, : params.pseudo_gold_k]
    pseudo: dict[str, set[str]] = {}
    for q, ids in zip(rationale_set.question_ids, ranked_ids(kb, rows)):
        pseudo.setdefault(q, set()).update(ids)
    keep = [i for i, q in enumerate(train.ids) if q in pseudo and is_heldout(q, val_fraction)]
    held = question_set("heldout", train, keep)
    held.gold = [sorted(pseudo[q]) for q in held.question_ids]
    log.info("no gold passages: scoring %d held-out train questions against rationale-BM25 top-%d",
             len(keep), params.pseudo_gold_k)
    return held
