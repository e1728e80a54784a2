"""Benchmark the retrieval indexes: bm25s vs rank-bm25, and exact vs ANN FAISS search.

    python bench/retrieval.py [--quick] [--docs N] [--queries N] [--vectors N] [--ann ivf|hnsw]

1. BM25 (kg_ml.retrieval.bm25): a synthetic corpus (default 100,000 passages of ~100 Zipf-
   distributed words, like DPR's 100-word passages) and 1,000 queries (words of a random passage
   plus random words). Indexing docs/s and queries/s of the project's index against rank-bm25
   (the design card's package) on the same analysed tokens, in the same run. Both use the same
   BM25 variant: bm25s "robertson" and rank_bm25.BM25Okapi with epsilon=0 compute the same idf
   (log((N - df + .5)/(df + .5)), floored at 0) and the same tf part up to the constant factor
   k1 + 1, so their top-10 must agree (up to ties at the 10th score). rank-bm25 is ~100x slower,
   so it answers the first ``--ref-queries`` queries (default 200) and its queries/s comes from those.
2. Dense (kg_ml.retrieval.dense): ``--vectors`` (default 1,000,000) L2-normalised 384-d vectors
   drawn around 4,096 random centres with isotropic noise (``--noise``; a clustered stand-in for
   sentence embeddings, whose nearest neighbours typically have cosine 0.6-0.8; uniform random
   vectors have no neighbourhood structure for any ANN index to exploit, and encoding 1M passages
   with MiniLM on a CPU takes hours) and 1,000 queries from the same distribution.
   Exact IndexFlatIP vs the configured ANN index (IVF: --nlist/--nprobe; HNSW: --hnsw-m/--ef-search):
   recall@10 of the ANN top-10 against the exact top-10, queries/s, build time.
Each phase runs in a fresh child process, whose peak RSS (ru_maxrss) is reported. The last stdout
line is one JSON object; "ok" is true when BM25 is >= 100x rank-bm25 in queries/s with >= 99 %
top-10 agreement and the ANN index has recall@10 >= 0.95 at >= 10x the exact queries/s (with
--quick only the agreement and recall are checked: the speed targets are defined at full size).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

K = 10
K1, B = 1.5, 0.75  # rank_bm25.BM25Okapi's defaults, used by both sides


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _words(vocab: int, seed: int) -> list[str]:
    """Distinct pronounceable words (syllable strings), deterministic."""
    rng = np.random.default_rng(seed)
    syl = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    out: dict[str, None] = {}
    while len(out) < vocab:
        n = int(rng.integers(2, 5))
        out["".join(syl[i] for i in rng.integers(0, len(syl), n))] = None
    return list(out)


def synthetic_corpus(docs: int, queries: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Passages of Zipf-distributed words and queries built from a random passage plus noise."""
    rng = np.random.default_rng(seed)
    words = np.array(_words(50_000, seed))
    ranks = np.arange(1, words.size + 1)
    p = 1.0 / ranks ** 1.07
    p /= p.sum()
    lengths = rng.integers(60, 140, docs)
    flat = rng.choice(words.size, size=int(lengths.sum()), p=p)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    texts = [" ".join(words[flat[bounds[i]: bounds[i + 1]]]) for i in range(docs)]
    qs = []
    for _ in range(queries):
        src = texts[int(rng.integers(docs))].split()
        picked = [src[i] for i in rng.choice(len(src), int(rng.integers(3, 9)), replace=False)]
        picked += list(words[rng.choice(words.size, int(rng.integers(1, 4)), p=p)])
        qs.append(" ".join(picked))
    return texts, qs


def bench_bm25(docs: int, queries: int, ref_queries: int) -> dict:
    from kg_ml.retrieval.bm25 import BM25Index
    from kg_ml.retrieval.config import BM25Params, TokenizerParams
    from kg_ml.retrieval.tokenize import Analyzer

    texts, qtexts = synthetic_corpus(docs, queries)
    tok = TokenizerParams(stopwords="none", stemmer="porter")
    t0 = time.perf_counter()
    index = BM25Index.build(texts, tok, BM25Params(method="robertson", k1=K1, b=B))
    build_s = time.perf_counter() - t0
    index.search(qtexts[:10], K)  # warm-up (first-call allocations)
    t0 = time.perf_counter()
    rows, scores = index.search(qtexts, K, batch_size=64)
    query_s = time.perf_counter() - t0
    analyzer = Analyzer(tok)
    return {"docs": docs, "queries": queries, "build_s": round(build_s, 2),
            "index_docs_per_s": round(docs / build_s), "queries_per_s": round(queries / query_s, 1),
            "rows": rows[:ref_queries].tolist(), "scores": scores[:ref_queries].tolist(),
            "vocab": len(index.bm25.vocab_dict), "peak_rss_mb": round(_peak_rss_mb()),
            "query_tokens": [analyzer(q) for q in qtexts[:ref_queries]]}


