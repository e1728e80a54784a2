"""What the full profile costs: every stage sized at the real input size, by measurement and fit.

    python bench/full_scale.py [--quick] [--fractions 0.003,0.01,0.03] [--verify 0.1]
                               [--only STEP,...] [--workdir DIR]

1. CPU stages run, each in a fresh child process, on synthetic inputs in the upstream formats at
   growing fractions of their real size: the kg_ml function the stage CLI calls, with the full
   profile's settings (size-dependent ones scaled by the same fraction: BM25 ``shard_docs``, the
   KGT5 tokenizer's ``max_pairs``, IVF-PQ ``train_size`` / ``nlist``, so every run has the shape of
   the full run in miniature). Inputs come from the other benchmarks' generators (bench/_synth.py:
   Wikidata5M, ConceptNet; bench/grounding.py: a prepared ConceptNet with real English words and
   MedQA-style questions; bench/retrieval.py: clustered vectors), bench/_synth_tasks.py (MedQA,
   MRQA HotpotQA, KGQA, the UMLS graph, teacher rationales, Wikidata5M's text corpus) plus DPR's
   psgs_w100.tsv here. download@<source> fetches the full profile's file list from a mirror of
   those files served on 127.0.0.1 (checksums checked, archives extracted): its CPU side; the
   network side is the archive bytes at an assumed NETWORK_MB_S. ``report`` is measured once.
   Measured: wall seconds of the work (imports excluded), peak RSS of the child's whole process
   tree (psutil, polled every 50 ms), and the disk size of the outputs.
2. Fits: time ~ a * n^k (least squares in log-log; k ~ 1 linear, > 1 worse), peak RSS ~ c + d * n
   (least squares), disk ~ linear through the largest point; extrapolated to 100 %.
3. GPU stages: model FLOPs per step from the real model configs (hub configs' dimensions,
   parameters counted on the meta device: roberta-large, bert-base-uncased, flan-t5-base, KGT5's
   T5 of the full block, all-MiniLM-L6-v2), 6 N tokens per trained token and 2 N per inferred one,
   times the recipe's steps (params.yaml full blocks, upstream dataset sizes), as H100-hours at 35 %
   MFU of 989 TFLOP/s (bf16 dense) and at the 11 % the shared loop measured on an H100.
4. ``--verify F`` runs the two largest CPU stages once more at fraction F (above the fit) and
   reports predicted against measured time and peak RSS.
5. ``--quick`` (the test suite's smoke test): every step once at 0.01 %, all in one child process
   after its inputs (one interpreter start and one set of imports); times are per step, the
   peak RSS is the batch's; the BM25 steps time an eighth of their queries.
The last stdout line is one JSON object; ``ok``: every CPU stage's extrapolated peak RSS <= 16 GB
(anonymous memory: RSS less the file-backed pages of memory-mapped indexes, which the kernel
drops under pressure; both are reported) and, with --verify, the verification ran.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(REPO))

LIMIT_MB = 16 * 1024
PEAK_FLOPS = 989e12  # H100 SXM bf16 dense
MFU = 0.35
MFU_MEASURED = 0.11  # bench/README.md, train_throughput: the shared loop's BERT-base step on one H100
FRACTIONS = (0.003, 0.01, 0.03)
QUICK = (0.0001,)

# Real input sizes (UPSTREAM.md, DESIGN.md; the DPR release).
FULL = {
    "passages": 21_015_324,          # DPR psgs_w100.tsv
    "wd5m_triples": 21_354_359,      # Wikidata5M (release KGT5 reports on; _synth's full size)
    "conceptnet_assertions": 34_074_917,
    "concepts": 800_000,             # DRAGON's ConceptNet vocabulary (bench/grounding.py FULL)
    "medqa_questions": 12_723,       # 10,178 / 1,272 / 1,273
    "medqa_train": 10_178,
    "hotpotqa_train": 72_928, "hotpotqa_dev": 5_904,
    "wd5m_texts": 4_818_679,
    "kgt5_pairs": 2 * 20_614_279,    # verbalised queries (head + tail per train triple): 41M
    "hotpotqa_questions": 72_928 + 5_904,  # MRQA HotpotQA contexts (one qa each)
    "kgqa_questions": 36_000,        # assumed: 30k train + 3k dev + 3k test (as the GPU rows)
    "umls_concepts": 297_927,        # DRAGON's UMLS vocabulary; ~3M edges assumed (bench/_synth_tasks.py)
}
NETWORK_MB_S = 50.0  # assumed download bandwidth (400 Mbit/s) for the download@ rows' network time
PRETRAIN_TEXTS = 2_000_000  # kg_lm.full.pretrain.corpus.max_texts of Wikidata5M's 4.8M texts
PRETRAIN_KG = 0.03  # pretrain_corpus grounds to this fraction's ConceptNet (24k concepts) at every fraction


def _pretrain_kg(f: float) -> float:
    """The fixed graph of pretrain_corpus; below 0.3 % (--quick) a smaller one, to stay quick."""
    return min(PRETRAIN_KG, 10 * f)
RERANKER_QUERIES = FULL["medqa_train"] * 11  # each train question's BM25 + its ~10 rationales
RETRIEVE_QUERIES = FULL["medqa_train"] * 10 + FULL["medqa_questions"] - FULL["medqa_train"] + 1_018
# ^ KARD's 10 teacher rationales per train question + dev/test questions + held-out train questions


def say(msg: str) -> None:
    print(msg, flush=True)


def du(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


# ============================================================================ inputs

def write_psgs(out: Path, n: int, seed: int = 0) -> None:
    """DPR's psgs_w100.tsv.gz: header id/text/title, 100-word passages. Words: Zipf over 50k common
    syllable words, 5 % from a rare pool that grows with n (vocabulary keeps growing, as Wikipedia's)."""
    from retrieval import _words  # bench/retrieval.py

    rng = np.random.default_rng(seed)
    common = np.array(_words(50_000, seed))
    rare = np.array([f"{w}{i}" for i, w in enumerate(_words(2_000, seed + 1) * (1 + int(3e6 * n / FULL["passages"]) // 2000))])
    p = 1.0 / np.arange(1, common.size + 1) ** 1.07
    p /= p.sum()
    titles = np.array([w.capitalize() for w in _words(20_000, seed + 2)])
    out.mkdir(parents=True, exist_ok=True)
    with gzip.open(out / "psgs_w100.tsv.gz", "wt", compresslevel=1) as f:
        f.write("id\ttext\ttitle\n")
        for lo in range(0, n, 20_000):
            m = min(20_000, n - lo)
            idx = rng.choice(common.size, size=(m, 100), p=p)
            words = common[idx]
            swap = rng.random((m, 100)) < 0.05
            words[swap] = rare[rng.integers(0, rare.size, int(swap.sum()))]
            title = titles[rng.integers(0, titles.size, m)]
            f.writelines(f"{lo + i + 1}\t{' '.join(words[i])}\t{title[i]}\n" for i in range(m))


def synth_source(name: str, root: Path, f: float) -> Path:
    """Raw upstream-format files of ``name`` at fraction ``f`` (cached)."""
    raw = root / "raw" / f"{name}-x{f:g}"
    done = raw.parent / (raw.name + ".done")
    if done.is_file():
        return raw
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir(parents=True)
    if name == "knowledge_base":
        write_psgs(raw, max(int(FULL["passages"] * f), 100))
    elif name in ("wikidata5m", "conceptnet"):
        import _synth

        _synth.WRITERS[name](raw, f, lambda *_: None)
        if name == "wikidata5m":  # the 4.8M-entity text corpus, which _synth skips
            import _synth_tasks

            _synth_tasks.write_wikidata5m_text(raw)
    else:
        import _synth_tasks

        _synth_tasks.WRITERS[name](raw, f)
    done.write_text("ok")
    return raw


def grounding_inputs(root: Path, f: float) -> Path:
    import grounding  # bench/grounding.py

    out = root / "grounding" / f"x{f:g}"
    if not (out / "done").is_file():
        shutil.rmtree(out, ignore_errors=True)
        grounding.generate(out, f)
        (out / "done").write_text("ok")
    return out


# ============================================================================ measured steps (child side)

def _full_params():
    from kg_ml.config import load_params

    return load_params(REPO / "params.yaml")


def step_prepare(source: str):
    def run(root: Path, f: float) -> dict:
        from kg_ml.sources import prepare_source

        raw = synth_source(source, root, f)
        out = root / "out" / f"prepare_{source}-x{f:g}"
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        metrics = prepare_source(source, raw, out, strict=True)
        return {"seconds": time.perf_counter() - t0, "out": str(out), "rows": metrics}
    return run


def step_tokenizer(root: Path, f: float) -> dict:
    from kg_ml.kgt5.build_tokenizer import build_tokenizer

    prepared = root / "out" / f"prepare_wikidata5m-x{f:g}"
    if not prepared.is_dir():
        step_prepare("wikidata5m")(root, f)
    kgt5 = _full_params().text_kg.kgt5.for_profile("full")
    tok = kgt5.tokenizer.model_copy(update={"max_pairs": max(2, int(kgt5.tokenizer.max_pairs * f))})
    out = root / "out" / f"tokenizer-x{f:g}"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    metrics = build_tokenizer(prepared=prepared, out_dir=out, params=tok)
    return {"seconds": time.perf_counter() - t0, "out": str(out), "rows": metrics}


def step_build_kg(root: Path, f: float) -> dict:
    import grounding

    src = grounding_inputs(root, f)
    out = root / "out" / f"kg-x{f:g}"
    shutil.rmtree(out, ignore_errors=True)
    r = grounding.ours_build(src / "conceptnet", out)
    return {"seconds": r["seconds"], "out": str(out), "rows": r["metrics"]}


def step_ground(root: Path, f: float) -> dict:
    import grounding

    kg = root / "out" / f"kg-x{f:g}"
    if not kg.is_dir():
        step_build_kg(root, f)
    out = root / "out" / f"grounded-x{f:g}"
    shutil.rmtree(out, ignore_errors=True)
    r = grounding.ours_ground(grounding_inputs(root, f) / "questions", kg, out)
    return {"seconds": r["seconds"], "out": str(out), "rows": {"statements": r["statements"]}}


def step_subgraph(root: Path, f: float) -> dict:
    import grounding

    grounded = root / "out" / f"grounded-x{f:g}"
    if not grounded.is_dir():
        step_ground(root, f)
    r = grounding.ours_subgraph(grounded, root / "out" / f"kg-x{f:g}", 0)
    # the stage writes ~ (mean nodes + mean edges) per statement; the bench counts and drops them
    return {"seconds": r["seconds"] + r["setup_seconds"], "out": None,
            "rows": {"statements": r["statements"], "mean_nodes": r["mean_nodes"], "mean_edges": r["mean_edges"]}}


def step_embed_concepts(root: Path, f: float) -> dict:
    from kg_ml.graphs.embeddings import embed_kg

    kg = root / "out" / f"kg-x{f:g}"
    if not kg.is_dir():
        step_build_kg(root, f)
    cfg = _full_params().graphs.embeddings
    out = root / "out" / f"embeddings-x{f:g}" / "concepts.safetensors"
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    e = embed_kg("conceptnet", cfg, kg, out, profile="full", offline=True)
    return {"seconds": time.perf_counter() - t0, "out": str(out), "rows": {"concepts": int(e.vectors.shape[0])}}


def _kb_passages(root: Path, f: float) -> Path:
    out = root / "out" / f"prepare_knowledge_base-x{f:g}"
    if not (out / "passages.parquet").is_file():
        step_prepare("knowledge_base")(root, f)
    return out / "passages.parquet"


def step_index_bm25(root: Path, f: float) -> dict:
    """index_kb's BM25 half as the full profile runs it: passages streamed, shards of
    shard_docs (scaled: the full run's 21 shards in miniature), corpus-wide statistics."""
    from kg_ml.retrieval.bm25 import save_analyzer
    from kg_ml.retrieval.bm25_shards import build_sharded
    from kg_ml.retrieval.passages import batch_texts, passage_count, stream_passages

    passages = _kb_passages(root, f)
    index = _full_params().retrieval.index
    bm25 = index.bm25.model_copy(update={"shard_docs": max(1, round(index.bm25.shard_docs * f))})
    out = root / "out" / f"bm25-x{f:g}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    scratch = root / "out" / f"bm25-scratch-x{f:g}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    texts = (t for b in stream_passages(passages) for t in batch_texts(b, include_title=index.include_title))
    t0 = time.perf_counter()
    info = build_sharded(texts, index.tokenizer, bm25, out, scratch, total=passage_count(passages))
    save_analyzer(out, index.tokenizer)
    shutil.rmtree(scratch)
    return {"seconds": time.perf_counter() - t0, "out": str(out), "rows": info}


def step_index_faiss(root: Path, f: float) -> dict:
    """index_kb's FAISS half as the streaming build runs it: IVF-PQ (params.yaml) trained on a
    sample, filled chunk by chunk with clustered 384-d stand-in vectors (never all in memory; the
    encoding itself is the GPU row), saved, loaded memory-mapped; recall@10 against exact search
    (accumulated chunk by chunk) on 200 held-out queries."""
    from kg_ml.retrieval.dense import DenseIndex

    n = max(int(FULL["passages"] * f), 2000)
    dp = _full_params().retrieval.index.dense
    # the full index in miniature: lists, probes and training sample scale with the fraction
    # (nprobe / nlist and vectors per list as at 100 %; the codebooks keep 256 centroids each)
    nlist = max(16, round(dp.ivf.nlist * f))
    nprobe = max(1, round(dp.ivf.nprobe * nlist / dp.ivf.nlist))
    params = dp.model_copy(update={"exact_max": 0, "ivf": dp.ivf.model_copy(update={
        "nlist": nlist, "nprobe": nprobe, "train_size": max(nlist * 39, 256 * 39, round(dp.ivf.train_size * f))})})
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((4096, 384)).astype(np.float32)  # bench/retrieval.py's shape and noise
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)

    def draw(m: int, seed: int) -> np.ndarray:
        g = np.random.default_rng(seed)
        x = centres[g.integers(0, len(centres), m)] + 0.045 * g.standard_normal((m, 384), dtype=np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    queries = draw(200, 1)
    out = root / "out" / f"faiss-x{f:g}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    t0 = time.perf_counter()
    dense = DenseIndex.trained_pq(draw(min(params.ivf.train_size, n), 2), n, params)
    best = np.full((200, 10), -np.inf, np.float32)
    best_rows = np.full((200, 10), -1, np.int64)
    chunk = 65_536
    exact_seconds = 0.0
    for lo in range(0, n, chunk):
        x = draw(min(chunk, n - lo), 100 + lo // chunk)
        dense.add(x)
        t = time.perf_counter()
        s = np.concatenate([best, queries @ x.T], axis=1)
        r = np.concatenate([best_rows, np.broadcast_to(np.arange(lo, lo + len(x)), (200, len(x)))], axis=1)
        top = np.argsort(-s, axis=1, kind="stable")[:, :10]
        best, best_rows = np.take_along_axis(s, top, 1), np.take_along_axis(r, top, 1)
        exact_seconds += time.perf_counter() - t
    dense.finish().save(out)
    seconds = time.perf_counter() - t0 - exact_seconds
    got = DenseIndex.load(out, mmap=True, gpu=False).search(queries, 10)[0]
    recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got.tolist(), best_rows.tolist())]))
    return {"seconds": seconds, "out": str(out),
            "rows": {"vectors": n, "nlist": nlist, "nprobe": nprobe, "pq_m": dp.pq.m,
                     "train_size": params.ivf.train_size, "recall_at_10": round(recall, 4)}}


def _queries(f: float, n: int) -> int:
    """Queries a BM25 step times: ``n``; an eighth of it at --quick's fraction (a smoke test)."""
    return n if f > QUICK[0] else n // 8


def step_retrieve(root: Path, f: float) -> dict:
    """retrieve@medqa's BM25 search (CPU; the dense side is GPU encoding + IVF-PQ probes): the
    sharded index memory-mapped, 256 rationale-like queries at the stage's first-stage depth."""
    from kg_ml.retrieval.bm25 import BM25Index
    from kg_ml.retrieval.passages import LazyPassages

    index_dir = root / "out" / f"bm25-x{f:g}"
    if not index_dir.is_dir():
        step_index_bm25(root, f)
    passages = _kb_passages(root, f)
    rp = _full_params().retrieval.retrieve
    depth = max(rp.k, rp.hybrid_depth, rp.rerank_depth)
    t0 = time.perf_counter()
    bm25 = BM25Index.load(index_dir)
    bm25.workers = 1  # one process: the time per query on one core (the stage splits over the CPUs)
    lazy = LazyPassages(passages)
    ids = lazy.ids()
    rng = np.random.default_rng(0)
    nq = _queries(f, 256)
    sample = lazy.display_texts(np.sort(rng.choice(lazy.num_rows, nq, replace=lazy.num_rows < nq)))
    queries = [" ".join(rng.permutation(t.split())[:60]) for t in sample]  # ~60-word rationales
    t1 = time.perf_counter()
    rows, _ = bm25.search(queries, depth, batch_size=rp.batch_size)
    t2 = time.perf_counter()
    texts = lazy.display_texts(rows[:, : rp.rerank_depth][rows[:, : rp.rerank_depth] >= 0][:2000])
    t3 = time.perf_counter()
    return {"seconds": t3 - t0, "out": None,
            "rows": {"queries": len(queries), "depth": depth, "load_seconds": round(t1 - t0, 3),
                     "seconds_per_query": (t2 - t1) / len(queries), "ids": len(ids), "texts_read": len(texts),
                     "texts_seconds": round(t3 - t2, 3)}}


def step_reranker_targets(root: Path, f: float) -> dict:
    """train_reranker's CPU side over the sharded index (the training itself is the GPU row): BM25
    candidates of 64 questions (100-word) at ``question_k`` and of 10 rationales each (60 words,
    drawn from the question's passage: they overlap as a question's rationales do) through
    `build_examples` (pruned top ``rationale_k`` + exact scores of the candidates). Per query,
    scaled to ~10 rationales per MedQA train question; also the passages whose frozen states the
    stage caches."""
    from kg_ml.retrieval.bm25 import BM25Index
    from kg_ml.retrieval.passages import LazyPassages
    from kg_ml.retrieval.reranker.data import build_examples

    index_dir = root / "out" / f"bm25-x{f:g}"
    if not index_dir.is_dir():
        step_index_bm25(root, f)
    rr = _full_params().retrieval.reranker
    bm25 = BM25Index.load(index_dir)
    bm25.workers = 1  # one process: the time per query on one core (the stage splits over the CPUs)
    lazy = LazyPassages(_kb_passages(root, f))
    rng = np.random.default_rng(1)
    nq = _queries(f, 64)
    source = [t.split() for t in lazy.display_texts(np.sort(rng.choice(lazy.num_rows, nq, replace=lazy.num_rows < nq)))]
    questions = [" ".join(rng.permutation(w)) for w in source]
    rationales = [" ".join(rng.permutation(w)[:60]) for w in source for _ in range(10)]
    t0 = time.perf_counter()
    q_rows, _ = bm25.search(questions, rr.question_k)
    examples = build_examples(bm25, q_rows, np.repeat(np.arange(len(questions)), 10), rationales,
                              rationale_k=rr.rationale_k)
    seconds = time.perf_counter() - t0
    per_question = float(np.mean([e.candidates.size for e in examples]))
    return {"seconds": seconds, "out": None,
            "rows": {"queries": len(questions) + len(rationales), "seconds_per_query": seconds / (len(questions) + len(rationales)),
                     "candidates_per_question": round(per_question, 1),
                     "bound_per_question": rr.question_k + 10 * rr.rationale_k}}


def _pretrain_texts(root: Path, f: float) -> Path:
    """A prepared wikidata5m/ with text.parquet: ``PRETRAIN_TEXTS x f`` texts of ~35 words (Wikidata5M's
    corpus: 991 MB over 4.8M entities, ~200 characters each), cut from bench/grounding.py's
    MedQA-style questions over the `PRETRAIN_KG` ConceptNet's words, shuffled so none repeats."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from kg_ml.io import write_parquet

    out = root / "out" / f"pretrain_texts-x{f:g}"
    if (out / "text.parquet").is_file():
        return out
    words = " ".join(pq.read_table(grounding_inputs(root, _pretrain_kg(f)) / "questions" / "train.parquet",
                                   columns=["question"]).column("question").to_pylist()).split()
    rng = np.random.default_rng(0)
    n = max(int(PRETRAIN_TEXTS * f), 100)
    texts = [" ".join(words[i: i + 35]) for i in rng.integers(0, max(len(words) - 35, 1), n).tolist()]
    texts = [" ".join(rng.permutation(t.split())) for t in texts]
    out.mkdir(parents=True, exist_ok=True)
    write_parquet(pa.table({"id": [f"Q{i}" for i in range(n)], "text": texts}), out / "text.parquet")
    return out


class _RandomEncoder:
    """Stands in for MiniLM in pretrain_corpus's relevance: the text encoding is the GPU row
    ``pretrain_corpus (encode texts)``; the float32 [n, 384] result is the same size in memory."""

    def encode(self, texts, *, desc: str = "") -> np.ndarray:
        g = np.random.default_rng(len(texts))
        out = np.empty((len(texts), 384), np.float32)
        for lo in range(0, len(texts), 65_536):
            v = g.standard_normal((min(65_536, len(texts) - lo), 384), dtype=np.float32)
            out[lo: lo + len(v)] = v / np.linalg.norm(v, axis=1, keepdims=True)
        return out


def step_pretrain_corpus(root: Path, f: float) -> dict:
    """pretrain_corpus as the full profile runs it (wikidata5m texts grounded to ConceptNet, subgraphs
    of 200 nodes, cosine relevance) on ``PRETRAIN_TEXTS x f`` texts over one fixed ConceptNet
    (`PRETRAIN_KG`: the work per text is then the same at every fraction); concept and text vectors
    are random unit vectors (their encoding is GPU work, counted there)."""
    from kg_ml.graphs import build as graphs_build
    from kg_ml.graphs.relevance import CosineRelevance
    from kg_ml.pretraining.corpus import build_corpus

    kg = root / "out" / f"kg-x{_pretrain_kg(f):g}"
    if not kg.is_dir():
        step_build_kg(root, _pretrain_kg(f))
    prepared = _pretrain_texts(root, f)
    p = _full_params()
    cfg = p.kg_lm.for_profile("full").pretrain.corpus.model_copy(update={"max_texts": None})

    def relevance(cfg_, graph, path, offline=True):
        return CosineRelevance(_RandomEncoder().encode(range(graph.num_nodes)).astype(np.float16), _RandomEncoder())

    graphs_build.make_relevance = relevance
    out = root / "out" / f"pretrain_corpus-x{f:g}"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    metrics = build_corpus(cfg, p.graphs.subgraph, prepared_dir=prepared, kg_dir=kg, embeddings=kg,
                           grounded_dir=out / "grounded", graphs_dir=out / "graphs")
    return {"seconds": time.perf_counter() - t0, "out": str(out), "rows": metrics}


# ---------------------------------------------------------------------------- grounding of the full profile's other graph / task

def _prepared(source: str, root: Path, f: float) -> Path:
    out = root / "out" / f"prepare_{source}-x{f:g}"
    if not out.is_dir():
        step_prepare(source)(root, f)
    return out


def step_build_kg_medical(root: Path, f: float) -> dict:
    """build_kg@medical on prepare@medical_kg's output of the synthetic UMLS graph."""
    from kg_ml.kg.build import build_kg

    prepared = _prepared("medical_kg", root, f)
    out = root / "out" / f"kg_medical-x{f:g}"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    metrics = build_kg(_full_params().grounding.kg["medical"], prepared, out)
    return {"seconds": time.perf_counter() - t0, "out": str(out), "rows": metrics}


def _kg_medical(root: Path, f: float) -> Path:
    kg = root / "out" / f"kg_medical-x{f:g}"
    if not kg.is_dir():
        step_build_kg_medical(root, f)
    return kg


def step_embed_concepts_medical(root: Path, f: float) -> dict:
    from kg_ml.graphs.embeddings import embed_kg

    kg = _kg_medical(root, f)
    out = root / "out" / f"embeddings_medical-x{f:g}" / "concepts.safetensors"
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    e = embed_kg("medical", _full_params().graphs.embeddings, kg, out, profile="full", offline=True)
    return {"seconds": time.perf_counter() - t0, "out": str(out), "rows": {"concepts": int(e.vectors.shape[0])}}


def _ground_cfg(task: str):
    """grounding.tasks.<task>; scispaCy's abbreviation detector only where it is installed."""
    import importlib.util

    cfg = _full_params().grounding.tasks[task]
    if cfg.abbreviations and importlib.util.find_spec("scispacy") is None:
        cfg = cfg.model_copy(update={"abbreviations": False})
    return cfg


def _grounded_dir(task: str, root: Path, f: float) -> Path:
    return root / "out" / f"grounded_{task}_{_ground_cfg(task).kg}-x{f:g}"


def step_ground_task(task: str):
    """ground@<task> (``ground_task``) on the task's prepared synthetic questions and its graph of
    the full profile (medqa: the UMLS graph at the same fraction; hotpotqa: ConceptNet)."""
    def run(root: Path, f: float) -> dict:
        from kg_ml.grounding.run import ground_task

        cfg = _ground_cfg(task)
        kg = _kg_medical(root, f) if cfg.kg == "medical" else _kg_conceptnet(root, f)
        prepared = _prepared(task, root, f)
        out = _grounded_dir(task, root, f)
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        metrics = ground_task(task, cfg, prepared, kg, out)
        return {"seconds": time.perf_counter() - t0, "out": str(out),
                "rows": {**metrics, "abbreviations": cfg.abbreviations}}
    return run


def _kg_conceptnet(root: Path, f: float) -> Path:
    kg = root / "out" / f"kg-x{f:g}"
    if not kg.is_dir():
        step_build_kg(root, f)
    return kg


def _random_relevance(cfg_, graph, path, offline=True):
    """Stands in for the cosine relevance's vectors: the concept embeddings are embed_concepts's
    row, the statement encoding GPU work (precision auto: bf16 on CUDA)."""
    from kg_ml.graphs.relevance import CosineRelevance

    return CosineRelevance(_RandomEncoder().encode(range(graph.num_nodes)).astype(np.float16), _RandomEncoder())


def step_subgraph_task(task: str):
    """subgraph@<task> (``build_subgraphs``, Parquet written) with the task's neighbour_fill; the
    relevance vectors are random unit vectors (their encoding is counted elsewhere)."""
    def run(root: Path, f: float) -> dict:
        from kg_ml.graphs import build as graphs_build

        cfg = _ground_cfg(task)
        grounded = _grounded_dir(task, root, f)
        if not grounded.is_dir():
            step_ground_task(task)(root, f)
        kg = _kg_medical(root, f) if cfg.kg == "medical" else _kg_conceptnet(root, f)
        p = _full_params()
        graphs_build.make_relevance = _random_relevance
        out = root / "out" / f"graphs_{task}_{cfg.kg}-x{f:g}"
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        metrics = graphs_build.build_subgraphs(task, cfg.kg, p.graphs.subgraph, grounded, kg, kg / "none.safetensors",
                                               out, neighbour_fill=p.graphs.tasks[task].neighbour_fill)
        return {"seconds": time.perf_counter() - t0, "out": str(out), "rows": metrics}
    return run


# ---------------------------------------------------------------------------- download@ (CPU side)

# archives of the full profile's file list, made from the synthetic raw files (members: paths in raw)
ARCHIVE_MEMBERS = {
    "wikidata5m_transductive.tar.gz": [f"wikidata5m_transductive_{s}.txt" for s in ("train", "valid", "test")],
    "wikidata5m_alias.tar.gz": ["wikidata5m_entity.txt", "wikidata5m_relation.txt"],
    "teacher_rationales.tar.gz": ["medqa"],
}


def _serve_dir(source: str, root: Path, f: float) -> Path:
    """The full profile's files of ``source`` made from its synthetic raw files (cached): http(s)
    files under ``<dir>/mirror/<host>/<path>`` (kg_ml's mirror layout), file: ones under
    ``<dir>/base/``; ``sha256.json`` holds every file's checksum."""
    import hashlib
    import tarfile

    from kg_ml.download.mirror import is_http, mirror_path

    out = root / "serve" / f"{source}-x{f:g}"
    if (out / "sha256.json").is_file():
        return out
    shutil.rmtree(out, ignore_errors=True)
    raw = synth_source(source, root, f)
    sums = {}
    for spec in _full_params().source(source, "full").files:
        if is_http(spec.url):
            dest = out.joinpath("mirror", *mirror_path(spec.url))
        else:
            dest = out / "base" / spec.url.removeprefix("file:")
        dest.parent.mkdir(parents=True, exist_ok=True)
        name = Path(spec.path).name
        if name in ARCHIVE_MEMBERS:
            with tarfile.open(dest, "w:gz", compresslevel=6) as tar:
                for member in ARCHIVE_MEMBERS[name]:
                    tar.add(raw / member, arcname=member)
        else:
            shutil.copyfile(raw / spec.path, dest)
        h = hashlib.sha256()
        with open(dest, "rb") as fh:
            while chunk := fh.read(1 << 22):
                h.update(chunk)
        sums[spec.url] = h.hexdigest()
    (out / "sha256.json").write_text(json.dumps(sums))
    return out


def step_download(source: str):
    """download@<source> (``download_source``) with the full profile's file list, every file's
    sha256 checked, archives extracted: http(s) files through a mirror served on 127.0.0.1 by
    a thread of this process, manual (file:) ones copied from a local base directory."""
    def run(root: Path, f: float) -> dict:
        import functools
        import threading
        from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

        from kg_ml.download.mirror import is_http
        from kg_ml.download.source import download_source

        serve = _serve_dir(source, root, f)
        sums = json.loads((serve / "sha256.json").read_text())
        spec = _full_params().source(source, "full")
        spec = spec.model_copy(update={"files": [x.model_copy(update={"sha256": sums[x.url]}) for x in spec.files]})
        handler = functools.partial(SimpleHTTPRequestHandler, directory=str(serve / "mirror"))
        handler.log_message = lambda *a, **k: None
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        out = root / "out" / f"download_{source}-x{f:g}"
        cache = root / "out" / f"download_cache_{source}-x{f:g}"
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)
        http_mb = sum(du(serve / "mirror" / p) for p in (serve / "mirror").iterdir()) / 2**20 if (serve / "mirror").is_dir() else 0.0
        t0 = time.perf_counter()
        try:
            files = download_source(source, spec, out, cache_dir=cache, base_dir=serve / "base", progress=False,
                                    mirror=f"http://127.0.0.1:{server.server_port}")
            seconds = time.perf_counter() - t0
        finally:
            server.shutdown()
            server.server_close()
        shutil.rmtree(cache, ignore_errors=True)
        return {"seconds": seconds, "out": str(out),
                "rows": {"files_out": len(files), "archives_mb": round(du(serve) / 2**20, 2), "http_mb": round(http_mb, 2),
                         "http": any(is_http(x.url) for x in spec.files)}}
    return run


# ---------------------------------------------------------------------------- report

def step_report(root: Path, f: float) -> dict:
    """report (``collect_metrics`` + ``write_report``) over the repository's metrics/: the same
    files and keys as a full run (one small JSON per stage), so its cost does not grow with the
    data: measured once."""
    from kg_ml.report import collect_metrics, write_report

    params = _full_params().report
    out = root / "out" / "report"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    t0 = time.perf_counter()
    rows = collect_metrics(REPO / "metrics", params)
    summary = write_report(rows, params, out / "summary.md", out / "summary.png")
    return {"seconds": time.perf_counter() - t0, "out": str(out),
            "rows": {"metric_rows": len(rows), "metrics_files": len(list((REPO / "metrics").glob("*.json"))),
                     **{k: v for k, v in (summary or {}).items() if isinstance(v, (int, float, str))}}}


RETRIEVE = "retrieve@medqa (BM25)"
RERANKER = "train_reranker (BM25 targets)"
PER_QUERY = {RETRIEVE: RETRIEVE_QUERIES, RERANKER: RERANKER_QUERIES}  # steps timed per query: the stage's count
STEPS = {
    "prepare@knowledge_base": (step_prepare("knowledge_base"), "passages", FULL["passages"]),
    "prepare@wikidata5m": (step_prepare("wikidata5m"), "triples", FULL["wd5m_triples"]),
    "prepare@conceptnet": (step_prepare("conceptnet"), "assertions", FULL["conceptnet_assertions"]),
    "tokenizer": (step_tokenizer, "triples", FULL["wd5m_triples"]),
    "build_kg@conceptnet": (step_build_kg, "concepts", FULL["concepts"]),
    "ground@medqa": (step_ground, "concepts", FULL["concepts"]),
    "subgraph@medqa": (step_subgraph, "concepts", FULL["concepts"]),
    "embed_concepts@conceptnet": (step_embed_concepts, "concepts", FULL["concepts"]),
    "index_kb (BM25)": (step_index_bm25, "passages", FULL["passages"]),
    "index_kb (FAISS IVF-PQ)": (step_index_faiss, "passages", FULL["passages"]),
    "retrieve@medqa (BM25)": (step_retrieve, "passages", FULL["passages"]),
    "pretrain_corpus": (step_pretrain_corpus, "texts", PRETRAIN_TEXTS),
    RERANKER: (step_reranker_targets, "passages", FULL["passages"]),
    # the smaller sources (bench/_synth_tasks.py), at their real sizes
    "prepare@medqa": (step_prepare("medqa"), "questions", FULL["medqa_questions"]),
    "prepare@hotpotqa": (step_prepare("hotpotqa"), "questions", FULL["hotpotqa_questions"]),
    "prepare@kgqa": (step_prepare("kgqa"), "questions", FULL["kgqa_questions"]),
    "prepare@medical_kg": (step_prepare("medical_kg"), "concepts", FULL["umls_concepts"]),
    "prepare@rationales": (step_prepare("rationales"), "questions", FULL["medqa_train"]),
    # the full profile's other graph and task: medqa grounds to the UMLS graph, hotpotqa to ConceptNet
    "build_kg@medical": (step_build_kg_medical, "concepts", FULL["umls_concepts"]),
    "embed_concepts@medical": (step_embed_concepts_medical, "concepts", FULL["umls_concepts"]),
    "ground@medqa (UMLS)": (step_ground_task("medqa"), "concepts", FULL["umls_concepts"]),
    "subgraph@medqa (UMLS)": (step_subgraph_task("medqa"), "concepts", FULL["umls_concepts"]),
    "ground@hotpotqa": (step_ground_task("hotpotqa"), "questions", FULL["hotpotqa_questions"]),
    "subgraph@hotpotqa": (step_subgraph_task("hotpotqa"), "questions", FULL["hotpotqa_questions"]),
    **{f"download@{s}": (step_download(s), *STEP_SIZE) for s, STEP_SIZE in {
        "hotpotqa": ("questions", FULL["hotpotqa_questions"]), "wikidata5m": ("triples", FULL["wd5m_triples"]),
        "kgqa": ("questions", FULL["kgqa_questions"]), "medqa": ("questions", FULL["medqa_questions"]),
        "conceptnet": ("assertions", FULL["conceptnet_assertions"]), "medical_kg": ("concepts", FULL["umls_concepts"]),
        "knowledge_base": ("passages", FULL["passages"]), "rationales": ("questions", FULL["medqa_train"])}.items()},
    "report": (step_report, "runs", 1),
}
CONSTANT = {"report"}  # measured once (at the first fraction): its work does not grow with the data


def _needs(*steps):
    """Inputs of a step, made in an unmeasured child before the measured one (cached on disk)."""
    def prep(root: Path, f: float) -> None:
        for step in steps:
            step(root, f)
    return prep


PREP = {
    "prepare@knowledge_base": lambda root, f: synth_source("knowledge_base", root, f),
    "prepare@wikidata5m": lambda root, f: synth_source("wikidata5m", root, f),
    "prepare@conceptnet": lambda root, f: synth_source("conceptnet", root, f),
    "tokenizer": _needs(lambda root, f: (root / "out" / f"prepare_wikidata5m-x{f:g}").is_dir()
                        or step_prepare("wikidata5m")(root, f)),
    "build_kg@conceptnet": grounding_inputs,
    "ground@medqa": lambda root, f: (root / "out" / f"kg-x{f:g}").is_dir() or step_build_kg(root, f),
    "subgraph@medqa": lambda root, f: (root / "out" / f"grounded-x{f:g}").is_dir() or step_ground(root, f),
    "embed_concepts@conceptnet": lambda root, f: (root / "out" / f"kg-x{f:g}").is_dir() or step_build_kg(root, f),
    "index_kb (BM25)": _kb_passages,
    "index_kb (FAISS IVF-PQ)": lambda root, f: None,
    "retrieve@medqa (BM25)": lambda root, f: (root / "out" / f"bm25-x{f:g}").is_dir() or step_index_bm25(root, f),
    RERANKER: lambda root, f: (root / "out" / f"bm25-x{f:g}").is_dir() or step_index_bm25(root, f),
    "pretrain_corpus": _needs(lambda root, f: (root / "out" / f"kg-x{_pretrain_kg(f):g}").is_dir()
                              or step_build_kg(root, _pretrain_kg(f)), _pretrain_texts),
    **{f"prepare@{s}": (lambda s: lambda root, f: synth_source(s, root, f))(s)
       for s in ("medqa", "hotpotqa", "kgqa", "medical_kg", "rationales")},
    "build_kg@medical": lambda root, f: _prepared("medical_kg", root, f),
    "embed_concepts@medical": _kg_medical,
    "ground@medqa (UMLS)": _needs(_kg_medical, lambda root, f: _prepared("medqa", root, f)),
    "subgraph@medqa (UMLS)": lambda root, f: _grounded_dir("medqa", root, f).is_dir() or step_ground_task("medqa")(root, f),
    "ground@hotpotqa": _needs(_kg_conceptnet, lambda root, f: _prepared("hotpotqa", root, f)),
    "subgraph@hotpotqa": lambda root, f: (_grounded_dir("hotpotqa", root, f).is_dir()
                                          or step_ground_task("hotpotqa")(root, f)),
    **{f"download@{s}": (lambda s: lambda root, f: _serve_dir(s, root, f))(s)
       for s in ("hotpotqa", "wikidata5m", "kgqa", "medqa", "conceptnet", "medical_kg", "knowledge_base", "rationales")},
    "report": lambda root, f: None,
}


def child_main(mode: str, name: str, root: str, f: float, result: str) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    if mode == "--child-prep":
        PREP[name](Path(root), f)
        return
    if mode == "--child-batch":  # --quick: every step in this one process, its inputs made first
        out = []
        for step in json.loads(name):
            t0 = time.perf_counter()
            PREP[step](Path(root), f)
            out.append({**STEPS[step][0](Path(root), f), "wall_seconds": time.perf_counter() - t0})
        Path(result).write_text(json.dumps(out, default=str))
        return
    r = STEPS[name][0](Path(root), f)
    Path(result).write_text(json.dumps(r, default=str))


# ============================================================================ measuring (parent side)

def _anon(pid: int) -> int:
    """Anonymous + shared-memory resident bytes: RSS less the file-backed pages (memory-mapped
    indexes), which the kernel drops under memory pressure."""
    kb = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("RssAnon:", "RssShmem:")):
                kb += int(line.split()[1])
    return kb * 1024


