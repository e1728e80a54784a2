"""Sharded BM25 (kg_ml.retrieval.bm25_shards): corpus-wide statistics, so the per-shard top-k merge
equals one bm25s index over the whole corpus, score for score."""

from __future__ import annotations

import numpy as np
import pytest

from kg_ml.retrieval.bm25 import BM25Index
from kg_ml.retrieval.bm25_shards import ShardedBM25Index, build_sharded
from kg_ml.retrieval.config import BM25Params, TokenizerParams


def _corpus(docs: int = 300, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}x" for i in range(400)])
    p = 1.0 / np.arange(1, words.size + 1) ** 1.1
    p /= p.sum()
    texts = [" ".join(words[rng.choice(words.size, int(rng.integers(3, 30)), p=p)]) for _ in range(docs)]
    texts[7] = texts[8] = "w1x w2x w3x"  # exact duplicates: ties broken by the lower row across shards
    texts[250] = "w1x w2x w3x"
    queries = [" ".join(words[rng.choice(words.size, int(rng.integers(1, 6)), p=p)]) for _ in range(60)]
    return texts, queries + ["w1x w2x w3x", "nothing matches"]


@pytest.mark.parametrize("method, shard_docs, df_docs", [("lucene", 37, 65_536), ("lucene", 300, 7), ("bm25+", 64, 5),
                                                         ("robertson", 1, 65_536)])
