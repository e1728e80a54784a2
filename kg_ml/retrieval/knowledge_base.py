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
from kg_ml.retrieval.passages import LazyPassages, display_texts, read_ids, read_passages
from kg_ml.retrieval.ranking import NO_DOC

log = logging.getLogger(__name__)

IN_MEMORY_MAX = 1_000_000  # passages held as a table; above, texts are read from the file on demand

Ranked = tuple[np.ndarray, np.ndarray]  # rows int64 [Q, k] (NO_DOC-padded), scores float32 [Q, k]


class KnowledgeBase:
    """Passages plus BM25 and dense indexes sharing their row order (checked on load)."""

    def __init__(self, passages: Path, bm25_dir: Path, dense_dir: Path, *, batch_size: int = 64,
                 offline: bool = True) -> None:
        passages = Path(passages)
        lazy = LazyPassages(passages) if passages.is_file() else None
        if lazy is not None and lazy.num_rows > IN_MEMORY_MAX:  # e.g. DPR's 21M: ids only, texts on demand
            self.table, self._lazy = None, lazy
            self.ids = lazy.ids()
        else:
            self.table, self._lazy = read_passages(passages), None
            self.ids = self.table.column("id").combine_chunks()
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
        return self._lazy.display_texts(rows) if self._lazy is not None else display_texts(self.table, rows)

    def search_bm25(self, texts: Sequence[str], k: int) -> Ranked:
        return self.bm25.search(texts, k, batch_size=self.batch_size, desc="bm25 search")

    def search_dense(self, texts: Sequence[str], k: int) -> Ranked:
        return self.dense.search(self.encoder.encode(texts, desc="encode queries"), k)

    @staticmethod
    def fuse(bm25: Ranked, dense: Ranked, *, rrf_k: int, depth: int, k: int) -> Ranked:
        """Reciprocal-rank fusion of the top ``depth`` of each list, cut to ``k``."""
        return fuse_batch([bm25[0][:, :depth], dense[0][:, :depth]], rrf_k, k)