def measure(name: str, root: Path, f: float, timeout: float) -> dict:
    """Run one step in a fresh interpreter (its inputs made first in another, unmeasured one);
    poll the RSS of its whole process tree."""
    result = root / "result.json"
    result.unlink(missing_ok=True)
    env = dict(os.environ, TQDM_DISABLE="1", PYTHONUNBUFFERED="1")
    me = [sys.executable, str(Path(__file__).resolve())]
    prep = subprocess.run([*me, "--child-prep", name, str(root), repr(f), str(result)], cwd=REPO, env=env,
                          capture_output=True, text=True)
    if prep.returncode != 0:
        raise RuntimeError(f"{name} at {f:g}: making inputs failed:\n{prep.stderr[-3000:]}")
    r, wall, peak, peak_anon = _polled([*me, "--child", name, str(root), repr(f), str(result)], env, timeout,
                                       result, f"{name} at {f:g}")
    r["wall_seconds"] = wall
    r["peak_rss_mb"] = peak / 2**20
    r["peak_anon_mb"] = peak_anon / 2**20
    r["disk_mb"] = du(Path(r["out"])) / 2**20 if r.get("out") else 0.0
    return r


def measure_batch(names: list[str], root: Path, f: float, timeout: float) -> dict[str, dict]:
    """--quick: every step in one fresh interpreter, in order, each after making its inputs (one
    interpreter start and one set of imports for all). Times are each step's own; the peak RSS
    is the whole batch's, reported for every step (a smoke test: nothing is extrapolated)."""
    result = root / "result.json"
    result.unlink(missing_ok=True)
    env = dict(os.environ, TQDM_DISABLE="1", PYTHONUNBUFFERED="1")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child-batch", json.dumps(names), str(root), repr(f),
           str(result)]
    rs, _, peak, peak_anon = _polled(cmd, env, timeout, result, f"the --quick batch at {f:g}")
    for r in rs:
        r["peak_rss_mb"] = peak / 2**20
        r["peak_anon_mb"] = peak_anon / 2**20
        r["disk_mb"] = du(Path(r["out"])) / 2**20 if r.get("out") else 0.0
    return dict(zip(names, rs))


