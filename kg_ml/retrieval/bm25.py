"""Sparse BM25 over the knowledge base with bm25s (eager scoring: BM25 weights precomputed per
(term, document) at index time), saved in bm25s's format and loaded memory-mapped.

Query scoring is one sparse matrix product per batch of queries over bm25s's CSC score matrix
(scipy), which is what bm25s's numba backend does per query, without needing numba.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import bm25s
import numpy as np
import scipy.sparse as sp
from tqdm import tqdm

from kg_ml.errors import InputError
from kg_ml.retrieval.bm25_shards import SHARDS_FILE, ShardedBM25Index
from kg_ml.retrieval.config import BM25Params, TokenizerParams
from kg_ml.retrieval.ranking import top_k
from kg_ml.retrieval.tokenize import Analyzer, Vocabulary

log = logging.getLogger(__name__)

ANALYZER_FILE = "analyzer.json"
_SCORE_CELLS = 1 << 26  # dense [queries x docs] float32 cells per scoring batch (256 MB)


def save_analyzer(out_dir: Path, params: TokenizerParams) -> None:
    """The analysis spec queries must repeat (``analyzer.json``)."""
    (out_dir / ANALYZER_FILE).write_text(json.dumps(params.model_dump(), indent=2, sort_keys=True) + "\n")


class BM25Index:
    """A bm25s index plus the analyzer its terms came from (queries must be analysed alike)."""

    def __init__(self, bm25: bm25s.BM25, analyzer: Analyzer) -> None:
        self.bm25 = bm25
        self.analyzer = analyzer
        s = bm25.scores
        self.num_docs = int(s["num_docs"])
        # documents x terms; scipy keeps the (possibly memory-mapped) arrays without copying
        self._matrix = sp.csc_matrix((s["data"], s["indices"], s["indptr"]),
                                     shape=(self.num_docs, len(s["indptr"]) - 1), copy=False)
        self._vocab = bm25.vocab_dict
        self._base = bm25.nonoccurrence_array  # bm25l / bm25+: score of a document lacking a term

    @classmethod
    def build(cls, texts: Iterable[str], tokenizer: TokenizerParams, params: BM25Params, *,
              total: int | None = None) -> "BM25Index":
        """Analyse and index ``texts`` (document ``i`` = the i-th text)."""
        analyzer = Analyzer(tokenizer)
        vocab = Vocabulary(analyzer)
        docs = [vocab.encode_text(t) for t in tqdm(texts, total=total, desc="bm25 analyse", unit=" docs",
                                                   leave=False, disable=None)]
        bm25 = bm25s.BM25(method=params.method, k1=params.k1, b=params.b, delta=params.delta)
        bm25.index((docs, vocab.ids), show_progress=False)
        log.info("bm25: %d documents, %d terms (%s, k1=%g, b=%g)", len(docs), len(vocab.ids),
                 params.method, params.k1, params.b)
        return cls(bm25, analyzer)

    def save(self, out_dir: Path) -> None:
        self.bm25.save(str(out_dir), show_progress=False)
        save_analyzer(out_dir, self.analyzer.params)

    @classmethod
    def load(cls, index_dir: Path, *, mmap: bool = True) -> "BM25Index":
        """The index in ``index_dir``: a `ShardedBM25Index` (same query API) where index_kb sharded it."""
        spec = index_dir / ANALYZER_FILE
        if not spec.is_file():
            raise InputError(spec, "missing BM25 analyzer spec (run index_kb first)")
        analyzer = Analyzer(TokenizerParams.model_validate_json(spec.read_text()))
        if (index_dir / SHARDS_FILE).is_file():
            return ShardedBM25Index(index_dir, analyzer, mmap=mmap)
        bm25 = bm25s.BM25.load(str(index_dir), mmap=mmap, load_corpus=False, show_progress=False)
        return cls(bm25, analyzer)

    # -- querying ---------------------------------------------------------------------------

    def term_ids(self, text: str) -> np.ndarray:
        """Term ids of a query; terms the corpus never saw score nothing and are dropped.
        A repeated term counts once per occurrence, as in Lucene and rank-bm25."""
        vocab = self._vocab
        return np.fromiter((vocab[t] for t in self.analyzer(text) if t in vocab), dtype=np.int64)

    def _query_matrix(self, queries: Sequence[np.ndarray]) -> sp.csc_matrix:
        cols = np.repeat(np.arange(len(queries)), [q.size for q in queries])
        rows = np.concatenate(queries) if queries else np.zeros(0, np.int64)
        ones = np.ones(rows.size, dtype=self._matrix.dtype)
        return sp.csc_matrix((ones, (rows, cols)), shape=(self._matrix.shape[1], len(queries)))

    def _floor(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        """Per query, the score of a document that matches none of its terms."""
        if self._base is None:
            return np.zeros(len(queries), dtype=np.float32)
        return np.array([self._base[q].sum() for q in queries], dtype=np.float32)

    def scores(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        """Dense BM25 scores, float32 [len(queries), num_docs], of term-id queries."""
        out = (self._matrix @ self._query_matrix(queries)).T.toarray().astype(np.float32, copy=False)
        return out + self._floor(queries)[:, None] if self._base is not None else out

    def batch_size(self, requested: int) -> int:
        """Queries per scoring batch so the dense score block stays within memory."""
        return max(1, min(requested, _SCORE_CELLS // max(self.num_docs, 1)))

    def search(self, texts: Sequence[str], k: int, *, batch_size: int = 256,
               desc: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k documents per query text: (doc rows int64 [Q, k], scores float32 [Q, k]).

        Only documents matching at least one query term are returned; the rest is padded with -1.
        """
        queries = [self.term_ids(t) for t in texts]
        return self.search_ids(queries, k, batch_size=batch_size, desc=desc)

    def search_ids(self, queries: Sequence[np.ndarray], k: int, *, batch_size: int = 256,
                   desc: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        idx = np.empty((len(queries), k), dtype=np.int64)
        val = np.empty((len(queries), k), dtype=np.float32)
        step = self.batch_size(batch_size)
        for lo in tqdm(range(0, len(queries), step), desc=desc or "bm25 search", unit=" batches",
                       leave=False, disable=None if desc else True):
            chunk = queries[lo: lo + step]
            scores = self.scores(chunk)
            floor = self._floor(chunk)
            for r in range(len(chunk)):  # per-row floor: "no term matched" differs per query
                i, v = top_k(scores[r: r + 1], k, min_score=float(floor[r]))
                idx[lo + r], val[lo + r] = i[0], v[0]
        return idx, val
