"""Concept embeddings: one vector per KG node, the GNN's node features and the cosine relevance.

File ``data/embeddings/<kg>/concepts.safetensors``: one tensor ``embeddings`` [num_nodes, dim]
(float32 or float16), row i = node id i of ``data/kg/<kg>/nodes.parquet``: the mean-pooled,
L2-normalised encoder output of the node's ``text``. String metadata: ``encoder`` (the params
reference), ``precision`` (subgraph@ encodes statements the same way), ``kg``, ``num_nodes``,
``dim``, ``max_length``, ``pooling`` (``mean``),
``normalized`` (``l2``) and ``texts_sha256`` (hash of the node texts, to catch a stale file).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save

from kg_ml.errors import InputError
from kg_ml.graphs.config import EmbeddingsConfig
from kg_ml.io import atomic_file

log = logging.getLogger(__name__)

TENSOR = "embeddings"
DTYPES = {"float32": np.float32, "float16": np.float16}


def texts_fingerprint(texts: Sequence[str]) -> str:
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


@dataclass(frozen=True, eq=False)
class ConceptEmbeddings:
    vectors: np.ndarray  # [num_nodes, dim]
    metadata: dict[str, str]

    @property
    def encoder(self) -> str:
        return self.metadata["encoder"]

    def check_matches(self, texts: Sequence[str], path: str | Path) -> None:
        """Fail unless these embeddings were made from exactly these node texts."""
        if len(texts) != len(self.vectors):
            raise InputError(path, f"{len(self.vectors)} vectors for a graph of {len(texts)} nodes "
                             "(stale embeddings: rerun embed_concepts)", field=TENSOR)
        if self.metadata.get("texts_sha256") != texts_fingerprint(texts):
            raise InputError(path, "node texts differ from the graph's (stale embeddings: rerun embed_concepts)",
                             field="texts_sha256")


def _canonical(raw: bytes) -> bytes:
    """The same safetensors file with its JSON header's keys sorted: safetensors writes them in
    hash-map order, which changes from process to process."""
    n = int.from_bytes(raw[:8], "little")
    header = json.dumps(json.loads(raw[8: 8 + n]), sort_keys=True, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)  # data stays 8-byte aligned, as safetensors writes it
    return len(header).to_bytes(8, "little") + header + raw[8 + n:]


def save_embeddings(path: str | Path, vectors: np.ndarray, metadata: dict[str, str]) -> None:
    """Write atomically; the same vectors and metadata give the same bytes."""
    with atomic_file(path) as tmp:
        tmp.write_bytes(_canonical(save({TENSOR: np.ascontiguousarray(vectors)}, metadata=metadata)))


def load_embeddings(path: str | Path) -> ConceptEmbeddings:
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "missing file (run embed_concepts first)")
    try:
        with safe_open(str(path), "np") as f:
            metadata = f.metadata() or {}
            vectors = f.get_tensor(TENSOR) if TENSOR in f.keys() else None  # noqa: SIM118 (no __contains__)
    except (SafetensorError, OSError, ValueError) as e:
        raise InputError(path, f"not a readable safetensors file: {e}") from None
    if vectors is None or vectors.ndim != 2:
        raise InputError(path, "expected a 2-d tensor", field=TENSOR)
    if "encoder" not in metadata:
        raise InputError(path, "no encoder in the metadata", field="encoder")
    return ConceptEmbeddings(vectors, metadata)


def embed_concepts(texts: Sequence[str], encoder, *, dtype: str, metadata: dict[str, str]) -> ConceptEmbeddings:
    """Encode node texts with a ``TextEncoder`` (mean pooling, L2 norm) into ``dtype`` vectors."""
    log.info("embed_concepts: %d node texts", len(texts))
    vectors = encoder.encode(list(texts), desc="embed concepts").astype(DTYPES[dtype])
    meta = {**metadata, "num_nodes": str(len(texts)), "dim": str(vectors.shape[1]), "pooling": "mean",
            "normalized": "l2", "texts_sha256": texts_fingerprint(texts)}
    return ConceptEmbeddings(vectors, meta)


def embed_kg(kg_name: str, cfg: EmbeddingsConfig, kg_dir: Path, out_path: Path, *, profile: str,
             offline: bool) -> ConceptEmbeddings:
    """embed_concepts@<kg>: embed ``kg_dir/nodes.parquet`` texts and write ``out_path`` atomically."""
    from kg_ml.kg.graph import NODES_SCHEMA, read_table
    from kg_ml.models.pretrained import resolve_pretrained
    from kg_ml.retrieval.encoder import TextEncoder

    texts = read_table(Path(kg_dir) / "nodes.parquet", NODES_SCHEMA).column("text").to_pylist()
    if (row := next((i for i, t in enumerate(texts) if t is None), None)) is not None:
        raise InputError(Path(kg_dir) / "nodes.parquet", f"row {row}: null value", field="text")
    encoder = TextEncoder(resolve_pretrained(cfg.encoder, offline=offline), max_length=cfg.max_length,
                          batch_size=cfg.batch_size, precision=cfg.precision)
    dtype = cfg.stored_dtype(profile)
    embeddings = embed_concepts(texts, encoder, dtype=dtype,
                                metadata={"encoder": cfg.encoder, "kg": kg_name, "max_length": str(cfg.max_length),
                                          "precision": cfg.precision})
    save_embeddings(out_path, embeddings.vectors, embeddings.metadata)
    log.info("embed_concepts@%s: %d x %s %s vectors -> %s", kg_name, *embeddings.vectors.shape, dtype, out_path)
    return embeddings
