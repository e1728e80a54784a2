"""Relevance scores of candidate nodes against a statement, which rank a subgraph's extra nodes.

- ``CosineRelevance`` (default, CPU-fast): dot product of the L2-normalised concept embedding
  (``embed_concepts@<kg>``) with the statement's embedding from the same encoder; the context
  node scores 1 (the statement against itself).
- ``LMRelevance`` (DRAGON / QA-GNN's ``get_LM_score``): minus the summed token loss of the
  lower-cased sentence "<statement> <node text>." under a masked LM with the input itself as
  labels (no masking, as DRAGON); the context node scores the statement alone. One LM pass per
  candidate node, so it wants a GPU.

Both give, for a list of statement texts, one ``ScoreFn`` per statement (``for_texts``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial

import numpy as np

from kg_ml.graphs.extract import ScoreFn

log = logging.getLogger(__name__)


class CosineRelevance:
    """Cosine of concept vectors against statement vectors (both L2-normalised)."""

    def __init__(self, concept_vectors: np.ndarray, encoder=None) -> None:
        self.vectors = concept_vectors  # [num_nodes, dim], float32 or float16
        self.encoder = encoder  # a kg_ml.retrieval.encoder.TextEncoder; only ``for_texts`` needs it

    def scores(self, statement: np.ndarray, node_ids: np.ndarray) -> np.ndarray:
        out = np.ones(len(node_ids), np.float32)  # context node (id -1): the statement itself
        kg = node_ids >= 0
        out[kg] = self.vectors[node_ids[kg]].astype(np.float32, copy=False) @ statement
        return out

    def for_vectors(self, statement_vectors: np.ndarray) -> list[ScoreFn]:
        vectors = np.asarray(statement_vectors, np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.vectors.shape[1]:
            raise ValueError(f"statement vectors of shape {vectors.shape}, concept vectors of dim "
                             f"{self.vectors.shape[1]}")
        return [partial(self.scores, v) for v in vectors]

    def for_texts(self, texts: Sequence[str]) -> list[ScoreFn]:
        if self.encoder is None:
            raise ValueError("CosineRelevance.for_texts needs an encoder")
        unique, inverse = np.unique(np.asarray(texts, dtype=object), return_inverse=True)  # encode each once
        vectors = self.encoder.encode(unique.tolist(), desc="embed statements")
        return self.for_vectors(vectors[inverse.reshape(-1)])


class LMRelevance:
    """DRAGON's LM-likelihood relevance under a Hugging Face masked LM."""

    def __init__(self, model_dir: str, node_texts: Sequence[str], *, batch_size: int = 50, max_length: int = 256,
                 device: str = "auto") -> None:
        import torch
        from transformers import AutoModelForMaskedLM, AutoTokenizer

        from kg_ml.retrieval.encoder import pick_device

        self.torch = torch
        self.device = pick_device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForMaskedLM.from_pretrained(model_dir).to(self.device).eval()
        self.node_texts = node_texts
        self.batch_size = batch_size
        self.max_length = max_length
        if self.device.type == "cpu":
            log.warning("LM relevance runs one LM pass per candidate node: expect hours on CPU at "
                        "ConceptNet scale (relevance: cosine is the CPU default)")

    def sentence_scores(self, sentences: Sequence[str]) -> np.ndarray:
        """Minus the summed token cross-entropy of each sentence against itself (higher = likelier)."""
        torch = self.torch
        out = np.empty(len(sentences), np.float32)
        cuda = self.device.type == "cuda"  # bf16 autocast on GPU (as TextEncoder), losses in fp32
        with torch.inference_mode(), torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=cuda):
            for i in range(0, len(sentences), self.batch_size):
                enc = self.tokenizer(list(sentences[i: i + self.batch_size]), padding=True, truncation=True,
                                     max_length=self.max_length, return_tensors="pt").to(self.device)
                logits = self.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits
                loss = torch.nn.functional.cross_entropy(logits.float().transpose(1, 2), enc["input_ids"],
                                                         reduction="none")
                out[i: i + len(loss)] = (-(loss * enc["attention_mask"]).sum(1)).cpu().numpy()
        return out

    def scores(self, statement: str, node_ids: np.ndarray) -> np.ndarray:
        text = statement.lower()
        return self.sentence_scores([text if n < 0 else f"{text} {self.node_texts[n].lower()}." for n in node_ids])

    def for_texts(self, texts: Sequence[str]) -> list[ScoreFn]:
        return [partial(self.scores, t) for t in texts]
