"""Inference-time knowledge: KARD retrieves with the question (+ options) through kg_ml.retrieval."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kg_ml.kard.infer import Retrieve
from kg_ml.retrieval.config import RetrieveParams
from kg_ml.retrieval.knowledge_base import KnowledgeBase
from kg_ml.retrieval.reranker.infer import Reranker
from kg_ml.retrieval.retrieve import ranked_ids, run_retrievers


def question_retriever(retriever: str, n: int, params: RetrieveParams, *, passages: Path, bm25: Path, dense: Path,
                       reranker: Path) -> Retrieve:
    """A function from query texts to the top ``n`` passage ids with ``retriever`` (bm25 or
    reranked: BM25 candidates, ``params.rerank_depth`` of them, reordered by the trained reranker)."""
    kb = KnowledgeBase(passages, bm25, dense, batch_size=params.batch_size)
    model = Reranker(reranker, batch_size=params.batch_size, precision=params.rerank_precision) \
        if retriever == "reranked" else None
    at_n = params.model_copy(update={"k": n})

    def retrieve(texts: Sequence[str]) -> list[list[str]]:
        rows, _ = run_retrievers(kb, list(texts), [retriever], at_n, model)[retriever]
        return ranked_ids(kb, rows)

    return retrieve
