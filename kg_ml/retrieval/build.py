"""index_kb: passages.parquet -> a BM25 index and a dense (FAISS) index, in the same row order."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from kg_ml.io import atomic_dir
from kg_ml.retrieval.bm25 import BM25Index, save_analyzer
from kg_ml.retrieval.bm25_shards import build_sharded
from kg_ml.retrieval.config import IndexParams
from kg_ml.retrieval.dense import DenseIndex, index_kind, train_rows
from kg_ml.retrieval.encoder import TextEncoder
from kg_ml.retrieval.passages import (batch_texts, passage_count, passage_texts, read_passages, stream_passages,
                                      write_ids)

log = logging.getLogger(__name__)

ENCODE_CHUNK = 65_536  # texts tokenised and encoded per call; vectors stream to a memmap


def encode_corpus(encoder: TextEncoder, texts, n: int, scratch: Path) -> np.ndarray:
    """Embeddings [n, dim] of ``texts`` written to a memory-mapped scratch file."""
    vectors = np.lib.format.open_memmap(scratch / "vectors.npy", mode="w+", dtype=np.float32,
                                        shape=(n, encoder.dim))
    chunk: list[str] = []
    done = 0
    for text in texts:
        chunk.append(text)
        if len(chunk) == ENCODE_CHUNK:
            vectors[done: done + len(chunk)] = encoder.encode(chunk, desc=f"encode {done:,}/{n:,}")
            done += len(chunk)
            chunk = []
    if chunk:
        vectors[done: done + len(chunk)] = encoder.encode(chunk, desc=f"encode {done:,}/{n:,}")
    return vectors


def build_indexes(passages: Path, bm25_dir: Path, dense_dir: Path, params: IndexParams, *,
                  offline: bool = True) -> dict:
    """Write both indexes (each with ids.parquet); nothing is replaced unless both succeed.

    A knowledge base larger than ``bm25.shard_docs`` or ``dense.exact_max`` passages is streamed
    (`build_streaming`); smaller ones (the sample) are read whole, as before."""
    n = passage_count(passages)
    if n > min(params.bm25.shard_docs, params.dense.exact_max):
        return build_streaming(passages, bm25_dir, dense_dir, params, offline=offline, n=n)
    table = read_passages(passages)
    n = table.num_rows

    def texts():  # a fresh pass over the table for each index
        return passage_texts(table, include_title=params.include_title)

    with atomic_dir(bm25_dir) as bm25_tmp, atomic_dir(dense_dir) as dense_tmp:
        t0 = time.perf_counter()
        bm25 = BM25Index.build(texts(), params.tokenizer, params.bm25, total=n)
        bm25.save(bm25_tmp)
        write_ids(bm25_tmp, table.column("id"))
        t1 = time.perf_counter()
        log.info("bm25 index: %d passages in %.1f s", n, t1 - t0)

        dp = params.dense
        encoder, spec = _encoder(params, offline)
        with tempfile.TemporaryDirectory(dir=dense_tmp.parent, prefix=".encode-") as scratch:
            vectors = encode_corpus(encoder, texts(), n, Path(scratch))
            dense = DenseIndex.build(vectors, dp, encoder=spec)
            del vectors
        dense.save(dense_tmp)
        write_ids(dense_tmp, table.column("id"))
        log.info("dense index: %d passages in %.1f s (%s, %s)", n, time.perf_counter() - t1,
                 dense.meta["kind"], encoder.device)
    return {"passages": n, "bm25_terms": len(bm25.bm25.vocab_dict), "dense_dim": dense.meta["dim"],
            "dense_exact": dense.meta["kind"] == "flat"}


def _encoder(params: IndexParams, offline: bool) -> tuple[TextEncoder, dict]:
    dp = params.dense
    encoder = TextEncoder(dp.encoder, max_length=dp.max_length, batch_size=dp.batch_size,
                          precision=dp.precision, offline=offline)
    return encoder, {"ref": dp.encoder, "max_length": dp.max_length, "precision": dp.precision}


def build_streaming(passages: Path, bm25_dir: Path, dense_dir: Path, params: IndexParams, *,
                    offline: bool = True, n: int) -> dict:
    """index_kb for a knowledge base too large to hold: passages read batch by batch; BM25 in
    shards above ``bm25.shard_docs``; IVF-PQ trained on a sample and filled chunk by chunk (no
    vector file), other dense kinds through the memory-mapped vector file."""
    include = params.include_title

    def texts():
        for batch in stream_passages(passages):
            yield from batch_texts(batch, include_title=include)

    ids = pq.read_table(passages, columns=["id"]).column("id").combine_chunks()
    with atomic_dir(bm25_dir) as bm25_tmp, atomic_dir(dense_dir) as dense_tmp:
        t0 = time.perf_counter()
        if n > params.bm25.shard_docs:
            with tempfile.TemporaryDirectory(dir=bm25_tmp.parent, prefix=".bm25-") as scratch:
                out = build_sharded(texts(), params.tokenizer, params.bm25, bm25_tmp, Path(scratch), total=n)
            save_analyzer(bm25_tmp, params.tokenizer)
        else:
            bm25 = BM25Index.build(texts(), params.tokenizer, params.bm25, total=n)
            bm25.save(bm25_tmp)
            out = {"bm25_terms": len(bm25.bm25.vocab_dict), "bm25_shards": 1}
            del bm25
        write_ids(bm25_tmp, ids)
        t1 = time.perf_counter()
        log.info("bm25 index: %d passages in %.1f s", n, t1 - t0)

        dp = params.dense
        encoder, spec = _encoder(params, offline)
        if index_kind(n, dp) == "ivfpq":
            rows = train_rows(n, dp)
            sample = np.concatenate([encoder.encode(chunk, desc="encode train sample")
                                     for chunk in _chunks(texts(), rows)])
            dense = DenseIndex.trained_pq(sample, n, dp, encoder=spec)
            del sample
            for lo, chunk in enumerate(_chunks(texts(), None)):
                dense.add(encoder.encode(chunk, desc=f"encode chunk {lo}"))
            dense = dense.finish()
        else:
            with tempfile.TemporaryDirectory(dir=dense_tmp.parent, prefix=".encode-") as scratch:
                vectors = encode_corpus(encoder, texts(), n, Path(scratch))
                dense = DenseIndex.build(vectors, dp, encoder=spec)
                del vectors
        dense.save(dense_tmp)
        write_ids(dense_tmp, ids)
        log.info("dense index: %d passages in %.1f s (%s, %s)", n, time.perf_counter() - t1,
                 dense.meta["kind"], encoder.device)
    return {"passages": n, **out, "dense_dim": dense.meta["dim"], "dense_exact": dense.meta["kind"] == "flat"}


def _chunks(texts, rows: np.ndarray | None):
    """Lists of up to ENCODE_CHUNK texts in order; only the (sorted) ``rows`` when given."""
    chunk: list[str] = []
    pos = 0
    for i, text in enumerate(texts):
        if rows is not None:
            if pos == rows.size:
                break
            if rows[pos] != i:
                continue
            pos += 1
        chunk.append(text)
        if len(chunk) == ENCODE_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
