"""Concept embeddings: one vector per KG node, the GNN's node features and the cosine relevance.

File ``data/embeddings/<kg>/concepts.safetensors``: one tensor ``embeddings`` [num_nodes, dim]
(float32 or float16), row i = node id i of ``data/kg/<kg>/nodes.parquet``: the mean-pooled,
L2-normalised encoder output of the node's ``text``. String metadata: ``encoder`` (the params
reference), ``kg``, ``num_nodes``, ``dim``, ``max_length``, ``pooling`` (``mean``),
``normalized`` (``l2``) and ``texts_sha256`` (hash of the node texts, to catch a stale file).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from kg_ml.errors import InputError
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


def save_embeddings(path: str | Path, vectors: np.ndarray, metadata: dict[str, str]) -> None:
    """Write atomically; the same vectors and metadata give the same bytes."""
    with atomic_file(path) as tmp:
        save_file({TENSOR: np.ascontiguousarray(vectors)}, str(tmp), metadata=dict(sorted(metadata.items())))


def load_embeddings(path: str | Path) -> ConceptEmbeddings:
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "missing file (run embed_concepts first)")
    try:
        with safe_open(str(path), "np") as f:
            metadata = f.metadata() or {}
            vectors = f.get_tensor(TENSOR) if TENSOR in f.keys() else None
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