def _polled(cmd: list[str], env: dict, timeout: float, result: Path, what: str):
    """Run ``cmd``, polling its process tree's RSS every 50 ms; (its result JSON, wall seconds,
    peak RSS bytes, peak anonymous bytes)."""
    t0 = time.perf_counter()
    log_path = result.with_suffix(".log")  # a file, not a pipe: a chatty child never blocks on it
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    ps = psutil.Process(proc.pid)
    peak = peak_anon = 0
    while proc.poll() is None:
        try:
            tree = [ps, *ps.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
            peak_anon = max(peak_anon, sum(_anon(p.pid) for p in tree))
        except (psutil.Error, OSError):
            pass
        if time.perf_counter() - t0 > timeout:
            proc.kill()
            break
        time.sleep(0.05)
    proc.wait()
    log = log_path.read_text(errors="replace")
    if proc.returncode != 0 or not result.is_file():
        raise RuntimeError(f"{what} failed (rc {proc.returncode}):\n{log[-3000:]}")
    return json.loads(result.read_text()), time.perf_counter() - t0, peak, peak_anon


def fit(points: list[tuple[float, ...]], full: float) -> dict | None:
    """points: (n, seconds, peak_mb, disk_mb, peak_anon_mb), two or more sizes. Time: exponent k of a least-squares
    line in log-log, extrapolated from the largest point with max(k, 1) (a smaller k only means
    fixed costs dominate the small runs; no stage reads its input in less than linear time).
    Peak RSS: least-squares c + d n (d >= 0). Disk: proportional to the largest point."""
    if len({p[0] for p in points}) < 2:
        return None
    n = np.array([p[0] for p in points], float)
    t = np.maximum(np.array([p[1] for p in points], float), 1e-3)
    m = np.array([p[2] for p in points], float)
    d = np.array([p[3] for p in points], float)
    k = float(np.polyfit(np.log(n), np.log(t), 1)[0])
    slope, base = np.polyfit(n, m, 1)
    if slope < 0:
        slope, base = 0.0, float(m.max())
    a = np.array([p[4] for p in points], float)
    a_slope, a_base = np.polyfit(n, a, 1)
    if a_slope < 0:
        a_slope, a_base = 0.0, float(a.max())
    return {"exponent": round(k, 3), "seconds": float(t[-1] * (full / n[-1]) ** max(k, 1.0)),
            "peak_anon_mb": float(a_base + a_slope * full),
            "peak_rss_mb": float(base + slope * full), "rss_base_mb": round(float(base), 1),
            "rss_mb_per_million": round(float(slope * 1e6), 2), "disk_mb": float(d[-1] * full / n[-1]),
            "anon_base_mb": round(float(a_base), 1), "anon_mb_per_million": round(float(a_slope * 1e6), 2),
            "_t_last": float(t[-1]), "_n_last": float(n[-1])}


def _per_query_fit(points: list[dict], n_target: float) -> dict:
    """retrieve's seconds per query ~ a n^k (least squares in log-log), at ``n_target`` passages.
    No floor at linear: the pruned search reads a smaller share of the postings as the corpus
    (and with it the k-th best score) grows; --verify checks the fit above its points."""
    n = np.array([p["n"] for p in points], float)
    t = np.array([p["rows"]["seconds_per_query"] for p in points], float)
    k = float(np.polyfit(np.log(n), np.log(t), 1)[0])
    return {"per_query_exponent": round(k, 3), "seconds_per_query": float(t[-1] * (n_target / n[-1]) ** k)}


def predict(ft: dict, n_target: float) -> dict:
    return {"seconds": ft["_t_last"] * (n_target / ft["_n_last"]) ** max(ft["exponent"], 1.0),
            "peak_rss_mb": ft["rss_base_mb"] + ft["rss_mb_per_million"] * n_target / 1e6,
            "peak_anon_mb": ft["anon_base_mb"] + ft["anon_mb_per_million"] * n_target / 1e6}


# ============================================================================ GPU stages (analytic)

def count_params(kind: str, **cfg) -> int:
    import torch
    from transformers import BertConfig, BertModel, RobertaConfig, RobertaModel, T5Config, T5ForConditionalGeneration

    with torch.device("meta"):
        if kind == "roberta-large":
            model = RobertaModel(RobertaConfig(vocab_size=50265, hidden_size=1024, num_hidden_layers=24,
                                               num_attention_heads=16, intermediate_size=4096,
                                               max_position_embeddings=514, type_vocab_size=1), add_pooling_layer=False)
        elif kind == "bert-base-uncased":
            model = BertModel(BertConfig(vocab_size=30522), add_pooling_layer=False)
        elif kind == "minilm":
            model = BertModel(BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                                         intermediate_size=1536), add_pooling_layer=False)
        elif kind == "t5":
            model = T5ForConditionalGeneration(T5Config(**cfg))
        else:
            raise ValueError(kind)
    return sum(p.numel() for p in model.parameters())


