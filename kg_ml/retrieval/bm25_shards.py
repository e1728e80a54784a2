"""BM25 over tens of millions of passages: the index in shards of ``bm25.shard_docs`` passages,
scored with the corpus-wide statistics (document count, document frequencies, mean length), so
every (term, passage) weight is the float32 that one bm25s index over the whole corpus holds.

Build (two streaming passes, memory bounded by one shard, not by the corpus):
1. analyse every passage once, write its term ids to a scratch file per shard (int32, flat), and
   count document frequencies and lengths;
2. per shard, compute the BM25 weights with bm25s's own scorer from the global idf / mean length
   and save the shard's docs x terms CSC matrix as .npy (loaded memory-mapped).
Search scores each shard with the same top-k and merges the lists by (score desc, row asc): the
total order of `kg_ml.retrieval.ranking`, so the result equals one index's (tests/test_retrieval_bm25_shards.py).
"""

from __future__ import annotations

import json
import logging
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from bm25s import scoring as bm25s_scoring
from tqdm import tqdm

from kg_ml.retrieval.config import BM25Params, TokenizerParams
from kg_ml.retrieval.ranking import NO_DOC, top_k_row
from kg_ml.retrieval.tokenize import Analyzer, Vocabulary

log = logging.getLogger(__name__)

SHARDS_FILE = "shards.json"
VOCAB_FILE = "vocab.json"
_DF_DOCS = 65_536  # documents per block when counting document frequencies
_SCORE_CELLS = 1 << 26  # dense [queries x shard docs] float32 cells per scoring block (256 MB)


def _idf_array(df: np.ndarray, n_docs: int, method: str) -> np.ndarray:
    """bm25s's `_build_idf_array` from a df vector (float32, the same Python-float math)."""
    return bm25s_scoring._build_idf_array({i: int(d) for i, d in enumerate(df.tolist())}, n_docs,
                                          bm25s_scoring._select_idf_scorer(method), dtype="float32")