def test_sharded_search_equals_one_index(tmp_path, monkeypatch, method, shard_docs, df_docs) -> None:
    from kg_ml.retrieval import bm25_shards

    monkeypatch.setattr(bm25_shards, "_DF_DOCS", df_docs)  # document frequencies counted in blocks
    texts, queries = _corpus()
    tok = TokenizerParams()
    one = BM25Index.build(texts, tok, BM25Params(method=method))
    params = BM25Params(method=method, shard_docs=shard_docs)
    out, scratch = tmp_path / "idx", tmp_path / "scratch"
    out.mkdir()
    scratch.mkdir()
    info = build_sharded(iter(texts), tok, params, out, scratch)
    (out / "analyzer.json").write_text(tok.model_dump_json())
    sharded = BM25Index.load(out)
    assert isinstance(sharded, ShardedBM25Index)
    assert info["bm25_shards"] == -(-len(texts) // shard_docs)
    assert list(scratch.iterdir()) == []  # term-id scratch files removed shard by shard
    for k in (1, 5, 20, 400):
        r1, s1 = one.search(queries, k)
        r2, s2 = sharded.search(queries, k, batch_size=7)
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(s1, s2)  # the same float32 weights, not just the same order
    q = [one.term_ids(t) for t in queries[:5]]
    np.testing.assert_array_equal(one.scores(q), sharded.scores([sharded.term_ids(t) for t in queries[:5]]))


@pytest.mark.parametrize("method", ["lucene", "bm25+", "robertson"])
@pytest.mark.parametrize("lookup_ratio", [0, 10**9])  # candidates binary-searched / scattered
def test_pruned_search_reads_fewer_postings_and_equals_one_index(tmp_path, monkeypatch, method, lookup_ratio) -> None:
    """MaxScore with every term bounded (`_PRUNE_DF` 0) on long, rationale-like queries: the same
    rows and float32 scores as one index, while the common terms' postings are not all read."""
    from kg_ml.retrieval import bm25_shards

    monkeypatch.setattr(bm25_shards, "_PRUNE_DF", 0)
    monkeypatch.setattr(bm25_shards, "_SEED_POSTINGS", 8)
    monkeypatch.setattr(bm25_shards, "_LOOKUP_RATIO", lookup_ratio)
    texts, short = _corpus(docs=600, seed=1)
    rng = np.random.default_rng(2)
    long_ = [" ".join(rng.permutation(texts[i].split() + texts[i + 1].split())) for i in range(0, 120, 3)]
    queries = long_ + short
    tok = TokenizerParams()
    one = BM25Index.build(texts, tok, BM25Params(method=method))
    out, scratch = tmp_path / "idx", tmp_path / "scratch"
    out.mkdir()
    scratch.mkdir()
    build_sharded(iter(texts), tok, BM25Params(method=method, shard_docs=128), out, scratch)
    (out / "analyzer.json").write_text(tok.model_dump_json())
    sharded = BM25Index.load(out)
    read = []
    union = sharded._union
    monkeypatch.setattr(sharded, "_union", lambda m, lo, hi: read.append(int((hi - lo).sum())) or union(m, lo, hi))
    for k in (1, 3, 10, 700):
        r1, s1 = one.search(queries, k)
        r2, s2 = sharded.search(queries, k)
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(s1, s2)
        if k == 10 and lookup_ratio == 0 and method == "lucene":  # split over two worker processes
            monkeypatch.setattr(bm25_shards, "_POOL_QUERIES", 20)
            pooled = bm25_shards.ShardedBM25Index(out, sharded.analyzer, workers=2)
            for x, y in zip((r1, s1), pooled.search(queries, k)):
                np.testing.assert_array_equal(x, y)
        if k == 10:  # the reranker's targets: exact scores of given rows, without a dense row
            rows = np.array([599, 0, 5, 128, 127, 5, 300])
            for t in queries[:8]:
                np.testing.assert_array_equal(sharded.scores_at(sharded.term_ids(t), rows),
                                              one.scores([one.term_ids(t)])[0][rows])
        if k == 3 and method != "robertson":  # robertson's negative idf leaves little to prune
            postings = sum(int(np.diff(m.indptr)[np.unique(sharded.term_ids(t))].sum())
                           for t in long_ for _, m in sharded.shards)
            assert sum(read) < 0.8 * postings, (sum(read), postings)
        read.clear()


def test_reranker_examples_over_shards_equal_one_index(tmp_path) -> None:
    """build_examples over a sharded index (pruned top-k + exact candidate scores) gives the
    examples of the dense path over one index: candidates, labels and masks."""
    from kg_ml.retrieval.reranker.data import build_examples

    texts, queries = _corpus(docs=400, seed=3)
    tok = TokenizerParams()
    one = BM25Index.build(texts, tok, BM25Params())
    out, scratch = tmp_path / "idx", tmp_path / "scratch"
    out.mkdir()
    scratch.mkdir()
    build_sharded(iter(texts), tok, BM25Params(shard_docs=90), out, scratch)
    (out / "analyzer.json").write_text(tok.model_dump_json())
    sharded = BM25Index.load(out)
    question_rows = one.search(queries[:10], 4)[0]
    owner = np.sort(np.arange(len(queries)) % 10)
    a = build_examples(one, question_rows, owner, queries, rationale_k=5)
    b = build_examples(sharded, question_rows, owner, queries, rationale_k=5)
    assert len(a) == len(b) == 10
    for x, y in zip(a, b):
        assert x.query == y.query
        for f in ("candidates", "labels", "label_mask"):
            np.testing.assert_array_equal(getattr(x, f), getattr(y, f))


def test_streamed_index_kb_equals_the_in_memory_build(tmp_path) -> None:
    """index_kb above the thresholds (streamed passages, BM25 shards, IVF-PQ) against the sample
    path: the same BM25 rankings and ids; the dense index is IVF-PQ, loads memory-mapped and finds
    each passage's own vector; passage texts come lazily from the file."""
    import pyarrow as pa

    from kg_ml.io import write_parquet
    from kg_ml.retrieval.build import build_indexes
    from kg_ml.retrieval.config import IndexParams
    from kg_ml.retrieval.dense import DenseIndex
    from kg_ml.retrieval.knowledge_base import KnowledgeBase
    from kg_ml.retrieval.passages import LazyPassages, display_texts, read_passages

    texts, queries = _corpus(docs=400)
    path = tmp_path / "passages.parquet"
    write_parquet(pa.table({"id": [f"p{i}" for i in range(len(texts))], "title": [f"T{i % 17}" for i in range(len(texts))],
                            "text": texts}), path)
    small = IndexParams.model_validate({"dense": {"max_length": 32, "batch_size": 128}})
    large = IndexParams.model_validate({"bm25": {"shard_docs": 150}, "dense": {
        "max_length": 32, "batch_size": 128, "exact_max": 100, "ann": "ivfpq",
        "ivf": {"nlist": 4, "nprobe": 4, "train_size": 300}, "pq": {"m": 8, "nbits": 6}}})
    a, b = tmp_path / "a", tmp_path / "b"
    ma = build_indexes(path, a / "bm25", a / "dense", small)
    mb = build_indexes(path, b / "bm25", b / "dense", large)
    assert ma["dense_exact"] and not mb["dense_exact"] and mb["bm25_shards"] == 3
    assert (a / "bm25" / "ids.parquet").read_bytes() == (b / "bm25" / "ids.parquet").read_bytes()
    one, sharded = BM25Index.load(a / "bm25"), BM25Index.load(b / "bm25")
    for x, y in zip(one.search(queries, 10), sharded.search(queries, 10)):
        np.testing.assert_array_equal(x, y)
    dense = DenseIndex.load(b / "dense")
    assert dense.meta["kind"] == "ivfpq" and dense.num_docs == len(texts)
    table = read_passages(path)
    rows = np.array([399, 0, 150, 151, 7, 0])
    assert LazyPassages(path).display_texts(rows) == display_texts(table, rows)
    kb = KnowledgeBase(path, b / "bm25", b / "dense")
    exact = KnowledgeBase(path, a / "bm25", a / "dense")
    probe = [f"T{i % 17}\n{texts[i]}" for i in range(0, 400, 40)]
    hits = kb.search_dense(probe, 10)[0]
    truth = exact.search_dense(probe, 10)[0]
    recall = np.mean([len(set(h) & set(t)) / 10 for h, t in zip(hits.tolist(), truth.tolist())])
    assert recall >= 0.5, recall  # PQ at 6 bits on 400 vectors: coarse, but must find neighbours