def gpu_stages() -> list[dict]:
    """FLOPs of every GPU stage of the full profile (6 N per trained token, 2 N per inferred one)."""
    p = _full_params()
    kg_lm = p.kg_lm.for_profile("full")
    kgt5 = p.text_kg.kgt5.for_profile("full")
    hot = p.text_kg.hotpotqa.for_profile("full")
    kgqa = p.text_kg.kgqa.for_profile("full")
    kard = p.kard.for_profile("full")
    joint = p.joint.for_profile("full")
    rr = p.retrieval.reranker
    m = kgt5.model
    n_kgt5 = count_params("t5", vocab_size=kgt5.tokenizer.vocab_size, d_model=m.d_model, d_ff=m.d_ff, d_kv=m.d_kv,
                          num_heads=m.num_heads, num_layers=m.num_layers, num_decoder_layers=m.num_decoder_layers)
    n_flan = count_params("t5", vocab_size=32128, d_model=768, d_ff=2048, d_kv=64, num_heads=12, num_layers=12,
                          num_decoder_layers=12, feed_forward_proj="gated-gelu", tie_word_embeddings=False)
    n_rl = count_params("roberta-large")
    n_bb = count_params("bert-base-uncased")
    n_ml = count_params("minilm")
    # DRAGON's GNN beside the LM: fusion_layers x (GAT 200-d, 4 heads, 38 edge types) + MLPs, ~ 1 %
    n_kglm = n_rl + kg_lm.model.fusion_layers * 400_000
    L = kg_lm.model.max_length
    texts = min(kg_lm.pretrain.corpus.max_texts or FULL["wd5m_texts"], FULL["wd5m_texts"])
    hot_windows = 2.5  # 384-token windows (stride 128) per MRQA context of up to 800 tokens
    kgqa_train = 30_000  # manual KGQA set (data/manual/kgqa): assumed size
    rationales = FULL["medqa_train"] * 7  # ~70 % of 10 rationales survive kard.verify
    enc_in, dec_out = 24, 12  # mean KGT5 query / answer tokens (padded batches: see max lengths)
    eval_q = FULL["medqa_questions"] - FULL["medqa_train"]
    rows = [
        ("pretrain", "roberta-large + GNN", n_kglm, 6, texts * L * kg_lm.pretrain.train.epochs),
        ("finetune_medqa@kg", "roberta-large + GNN", n_kglm, 6, FULL["medqa_train"] * 4 * L * kg_lm.medqa.train.epochs),
        ("finetune_medqa@text", "roberta-large", n_rl, 6, FULL["medqa_train"] * 4 * L * kg_lm.medqa.train.epochs),
        ("evaluate_medqa@kg+text", "roberta-large (+GNN)", n_kglm, 2, 2 * eval_q * 4 * L),
        ("finetune@hotpotqa", "bert-base-uncased", n_bb, 6,
         FULL["hotpotqa_train"] * hot_windows * hot.max_seq_length * hot.train.epochs),
        ("evaluate@hotpotqa", "bert-base-uncased", n_bb, 2, FULL["hotpotqa_dev"] * hot_windows * hot.max_seq_length),
        ("train@kgt5", f"T5 {m.d_model}d {m.num_layers}+{m.num_decoder_layers}", n_kgt5, 6,
         FULL["kgt5_pairs"] * (enc_in + dec_out) * kgt5.train.epochs),
        ("evaluate@kgt5", "T5 (sampling)", n_kgt5, 2,
         kgt5.eval_queries * 2 * (enc_in + kgt5.evaluate.num_samples * (kgt5.evaluate.max_new_tokens * 0.5 + dec_out))),
        ("finetune@kgqa", "T5 (kgt5)", n_kgt5, 6, kgqa_train * (kgqa.max_input_length // 2 + dec_out) * kgqa.train.epochs),
        ("evaluate@kgqa", "T5 (kgt5)", n_kgt5, 2, 3_000 * (kgqa.max_input_length // 2 + dec_out)),
        ("finetune_joint", "roberta-large + GNN", n_kglm, 6,
         (FULL["medqa_train"] * 4 * L + FULL["hotpotqa_train"] * hot_windows * joint.hotpotqa.max_seq_length
          + kgqa_train * 20 * joint.kgqa.max_length) * joint.train.epochs),
        ("train_reranker", "all-MiniLM-L6-v2 (late interaction)", n_ml, 2,  # docs: inference; query side 6N, small
         FULL["medqa_train"] * (rr.rationale_k + rr.question_k) * rr.doc_max_length * rr.train.epochs
         + 3 * FULL["medqa_train"] * rr.query_max_length * rr.train.epochs),
        ("distill@medqa", "flan-t5-base", n_flan, 6, rationales * (kard.max_input_length + kard.max_target_length) * kard.train.epochs),
        ("distill@medqa_no_knowledge", "flan-t5-base", n_flan, 6, rationales * (256 + kard.max_target_length) * kard.train.epochs),
        ("distill@medqa_answer_only", "flan-t5-base", n_flan, 6, FULL["medqa_train"] * (256 + 16) * kard.train.epochs),
        ("evaluate_kard", "flan-t5-base x 3 variants", n_flan, 2,
         3 * 2 * eval_q * (kard.max_input_length + kard.inference.num_samples * kard.inference.max_new_tokens + 4 * 16)),
        ("index_kb (encode passages)", "all-MiniLM-L6-v2", n_ml, 2, FULL["passages"] * 140),
        ("retrieve@medqa (dense + rerank)", "all-MiniLM-L6-v2", n_ml, 2,
         RETRIEVE_QUERIES * 64 + 3_000 * p.retrieval.retrieve.rerank_depth * rr.doc_max_length),
        ("embed_concepts@conceptnet", "all-MiniLM-L6-v2", n_ml, 2, FULL["concepts"] * 8),
        ("embed_concepts@medical", "all-MiniLM-L6-v2", n_ml, 2, FULL["umls_concepts"] * 8),
        ("subgraph@medqa + @hotpotqa (encode statements)", "all-MiniLM-L6-v2", n_ml, 2,
         (4 * FULL["medqa_questions"] + FULL["hotpotqa_questions"]) * p.graphs.subgraph.statement_max_length),
        ("pretrain_corpus (encode texts)", "all-MiniLM-L6-v2", n_ml, 2, texts * 50),  # ~35 words each
    ]
    out = []
    for stage, model, n, mult, tokens in rows:
        flops = mult * n * tokens
        hours = flops / (MFU * PEAK_FLOPS) / 3600
        out.append({"stage": stage, "model": model, "params_m": round(n / 1e6, 1), "tokens": float(tokens),
                    "flops": flops, "h100_hours_35": hours, "h100_hours_measured_mfu": flops / (MFU_MEASURED * PEAK_FLOPS) / 3600,
                    "weights_gb": round(n * 4 / 1e9, 2) if mult == 6 else 0.0})
    return out


# ============================================================================ main

def fmt_s(s: float) -> str:
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the smallest fraction only")
    ap.add_argument("--fractions", default=",".join(map(str, FRACTIONS)))
    ap.add_argument("--verify", type=float, default=None, help="one larger fraction for the two largest CPU stages")
    ap.add_argument("--verify-steps", default=None,
                    help="comma-separated steps to verify (default: the two largest extrapolated peak RSS)")
    ap.add_argument("--only", default=None, help="comma-separated step names")
    ap.add_argument("--workdir", default=str(BENCH / "out" / "full_scale"))
    ap.add_argument("--timeout", type=float, default=1800)
    args = ap.parse_args(argv)
    fractions = QUICK if args.quick else tuple(float(x) for x in args.fractions.split(","))
    root = Path(args.workdir)
    root.mkdir(parents=True, exist_ok=True)
    names = [n for n in STEPS if args.only is None or n in args.only.split(",")]

    cpu = {}
    batch = measure_batch(names, root, fractions[0], args.timeout) if args.quick else {}
    for name in names:
        _, unit, full = STEPS[name]
        pts = []
        for f in fractions[:1] if name in CONSTANT else fractions:
            r = batch[name] if args.quick else measure(name, root, f, args.timeout)
            n = full * f
            pts.append((n, r["seconds"], r["peak_rss_mb"], r["disk_mb"], r["peak_anon_mb"]))
            say(f"[{name}] x{f:g} ({n:,.0f} {unit}): {r['seconds']:.2f} s work, {r['wall_seconds']:.1f} s wall, "
                f"peak {r['peak_rss_mb']:.0f} MB ({r['peak_anon_mb']:.0f} anon), disk {r['disk_mb']:.1f} MB {json.dumps(r['rows'], default=str)}")
            cpu.setdefault(name, {"unit": unit, "full": full, "points": []})["points"].append(
                {"fraction": f, "n": n, "seconds": round(r["seconds"], 3), "peak_rss_mb": round(r["peak_rss_mb"], 1),
                 "peak_anon_mb": round(r["peak_anon_mb"], 1),
                 "disk_mb": round(r["disk_mb"], 2), "rows": r["rows"]})
        ft = fit(pts, full)
        cpu[name]["fit"] = ft
        if ft is None:  # --quick: one size, nothing to fit
            continue
        if name in PER_QUERY:  # per query, its own fit, scaled to the stage's query count
            queries = PER_QUERY[name]
            ft.update(_per_query_fit(cpu[name]["points"], full))
            ft["seconds"] = ft["seconds_per_query"] * queries
            ft["queries"] = queries
        if name.startswith("download@"):  # the network side, at an assumed bandwidth (http files only)
            last = cpu[name]["points"][-1]
            ft["http_gb"] = last["rows"]["http_mb"] / last["fraction"] / 1024
            ft["network_seconds"] = last["rows"]["http_mb"] / last["fraction"] / NETWORK_MB_S
        say(f"[{name}] 100 %: {fmt_s(ft['seconds'])} (time ~ n^{ft['exponent']}), peak {ft['peak_rss_mb'] / 1024:.2f} GB "
            f"({ft['peak_anon_mb'] / 1024:.2f} GB anon), "
            f"disk {ft['disk_mb'] / 1024:.2f} GB")

    verification = []
    if args.verify:
        fitted = [n for n in cpu if cpu[n]["fit"] and n not in PER_QUERY]
        largest = (args.verify_steps.split(",") if args.verify_steps
                   else sorted(fitted, key=lambda n: -cpu[n]["fit"]["peak_rss_mb"])[:2])
        for name in largest:
            full = STEPS[name][2]
            want = predict(cpu[name]["fit"], full * args.verify)
            r = measure(name, root, args.verify, args.timeout)
            if name in PER_QUERY:  # time per query (the step's own seconds include loading ids)
                want["seconds"] = _per_query_fit(cpu[name]["points"], full * args.verify)["seconds_per_query"]
                r["seconds"] = r["rows"]["seconds_per_query"]
            digits = 4 if name in PER_QUERY else 2
            verification.append({"stage": name, "fraction": args.verify,
                                 "predicted_seconds": round(want["seconds"], digits),
                                 "measured_seconds": round(r["seconds"], digits),
                                 "predicted_peak_rss_mb": round(want["peak_rss_mb"], 1),
                                 "measured_peak_rss_mb": round(r["peak_rss_mb"], 1),
                                 "predicted_peak_anon_mb": round(want["peak_anon_mb"], 1),
                                 "measured_peak_anon_mb": round(r["peak_anon_mb"], 1)})
            unit = " per query" if name in PER_QUERY else ""
            say(f"[verify {name}] x{args.verify:g}: predicted {want['seconds']:.{digits}f} s{unit} / {want['peak_rss_mb']:.0f} MB, "
                f"measured {r['seconds']:.{digits}f} s{unit} / {r['peak_rss_mb']:.0f} MB")

    gpu = gpu_stages()
    say("")
    say("| stage | size at 100 % | CPU time | peak RSS (anon) | disk | GPU: model, FLOPs, H100-h at 35 % (11 %) |")
    say("|---|---|---|---|---|---|")
    for name, c in cpu.items():
        ft = c["fit"]
        if ft is None:
            pt = c["points"][-1]
            size = "constant" if name in CONSTANT else f"{pt['n']:,.0f} of {c['full']:,} {c['unit']}"
            say(f"| {name} | {size} | {pt['seconds']:.2f} s (measured) | "
                f"{pt['peak_rss_mb']:.0f} MB | {pt['disk_mb']:.1f} MB | |")
            continue
        net = (f" + network {fmt_s(ft['network_seconds'])} for {ft['http_gb']:.2f} GB at {NETWORK_MB_S:g} MB/s"
               if ft.get("network_seconds") else "")
        say(f"| {name} | {c['full']:,} {c['unit']} | {fmt_s(ft['seconds'])} (n^{ft['exponent']:.2f}){net} | "
            f"{ft['peak_rss_mb'] / 1024:.2f} GB ({ft['peak_anon_mb'] / 1024:.2f}) | {ft['disk_mb'] / 1024:.2f} GB | |")
    for g in gpu:
        say(f"| {g['stage']} | {g['tokens']:.3g} tokens | GPU | | {g['weights_gb']:.2f} GB weights | "
            f"{g['model']} ({g['params_m']}M), {g['flops']:.2e}, **{g['h100_hours_35']:.2f}** ({g['h100_hours_measured_mfu']:.1f}) |")
    total = sum(g["h100_hours_35"] for g in gpu)
    say(f"GPU total: {total:.0f} H100-hours at 35 % MFU ({sum(g['h100_hours_measured_mfu'] for g in gpu):.0f} at 11 %)")
    # the limit is on anonymous memory: RSS beyond it is file-backed pages of memory-mapped indexes
    worst = max((c["fit"]["peak_anon_mb"] if c["fit"] else c["points"][-1]["peak_anon_mb"] for c in cpu.values()),
                default=0.0)
    for c in cpu.values():
        if c["fit"]:
            c["fit"] = {k: (round(v, 4 if k == "seconds_per_query" else 2) if isinstance(v, float) else v)
                        for k, v in c["fit"].items() if not k.startswith("_")}
    # --quick: every step ran (nothing to extrapolate); else every extrapolated peak within 16 GB
    ok = len(cpu) == len(names) and worst <= LIMIT_MB and (not args.verify or len(verification) == 2)
    print(json.dumps({"fractions": fractions, "cpu": cpu, "gpu": gpu, "gpu_h100_hours_35": round(total, 1),
                      "verification": verification, "max_extrapolated_peak_anon_mb": round(worst, 1),
                      "limit_mb": LIMIT_MB, "ok": ok}, default=float))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("--child", "--child-prep", "--child-batch"):
        child_main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(main())
