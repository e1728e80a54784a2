"""BM25 over tens of millions of passages: the index in shards of ``bm25.shard_docs`` passages,
scored with the corpus-wide statistics (document count, document frequencies, mean length), so
every (term, passage) weight is the float32 that one bm25s index over the whole corpus holds.

Build (two streaming passes, memory bounded by one shard, not by the corpus):
1. analyse every passage once, write its term ids to a scratch file per shard (int32, flat), and
   count document frequencies and lengths;
2. per shard, compute the BM25 weights with bm25s's own scorer from the global idf / mean length
   and save the shard's docs x terms CSC matrix as .npy (loaded memory-mapped).
Search walks the shards per query with MaxScore pruning (`ShardedBM25Index.search_ids`): exact
scores of the passages that can still enter the top k, merged by (score desc, row asc), the total
order of `kg_ml.retrieval.ranking`, so the result equals one index's (tests/test_retrieval_bm25_shards.py).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from array import array
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
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
_PRUNE_DF = 1024  # postings of a term in a shard above which search bounds it and may skip reading it
_SEED_POSTINGS = 65_536  # postings read to find a first k-th best score in the first shard
_POOL_QUERIES = 256  # queries per worker process below which search stays in this process
_LOOKUP_RATIO = 16  # a posting list this many times the candidates is binary-searched, not scattered


def _idf_array(df: np.ndarray, n_docs: int, method: str) -> np.ndarray:
    """bm25s's `_build_idf_array` from a df vector (float32, the same Python-float math)."""
    return bm25s_scoring._build_idf_array({i: int(d) for i, d in enumerate(df.tolist())}, n_docs,
                                          bm25s_scoring._select_idf_scorer(method), dtype="float32")


def _slack(total: np.ndarray, floor: np.float32) -> np.ndarray:
    """Room for float32 rounding between a bound (float64) and a score summed in float32."""
    return 1e-4 * (np.abs(total) + abs(float(floor)) + 1.0)


_WORKER: "ShardedBM25Index | None" = None  # a search worker's own handle on the index


def _worker_init(index_dir: Path) -> None:
    global _WORKER
    _WORKER = ShardedBM25Index(index_dir, None, workers=1)


def _worker_search(job: tuple[Sequence[np.ndarray], int]) -> tuple[np.ndarray, np.ndarray]:
    return _WORKER._search_serial(*job)


