"""index_kb: passages.parquet -> a BM25 index and a dense (FAISS) index, in the same row order."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

import numpy as np

from kg_ml.io import atomic_dir
from kg_ml.retrieval.bm25 import BM25Index
from kg_ml.retrieval.config import IndexParams
from kg_ml.retrieval.dense import DenseIndex
from kg_ml.retrieval.encoder import TextEncoder
from kg_ml.retrieval.passages import passage_texts, read_passages, write_ids

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
    """Write both indexes (each with ids.parquet); nothing is replaced unless both succeed."""
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
        encoder = TextEncoder(dp.encoder, max_length=dp.max_length, batch_size=dp.batch_size,
                              precision=dp.precision, offline=offline)
        with tempfile.TemporaryDirectory(dir=dense_tmp.parent, prefix=".encode-") as scratch:
            vectors = encode_corpus(encoder, texts(), n, Path(scratch))
            dense = DenseIndex.build(vectors, dp, encoder={"ref": dp.encoder, "max_length": dp.max_length,
                                                           "precision": dp.precision})
            del vectors
        dense.save(dense_tmp)
        write_ids(dense_tmp, table.column("id"))
        log.info("dense index: %d passages in %.1f s (%s, %s)", n, time.perf_counter() - t1,
                 dense.meta["kind"], encoder.device)
    return {"passages": n, "bm25_terms": len(bm25.bm25.vocab_dict), "dense_dim": dense.meta["dim"],
            "dense_exact": dense.meta["kind"] == "flat"}
