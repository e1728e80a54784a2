"""The loaded knowledge base: passages, both indexes and the query-side retrievers over them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa

from kg_ml.errors import InputError
from kg_ml.retrieval.bm25 import BM25Index
from kg_ml.retrieval.dense import DenseIndex
from kg_ml.retrieval.encoder import TextEncoder
from kg_ml.retrieval.fusion import fuse_batch
from kg_ml.retrieval.passages import open_passages, read_ids
from kg_ml.retrieval.ranking import NO_DOC

log = logging.getLogger(__name__)

Ranked = tuple[np.ndarray, np.ndarray]  # rows int64 [Q, k] (NO_DOC-padded), scores float32 [Q, k]


class KnowledgeBase:
    """Passages plus BM25 and dense indexes sharing their row order (checked on load)."""

    def __init__(self, passages: Path, bm25_dir: Path, dense_dir: Path, *, batch_size: int = 64,
                 offline: bool = True) -> None:
        self.passages = open_passages(passages)  # DPR's 21M: ids only, texts read on demand
        self.ids = self.passages.ids()
        for index_dir in (bm25_dir, dense_dir):
            if not read_ids(index_dir).equals(self.ids):
                raise InputError(index_dir, f"index passage ids differ from {passages} (rerun index_kb)")
        self.bm25 = BM25Index.load(bm25_dir)
        self.dense = DenseIndex.load(dense_dir)
        self.batch_size = batch_size
        self.offline = offline

    @cached_property
    def encoder(self) -> TextEncoder:
        spec = self.dense.meta["encoder"]
        return TextEncoder(spec["ref"], max_length=spec["max_length"], precision=spec["precision"],
                           batch_size=self.batch_size, offline=self.offline)

    def passage_ids(self, rows: np.ndarray) -> pa.Array:
        """DPR ids of (valid) rows, flattened in order."""
        return self.ids.take(pa.array(rows[rows != NO_DOC]))

    def passage_texts(self, rows: np.ndarray) -> list[str]:
        return self.passages.display_texts(rows)

    def search_bm25(self, texts: Sequence[str], k: int) -> Ranked:
        return self.bm25.search(texts, k, batch_size=self.batch_size, desc="bm25 search")

    def search_dense(self, texts: Sequence[str], k: int) -> Ranked:
        return self.dense.search(self.encoder.encode(texts, desc="encode queries"), k)

    @staticmethod
    def fuse(bm25: Ranked, dense: Ranked, *, rrf_k: int, depth: int, k: int) -> Ranked:
        """Reciprocal-rank fusion of the top ``depth`` of each list, cut to ``k``."""
        return fuse_batch([bm25[0][:, :depth], dense[0][:, :depth]], rrf_k, k)
