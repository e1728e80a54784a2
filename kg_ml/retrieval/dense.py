"""FAISS inner-product index over L2-normalised passage embeddings (inner product = cosine).

Exact (IndexFlatIP) up to ``exact_max`` vectors; above that IVF-Flat (``nlist``/``nprobe``),
IVF-PQ (``pq.m`` bytes per vector: tens of millions of passages in a few GB) or HNSW-Flat
(``m``/``ef_*``). Built on the GPUs when faiss reports any (faiss-gpu builds), saved as a
CPU index, and loaded memory-mapped.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import faiss
import numpy as np
from tqdm import tqdm

from kg_ml.errors import InputError
from kg_ml.retrieval.config import DenseParams

log = logging.getLogger(__name__)

INDEX_FILE = "index.faiss"
META_FILE = "meta.json"
_ADD_ROWS = 65_536
# memory-mapped loading: flat codes map through IO_FLAG_MMAP_IFC; IVF lists through IO_FLAG_MMAP
# (the two flags cannot be combined: the IVF reader then refuses the mapped stream)
_MMAP_FLAGS = {"flat": faiss.IO_FLAG_MMAP_IFC, "ivf": faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY,
               "hnsw": faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY,
               "ivfpq": faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY}


def _gpu_count() -> int:
    return faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0


def _on_gpu(index: faiss.Index) -> faiss.Index:
    """The index cloned to every GPU (sharded), or itself when there is none."""
    if _gpu_count() == 0 or isinstance(index, faiss.IndexHNSW):  # faiss has no GPU HNSW
        return index
    options = faiss.GpuMultipleClonerOptions()
    options.shard = True
    return faiss.index_cpu_to_all_gpus(index, co=options)


def _set_search_params(index: faiss.Index, meta: dict) -> None:
    """nprobe / efSearch from the build meta, through the CPU or GPU parameter space."""
    setting = {"ivf": ("nprobe", meta.get("nprobe")), "ivfpq": ("nprobe", meta.get("nprobe")),
               "hnsw": ("efSearch", meta.get("ef_search"))}
    if meta["kind"] in setting:
        name, value = setting[meta["kind"]]
        space = faiss.GpuParameterSpace() if _is_gpu(index) else faiss.ParameterSpace()
        space.set_index_parameter(index, name, value)


def _is_gpu(index: faiss.Index) -> bool:
    return "Gpu" in type(index).__name__ or isinstance(index, faiss.IndexShards)


def index_kind(n: int, params: DenseParams) -> str:
    return "flat" if n <= params.exact_max else params.ann


def train_rows(n: int, params: DenseParams) -> np.ndarray:
    """Sorted rows (seeded sample of ``ivf.train_size``) whose vectors train an IVF quantizer."""
    rng = np.random.default_rng(params.seed)
    size = min(params.ivf.train_size, n)
    return np.sort(rng.choice(n, size=size, replace=False)) if size < n else np.arange(n)


class DenseIndex:
    """A FAISS index plus the settings queries need (encoder, max length, search depth)."""

    def __init__(self, index: faiss.Index, meta: dict) -> None:
        self.index = index
        self.meta = meta
        _set_search_params(index, meta)

    @property
    def num_docs(self) -> int:
        return int(self.index.ntotal)

    @classmethod
    def build(cls, vectors: np.ndarray, params: DenseParams, *, encoder: dict | None = None) -> "DenseIndex":
        """Index ``vectors`` (float32 [n, d], may be a memmap), adding them in row order.

        ``encoder``: how the vectors were made (ref, max_length, precision), kept in meta.json so
        queries are encoded the same way.
        """
        n, d = vectors.shape
        kind = index_kind(n, params)
        if kind == "ivfpq":
            rows = train_rows(n, params)
            dense = cls.trained_pq(np.ascontiguousarray(vectors[rows], dtype=np.float32), n, params, encoder=encoder)
            for lo in tqdm(range(0, n, _ADD_ROWS), desc="faiss add (ivfpq)", unit=" chunks", leave=False,
                           disable=None):
                dense.add(np.ascontiguousarray(vectors[lo: lo + _ADD_ROWS], dtype=np.float32))
            return dense.finish()
        meta: dict = {"kind": kind, "dim": d, "count": n, "metric": "inner_product", "encoder": encoder}
        if kind == "flat":
            index = faiss.IndexFlatIP(d)
        elif kind == "ivf":
            nlist = min(params.ivf.nlist, n)
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)
            index.cp.seed = params.seed
            meta.update(nlist=nlist, nprobe=min(params.ivf.nprobe, nlist))
        else:
            index = faiss.IndexHNSWFlat(d, params.hnsw.m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = params.hnsw.ef_construction
            meta.update(m=params.hnsw.m, ef_construction=params.hnsw.ef_construction,
                        ef_search=params.hnsw.ef_search)
        work = _on_gpu(index)
        if kind == "ivf":
            sample = train_rows(n, params)
            size = sample.size
            log.info("dense: training IVF%d on %d vectors", meta["nlist"], size)
            work.train(np.ascontiguousarray(vectors[sample], dtype=np.float32))
        for lo in tqdm(range(0, n, _ADD_ROWS), desc=f"faiss add ({kind})", unit=" chunks",
                       leave=False, disable=None):
            work.add(np.ascontiguousarray(vectors[lo: lo + _ADD_ROWS], dtype=np.float32))
        cpu = faiss.index_gpu_to_cpu(work) if work is not index else index
        log.info("dense: %s index of %d x %d vectors%s", kind, n, d, " (built on GPU)" if work is not index else "")
        return cls(cpu, meta)

    @classmethod
    def trained_pq(cls, sample: np.ndarray, n: int, params: DenseParams, *,
                   encoder: dict | None = None) -> "DenseIndex":
        """An empty IVF-PQ index trained on ``sample`` (rows `train_rows` picks); `add` the ``n``
        vectors in row order, chunk by chunk, then `finish`."""
        d = sample.shape[1]
        if d % params.pq.m:
            raise ValueError(f"retrieval.index.dense.pq.m = {params.pq.m} does not divide the dimension {d}")
        nlist = min(params.ivf.nlist, n)
        index = faiss.IndexIVFPQ(faiss.IndexFlatIP(d), d, nlist, params.pq.m, params.pq.nbits,
                                 faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = params.seed
        index.pq.cp.seed = params.seed
        meta = {"kind": "ivfpq", "dim": d, "count": n, "metric": "inner_product", "encoder": encoder,
                "nlist": nlist, "nprobe": min(params.ivf.nprobe, nlist), "pq_m": params.pq.m,
                "pq_nbits": params.pq.nbits}
        work = _on_gpu(index)
        log.info("dense: training IVF%d,PQ%dx%d on %d vectors", nlist, params.pq.m, params.pq.nbits, len(sample))
        work.train(sample)
        out = cls(index, meta)
        out._work = work
        return out

    def add(self, vectors: np.ndarray) -> None:
        getattr(self, "_work", self.index).add(np.ascontiguousarray(vectors, dtype=np.float32))

    def finish(self) -> "DenseIndex":
        """Back to a CPU index after a GPU build (a no-op on CPU); search settings from meta."""
        work = self.__dict__.pop("_work", self.index)
        cpu = faiss.index_gpu_to_cpu(work) if work is not self.index else self.index
        if int(cpu.ntotal) != self.meta["count"]:
            raise ValueError(f"dense index holds {cpu.ntotal} vectors, expected {self.meta['count']}")
        return DenseIndex(cpu, self.meta)

    def save(self, out_dir: Path) -> None:
        faiss.write_index(self.index, str(out_dir / INDEX_FILE))
        (out_dir / META_FILE).write_text(json.dumps(self.meta, indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, index_dir: Path, *, mmap: bool = True, gpu: bool = True) -> "DenseIndex":
        path, meta_path = index_dir / INDEX_FILE, index_dir / META_FILE
        for p in (path, meta_path):
            if not p.is_file():
                raise InputError(p, "missing dense index file (run index_kb first)")
        meta = json.loads(meta_path.read_text())
        flags = _MMAP_FLAGS.get(meta["kind"], 0) if mmap else 0
        index = faiss.read_index(str(path), flags)
        return cls(_on_gpu(index) if gpu else index, meta)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows int64 [Q, k], scores float32 [Q, k]); -1 / -inf where fewer than k results."""
        idx = np.full((len(queries), k), -1, dtype=np.int64)
        val = np.full((len(queries), k), -np.inf, dtype=np.float32)
        found = min(k, self.num_docs)
        if len(queries) and found:
            scores, rows = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), found)
            ok = rows >= 0
            idx[:, :found] = np.where(ok, rows, -1)
            val[:, :found] = np.where(ok, scores, -np.inf)
        return idx, val