def bench_rank_bm25(docs: int, queries: int, ref_queries: int) -> dict:
    from rank_bm25 import BM25Okapi

    from kg_ml.retrieval.config import TokenizerParams
    from kg_ml.retrieval.tokenize import Analyzer

    texts, qtexts = synthetic_corpus(docs, queries)
    analyzer = Analyzer(TokenizerParams(stopwords="none", stemmer="porter"))
    t0 = time.perf_counter()
    corpus = [analyzer(t) for t in texts]
    analyse_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = BM25Okapi(corpus, k1=K1, b=B, epsilon=0.0)  # epsilon 0: negative idf -> 0, as robertson
    build_s = time.perf_counter() - t0
    rows, scores = [], []
    t0 = time.perf_counter()
    for q in qtexts[:ref_queries]:
        s = ref.get_scores(analyzer(q))
        top = np.lexsort((np.arange(s.size), -s))[:K]
        rows.append(top.tolist())
        scores.append(s[top].tolist())
    query_s = time.perf_counter() - t0
    return {"build_s": round(analyse_s + build_s, 2), "index_docs_per_s": round(docs / (analyse_s + build_s)),
            "queries": ref_queries, "queries_per_s": round(ref_queries / query_s, 2), "rows": rows,
            "scores": scores, "peak_rss_mb": round(_peak_rss_mb())}


def top10_agreement(ours: dict, ref: dict) -> float:
    """Share of queries whose top-10 agrees: same scores rank by rank (ours x (k1 + 1)) and the same
    documents, except that documents tied with the 10th score may differ."""
    agree = 0
    for r_o, s_o, r_r, s_r in zip(ours["rows"], ours["scores"], ref["rows"], ref["scores"]):
        s_o = np.where(np.isfinite(s_o), np.asarray(s_o) * (K1 + 1), 0.0)
        s_r = np.asarray(s_r)
        if not np.allclose(s_o, s_r, rtol=1e-4, atol=1e-4):
            continue
        cut = s_r[-1]
        strict_o = {d for d, s in zip(r_o, s_o) if s > cut + 1e-4 and d >= 0}
        strict_r = {d for d, s in zip(r_r, s_r) if s > cut + 1e-4}
        agree += strict_o == strict_r
    return agree / max(len(ref["rows"]), 1)