class ShardedBM25Index:
    """Query-side twin of `BM25Index` over shards (same `term_ids` / `search` / `scores` API)."""

    def __init__(self, index_dir: Path, analyzer: Analyzer, *, mmap: bool = True) -> None:
        spec = json.loads((index_dir / SHARDS_FILE).read_text())
        self.analyzer = analyzer
        self.spec = spec
        self.num_docs = int(spec["num_docs"])
        terms = json.loads((index_dir / VOCAB_FILE).read_text())
        self._vocab = {t: i for i, t in enumerate(terms)}
        self.num_terms = len(terms)
        mode = "r" if mmap else None
        self._base = np.load(index_dir / "nonoccurrence.npy") if spec["nonoccurrence"] else None
        self.shards: list[tuple[int, sp.csc_matrix]] = []
        for i, (lo, hi) in enumerate(spec["shards"]):
            d = index_dir / f"shard-{i:05d}"
            m = sp.csc_matrix((np.load(d / "data.npy", mmap_mode=mode), np.load(d / "indices.npy", mmap_mode=mode),
                               np.load(d / "indptr.npy", mmap_mode=mode)), shape=(hi - lo, self.num_terms), copy=False)
            self.shards.append((lo, m))

    # the same query analysis as BM25Index
    def term_ids(self, text: str) -> np.ndarray:
        vocab = self._vocab
        return np.fromiter((vocab[t] for t in self.analyzer(text) if t in vocab), dtype=np.int64)

    def _query_matrix(self, queries: Sequence[np.ndarray]) -> sp.csc_matrix:
        cols = np.repeat(np.arange(len(queries)), [q.size for q in queries])
        rows = np.concatenate(queries) if queries else np.zeros(0, np.int64)
        return sp.csc_matrix((np.ones(rows.size, np.float32), (rows, cols)), shape=(self.num_terms, len(queries)))

    def _floor(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        if self._base is None:
            return np.zeros(len(queries), dtype=np.float32)
        return np.array([self._base[q].sum() for q in queries], dtype=np.float32)

    def _shard_scores(self, m: sp.csc_matrix, qm: sp.csc_matrix, floor: np.ndarray) -> np.ndarray:
        out = (m @ qm).T.toarray().astype(np.float32, copy=False)
        return out + floor[:, None] if self._base is not None else out

    def scores(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        """Dense scores [len(queries), num_docs] (every shard side by side)."""
        qm, floor = self._query_matrix(queries), self._floor(queries)
        return np.concatenate([self._shard_scores(m, qm, floor) for _, m in self.shards], axis=1)

    def batch_size(self, requested: int) -> int:
        return max(1, min(requested, _SCORE_CELLS // max(self.num_docs, 1)))

    def search(self, texts: Sequence[str], k: int, *, batch_size: int = 256,
               desc: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        return self.search_ids([self.term_ids(t) for t in texts], k, batch_size=batch_size, desc=desc)

    def search_ids(self, queries: Sequence[np.ndarray], k: int, *, batch_size: int = 256,
                   desc: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k per query over all shards; equal to one index's `BM25Index.search_ids`.

        Each shard's scores stay sparse (only passages that share a term with the query), so a
        query costs its postings, not the corpus size; a passage outside them scores the floor,
        which never qualifies, exactly as in the dense path."""
        idx = np.full((len(queries), k), NO_DOC, dtype=np.int64)
        val = np.full((len(queries), k), -np.inf, dtype=np.float32)
        largest = max((m.shape[0] for _, m in self.shards), default=1)
        step = max(1, min(batch_size, _SCORE_CELLS // max(largest, 1)))
        for lo in tqdm(range(0, len(queries), step), desc=desc or "bm25 search", unit=" batches",
                       leave=False, disable=None if desc else True):
            chunk = queries[lo: lo + step]
            qm, floor = self._query_matrix(chunk), self._floor(chunk)
            cand: list[list[np.ndarray]] = [[] for _ in chunk]
            score: list[list[np.ndarray]] = [[] for _ in chunk]
            for start, m in self.shards:
                res = (m @ qm).tocsc()  # shard docs x queries, float32 sums as the dense path's
                res.sort_indices()
                for r in range(len(chunk)):
                    a, b = res.indptr[r], res.indptr[r + 1]
                    v = res.data[a:b].astype(np.float32, copy=False)
                    if self._base is not None:
                        v = v + floor[r]
                    keep = top_k_row(v, k, min_score=float(floor[r]))
                    cand[r].append(res.indices[a:b][keep].astype(np.int64) + start)
                    score[r].append(v[keep])
            for r in range(len(chunk)):
                c, v = np.concatenate(cand[r]), np.concatenate(score[r])
                order = np.lexsort((c, -v))[:k]  # score desc, then the lower global row
                idx[lo + r, : order.size], val[lo + r, : order.size] = c[order], v[order]
        return idx, val


def build_sharded(texts: Iterable[str], tokenizer: TokenizerParams, params: BM25Params, out_dir: Path,
                  scratch: Path, *, total: int | None = None) -> dict:
    """Write a sharded index of ``texts`` into ``out_dir`` (scratch: term-id files between passes)."""
    analyzer = Analyzer(tokenizer)
    vocab = Vocabulary(analyzer)
    shard_docs = params.shard_docs
    bounds: list[tuple[int, int]] = []
    sizes: list[int] = []  # distinct (doc, term) pairs per shard: its matrix's nnz
    lengths = array("q")
    df = np.zeros(0, np.int64)

    def flush(flat: array, offsets: array, start: int) -> None:
        nonlocal df
        i = len(bounds)
        tok = np.frombuffer(flat, dtype=np.int32)
        off = np.frombuffer(offsets, dtype=np.int64)
        np.save(scratch / f"tokens-{i:05d}.npy", tok)
        np.save(scratch / f"offsets-{i:05d}.npy", off)
        df = np.concatenate([df, np.zeros(len(vocab.ids) - df.size, np.int64)])
        size = 0
        for a in range(0, off.size - 1, _DF_DOCS):  # distinct (doc, term) pairs, a block of docs at a time
            b = min(a + _DF_DOCS, off.size - 1)
            docs = np.repeat(np.arange(b - a, dtype=np.int64), np.diff(off[a: b + 1]))
            pairs = np.unique((docs << 32) | tok[off[a]: off[b]].astype(np.int64))
            df += np.bincount((pairs & 0xFFFFFFFF).astype(np.int64), minlength=df.size)
            size += int(pairs.size)
        bounds.append((start, start + off.size - 1))
        sizes.append(size)

    flat, offsets, start, n = array("i"), array("q", [0]), 0, 0
    for text in tqdm(texts, total=total, desc="bm25 analyse (sharded)", unit=" docs", leave=False, disable=None):
        ids = vocab.encode_text(text)
        flat.extend(ids)
        offsets.append(len(flat))
        lengths.append(len(ids))
        n += 1
        if n - start == shard_docs:
            flush(flat, offsets, start)
            flat, offsets, start = array("i"), array("q", [0]), n
    if n > start or n == 0:
        flush(flat, offsets, start)
    del flat, offsets
    n_vocab = len(vocab.ids)
    df = np.concatenate([df, np.zeros(n_vocab - df.size, np.int64)])
    avg_doc_len = np.frombuffer(lengths, dtype=np.int64).mean()  # as bm25s: np.array(lengths).mean()
    del lengths
    idf = _idf_array(df, n, params.method)
    nonocc = None
    if params.method in ("bm25l", "bm25+"):
        nonocc = bm25s_scoring._build_nonoccurrence_array(
            {i: int(d) for i, d in enumerate(df.tolist())}, n, bm25s_scoring._select_idf_scorer(params.method),
            bm25s_scoring._select_tfc_scorer(params.method), avg_doc_len, avg_doc_len, params.k1, params.b,
            params.delta, dtype="float32")
        np.save(out_dir / "nonoccurrence.npy", nonocc)
    nnz = 0
    for i, (lo, hi) in enumerate(tqdm(bounds, desc="bm25 score shards", unit=" shards", leave=False, disable=None)):
        tok = np.load(scratch / f"tokens-{i:05d}.npy")
        off = np.load(scratch / f"offsets-{i:05d}.npy")
        docs = (tok[off[j]: off[j + 1]].tolist() for j in range(hi - lo))
        data, rows, cols = bm25s_scoring._build_scores_and_indices_for_matrix(
            docs, idf, avg_doc_len, {"nnz": sizes[i]}, params.k1, params.b, params.delta, nonocc,
            method=params.method, dtype="float32", int_dtype="int32", show_progress=False)
        del tok, off
        m = sp.csc_matrix((data, (rows, cols)), shape=(hi - lo, n_vocab), dtype="float32")
        del data, rows, cols
        d = out_dir / f"shard-{i:05d}"
        d.mkdir()
        np.save(d / "data.npy", m.data)
        np.save(d / "indices.npy", m.indices)
        np.save(d / "indptr.npy", m.indptr)
        nnz += m.nnz
        del m
        (scratch / f"tokens-{i:05d}.npy").unlink()
        (scratch / f"offsets-{i:05d}.npy").unlink()
    (out_dir / VOCAB_FILE).write_text(json.dumps(list(vocab.ids), ensure_ascii=False))
    (out_dir / SHARDS_FILE).write_text(json.dumps({
        "num_docs": n, "shards": bounds, "method": params.method, "k1": params.k1, "b": params.b,
        "delta": params.delta, "avg_doc_len": float(avg_doc_len), "nonoccurrence": nonocc is not None,
        "nnz": nnz}, indent=2) + "\n")
    log.info("bm25: %d documents in %d shards, %d terms (%s, k1=%g, b=%g)", n, len(bounds), n_vocab,
             params.method, params.k1, params.b)
    return {"bm25_terms": n_vocab, "bm25_shards": len(bounds)}