class ShardedBM25Index:
    """Query-side twin of `BM25Index` over shards (same `term_ids` / `search` / `scores` API)."""

    def __init__(self, index_dir: Path, analyzer: Analyzer | None, *, mmap: bool = True,
                 workers: int | None = None) -> None:
        """``analyzer`` None: term-id queries only (no vocabulary: a search worker). ``workers``:
        processes a long query list is split over (default: the CPUs this process may use)."""
        spec = json.loads((index_dir / SHARDS_FILE).read_text())
        self.index_dir = index_dir
        self.analyzer = analyzer
        self.spec = spec
        self.num_docs = int(spec["num_docs"])
        self.workers = workers or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                   else os.cpu_count() or 1)
        if analyzer is not None:
            self._vocab = {t: i for i, t in enumerate(json.loads((index_dir / VOCAB_FILE).read_text()))}
        self.num_terms = np.load(index_dir / "shard-00000" / "indptr.npy", mmap_mode="r").size - 1
        mode = "r" if mmap else None
        self._base = np.load(index_dir / "nonoccurrence.npy") if spec["nonoccurrence"] else None
        self.shards: list[tuple[int, sp.csc_matrix]] = []
        self._bounds: dict[tuple[int, int], float] = {}
        self._scratch: dict[str, np.ndarray] = {}
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

        Exact top-k with MaxScore pruning (``batch_size`` is unused: queries are pruned one by
        one): once k passages are known, the k-th best score is a floor a new passage must beat;
        a passage holding only query terms whose summed bound (count x the column's largest
        weight) stays below it cannot, so only the postings of the other ("essential") terms are
        read, and their passages are scored exactly. Common terms, the bulk of a long query's
        postings, are looked up for those candidates only. Scores are float32 sums in ascending
        term order, as scipy's product, so they equal one index's bit for bit. A long query list
        is split over ``workers`` processes (the index is memory-mapped: its pages are shared)."""
        workers = min(self.workers, len(queries) // _POOL_QUERIES)
        bar = dict(desc=desc or "bm25 search", leave=False, disable=None if desc else True)
        if workers < 2:
            return self._search_serial(queries, k, bar)
        size = -(-len(queries) // (workers * 16))
        chunks = [(queries[lo: lo + size], k) for lo in range(0, len(queries), size)]
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_worker_init, initargs=(self.index_dir,)) as pool:
            parts = list(tqdm(pool.map(_worker_search, chunks), total=len(chunks), unit=" chunks", **bar))
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _search_serial(self, queries: Sequence[np.ndarray], k: int, bar: dict | None = None):
        idx = np.full((len(queries), k), NO_DOC, dtype=np.int64)
        val = np.full((len(queries), k), -np.inf, dtype=np.float32)
        for r, q in enumerate(tqdm(queries, unit=" queries", **(bar or {"disable": True}))):
            rows, scores = self._search_one(np.asarray(q, dtype=np.int64), k)
            idx[r, : rows.size], val[r, : rows.size] = rows, scores
        return idx, val

    def scores_at(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Scores of one term-id query for the given passage rows: ``scores([query])[0][rows]``."""
        terms, counts = np.unique(np.asarray(query, dtype=np.int64), return_counts=True)
        weights = counts.astype(np.float32)
        floor = np.float32(self._base[query].sum()) if self._base is not None else np.float32(0)
        rows = np.asarray(rows, dtype=np.int64)
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        out = np.empty(rows.size, np.float32)
        for start, m in self.shards:
            a, b = np.searchsorted(ordered, [start, start + m.shape[0]])
            if a < b:
                lo, hi = m.indptr[terms].astype(np.int64), m.indptr[terms + 1].astype(np.int64)
                out[order[a:b]] = self._exact(m, ordered[a:b] - start, terms, weights, lo, hi, floor)
        return out

    def _bound(self, shard: int, m: sp.csc_matrix, t: int, a: int, b: int) -> float:
        """The largest weight of term ``t`` in a shard (cached: common terms recur across queries)."""
        key = (shard, t)
        got = self._bounds.get(key)
        if got is None:
            got = self._bounds[key] = float(np.max(m.data[a:b]))
        return got

    def _search_one(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        terms, counts = np.unique(q, return_counts=True)  # ascending: scipy's summation order
        weights = counts.astype(np.float32)  # the query matrix's summed ones
        floor = np.float32(self._base[q].sum()) if self._base is not None else np.float32(0)
        best_rows, best_vals = np.zeros(0, np.int64), np.zeros(0, np.float32)
        for i, (start, m) in enumerate(self.shards):
            theta = float(best_vals[k - 1]) if best_vals.size >= k else -np.inf
            cand, v = self._shard_top(i, m, terms, weights, floor, k, theta)
            if cand.size:
                rows, vals = np.concatenate([best_rows, cand + start]), np.concatenate([best_vals, v])
                order = np.lexsort((rows, -vals))[:k]  # score desc, then the lower global row
                best_rows, best_vals = rows[order], vals[order]
        return best_rows, best_vals

    def _shard_top(self, shard: int, m: sp.csc_matrix, terms: np.ndarray, weights: np.ndarray,
                   floor: np.float32, k: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
        """This shard's passages that can enter the top k (scores above ``theta``), scored exactly."""
        lo, hi = m.indptr[terms].astype(np.int64), m.indptr[terms + 1].astype(np.int64)
        df = hi - lo
        live = np.flatnonzero(df > 0)
        if live.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        # bounds only where the postings are long; short ones are always read
        long_ = live[df[live] > _PRUNE_DF]
        ub = np.zeros(terms.size)
        for j in long_:
            ub[j] = max(0.0, float(weights[j]) * self._bound(shard, m, int(terms[j]), int(lo[j]), int(hi[j])))
        if theta == -np.inf and long_.size:  # no floor yet: score the passages of the strongest terms
            by_ub = live[np.argsort(-ub[live], kind="stable")]
            take = by_ub[: int(np.searchsorted(np.cumsum(df[by_ub]), _SEED_POSTINGS)) + 1]
            cand = self._union(m, lo[take], hi[take])
            s = self._exact(m, cand, terms, weights, lo, hi, floor)
            s = s[s > floor]
            if s.size >= k:
                theta = float(np.partition(s, s.size - k)[s.size - k])
        # non-essential: the weakest long terms whose bounds sum (with floor and float32 slack) below theta
        essential, weak = live, live[:0]
        if theta > -np.inf and long_.size:
            order = long_[np.argsort(ub[long_], kind="stable")]
            sums = np.cumsum(ub[order])
            n_weak = int(np.searchsorted(sums + float(floor) + _slack(sums, floor), theta, side="left"))
            weak = order[:n_weak][::-1]  # strongest bound first
            essential = np.setdiff1d(live, weak)
        if essential.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        cand = self._union(m, lo[essential], hi[essential])
        if weak.size and self.spec["method"] != "robertson":  # (robertson's negative weights: no partial bound)
            # MaxScore's filter: add the weak terms strongest first; a candidate whose sum so far plus
            # the bounds of the terms still to add stays below theta cannot qualify
            partial = self._partial(m, cand, weights[essential], lo[essential], hi[essential])
            rest = np.concatenate([np.cumsum(ub[weak][::-1])[::-1], [0.0]])
            # partial + rest + floor + _slack(partial + rest) >= theta, for partial, rest >= 0
            need = (theta - float(floor) - 1e-4 * (abs(float(floor)) + 1.0)) / (1 + 1e-4) - rest
            for i, j in enumerate(weak.tolist()):
                ok = partial >= need[i]
                cand, partial = cand[ok], partial[ok]
                if cand.size == 0:
                    break
                partial += float(weights[j]) * self._lookup(m, cand, int(lo[j]), int(hi[j]))
            cand = cand[partial >= need[-1]]
        s = self._exact(m, cand, terms, weights, lo, hi, floor)
        keep = top_k_row(s, k, min_score=float(floor))
        return cand[keep].astype(np.int64), s[keep]

    def _partial(self, m: sp.csc_matrix, cand: np.ndarray, weights: np.ndarray, lo: np.ndarray,
                 hi: np.ndarray) -> np.ndarray:
        """Sums (float64) of the given terms' weights for the passages ``cand``."""
        acc = self._mark(m.shape[0], np.float64)
        for w, a, b in zip(weights.tolist(), lo.tolist(), hi.tolist()):
            acc[m.indices[a:b]] += w * m.data[a:b]  # a posting list holds each passage once
        out = acc[cand]
        acc[cand] = 0
        return out

    def _lookup(self, m: sp.csc_matrix, cand: np.ndarray, a: int, b: int) -> np.ndarray:
        """Weights (float32, 0 where absent) of one term for the sorted shard rows ``cand``."""
        col, data = m.indices[a:b], m.data[a:b]
        if b - a > _LOOKUP_RATIO * cand.size:  # long postings: binary-search the candidates
            c = cand.astype(col.dtype, copy=False)  # searchsorted would otherwise copy the postings
            pos = np.minimum(np.searchsorted(col, c), b - a - 1)
            return np.where(col[pos] == c, data[pos], np.float32(0))
        dense = self._mark(m.shape[0], np.float32)  # short: scatter into the shard-wide scratch, gather
        dense[col] = data
        w = dense[cand]
        dense[col] = 0
        return w

    def _union(self, m: sp.csc_matrix, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Sorted shard rows in any of the posting lists [lo, hi)."""
        mark = self._mark(m.shape[0], bool)
        for a, b in zip(lo.tolist(), hi.tolist()):
            mark[m.indices[a:b]] = True
        cand = np.flatnonzero(mark)
        mark[cand] = False
        return cand

    def _mark(self, n: int, dtype) -> np.ndarray:
        key = np.dtype(dtype).str
        buf = self._scratch.get(key)
        if buf is None or buf.size < n:
            buf = self._scratch[key] = np.zeros(max(n, max((m.shape[0] for _, m in self.shards), default=0)), dtype)
        return buf

    def _exact(self, m: sp.csc_matrix, cand: np.ndarray, terms: np.ndarray, weights: np.ndarray,
               lo: np.ndarray, hi: np.ndarray, floor: np.float32) -> np.ndarray:
        """Scores of the passages ``cand`` (sorted shard rows) as the dense path computes them."""
        acc = np.zeros(cand.size, np.float32)
        for j in range(terms.size):  # ascending term id, one float32 product and sum per term
            if lo[j] < hi[j] and cand.size:
                acc += weights[j] * self._lookup(m, cand, int(lo[j]), int(hi[j]))
        return acc + floor if self._base is not None else acc


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