def clustered_vectors(n: int, queries: int, *, noise: float, dim: int = 384, centres: int = 4096,
                      seed: int = 0) -> tuple:
    """Unit vectors around random unit centres plus isotropic noise (``noise`` per dimension)."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, dim)).astype(np.float32)
    c /= np.linalg.norm(c, axis=1, keepdims=True)

    def draw(m: int) -> np.ndarray:
        out = np.empty((m, dim), np.float32)
        for lo in range(0, m, 100_000):
            hi = min(m, lo + 100_000)
            x = c[rng.integers(0, centres, hi - lo)] + noise * rng.standard_normal((hi - lo, dim), dtype=np.float32)
            out[lo:hi] = x / np.linalg.norm(x, axis=1, keepdims=True)
        return out

    return draw(n), draw(queries)


def bench_dense(n: int, queries: int, noise: float, ann: str, nlist: int, nprobe: int, hnsw_m: int,
                ef_search: int) -> dict:
    import faiss

    from kg_ml.retrieval.config import DenseParams
    from kg_ml.retrieval.dense import DenseIndex

    x, q = clustered_vectors(n, queries, noise=noise)
    out: dict = {"vectors": n, "dim": int(x.shape[1]), "queries": queries, "noise": noise,
                 "faiss_threads": faiss.omp_get_max_threads()}
    t0 = time.perf_counter()
    exact = DenseIndex.build(x, DenseParams(exact_max=n))
    out["exact_build_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    truth, _ = exact.search(q, K)
    out["exact_queries_per_s"] = round(queries / (time.perf_counter() - t0), 1)
    del exact
    out["nearest_neighbour_cosine"] = round(float(np.mean(np.sum(q * x[truth[:, 0]], axis=1))), 3)
    params = DenseParams(exact_max=0, ann=ann, ivf={"nlist": nlist, "nprobe": nprobe, "train_size": 40 * nlist},
                         hnsw={"m": hnsw_m, "ef_search": ef_search})
    t0 = time.perf_counter()
    index = DenseIndex.build(x, params)
    out["ann"] = index.meta
    out["ann_build_s"] = round(time.perf_counter() - t0, 2)
    index.search(q[:10], K)
    t0 = time.perf_counter()
    got, _ = index.search(q, K)
    out["ann_queries_per_s"] = round(queries / (time.perf_counter() - t0), 1)
    out["ann_recall@10"] = round(float(np.mean([len(set(a) & set(b)) / K for a, b in zip(got.tolist(), truth.tolist())])), 4)
    out["ann_speedup"] = round(out["ann_queries_per_s"] / out["exact_queries_per_s"], 1)
    out["peak_rss_mb"] = round(_peak_rss_mb())
    return out


def _in_child(fn, *args):
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="10k passages, 200 queries, 100k vectors")
    p.add_argument("--docs", type=int, help="BM25 corpus size (default 100000; quick 10000)")
    p.add_argument("--queries", type=int, help="queries (default 1000; quick 200)")
    p.add_argument("--ref-queries", type=int, default=200, help="queries rank-bm25 answers (default %(default)s)")
    p.add_argument("--vectors", type=int, help="dense index size (default 1000000; quick 100000)")
    p.add_argument("--ann", choices=["ivf", "hnsw"], default="ivf")
    p.add_argument("--noise", type=float, default=0.045,
                   help="per-dimension noise around the centres (default %(default)s: nearest-neighbour cosine ~0.6-0.7)")
    p.add_argument("--nlist", type=int, help="IVF lists (default 4096; quick 1024)")
    p.add_argument("--nprobe", type=int, help="IVF lists searched (default 64, as params.yaml; quick 16)")
    p.add_argument("--hnsw-m", type=int, default=32)
    p.add_argument("--ef-search", type=int, default=128)
    p.add_argument("--skip", choices=["bm25", "dense"], action="append", default=[])
    a = p.parse_args()
    docs = a.docs or (10_000 if a.quick else 100_000)
    queries = a.queries or (200 if a.quick else 1000)
    vectors = a.vectors or (100_000 if a.quick else 1_000_000)
    nlist = a.nlist or (1024 if a.quick else 4096)
    nprobe = a.nprobe or (16 if a.quick else 64)
    ref_queries = min(a.ref_queries, queries)
    # Speed targets are defined at full size; --quick (CI, often a loaded machine) checks agreement
    # and recall only, and says so.
    speed_checked = not a.quick
    result: dict = {"quick": a.quick, "speed_targets_checked": speed_checked}
    ok = True
    if "bm25" not in a.skip:
        print(f"bm25: {docs:,} passages, {queries:,} queries (bm25s robertson vs rank_bm25.BM25Okapi, "
              f"k1={K1}, b={B})", flush=True)
        ours = _in_child(bench_bm25, docs, queries, ref_queries)
        print(f"  kg_ml/bm25s: index {ours['index_docs_per_s']:,} docs/s, {ours['queries_per_s']:,} queries/s, "
              f"peak RSS {ours['peak_rss_mb']} MB", flush=True)
        ref = _in_child(bench_rank_bm25, docs, queries, ref_queries)
        print(f"  rank-bm25:   index {ref['index_docs_per_s']:,} docs/s, {ref['queries_per_s']:,} queries/s "
              f"({ref_queries} queries), peak RSS {ref['peak_rss_mb']} MB", flush=True)
        agreement = top10_agreement(ours, ref)
        speedup = ours["queries_per_s"] / ref["queries_per_s"]
        result["bm25"] = {k: v for k, v in ours.items() if k not in ("rows", "scores", "query_tokens")}
        result["rank_bm25"] = {k: v for k, v in ref.items() if k not in ("rows", "scores")}
        result["bm25_query_speedup"] = round(speedup, 1)
        result["bm25_index_speedup"] = round(ours["index_docs_per_s"] / ref["index_docs_per_s"], 1)
        result["bm25_top10_agreement"] = round(agreement, 4)
        print(f"  speedup {speedup:.0f}x queries/s, top-10 agreement {agreement:.1%}", flush=True)
        ok &= agreement >= 0.99 and (speedup >= 100 or not speed_checked)
    if "dense" not in a.skip:
        print(f"dense: {vectors:,} x 384 clustered vectors, {queries:,} queries, exact vs {a.ann}", flush=True)
        dense = _in_child(bench_dense, vectors, queries, a.noise, a.ann, nlist, nprobe, a.hnsw_m, a.ef_search)
        print(f"  exact {dense['exact_queries_per_s']:,} q/s; {a.ann} {dense['ann_queries_per_s']:,} q/s "
              f"({dense['ann_speedup']}x), recall@10 {dense['ann_recall@10']}, build {dense['ann_build_s']} s, "
              f"peak RSS {dense['peak_rss_mb']} MB", flush=True)
        result["dense"] = dense
        ok &= dense["ann_recall@10"] >= 0.95 and (dense["ann_speedup"] >= 10 or not speed_checked)
    result["ok"] = bool(ok)
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
