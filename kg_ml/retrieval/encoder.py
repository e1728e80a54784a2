"""Sentence embeddings for dense retrieval: a Hugging Face encoder, mean pooling, L2 norm
(all-MiniLM-L6-v2's sentence-transformers recipe), batched by length to avoid padding work."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch
from tqdm import tqdm
from transformers import AutoModel, AutoTokenizer

from kg_ml.models.pretrained import resolve_pretrained

log = logging.getLogger(__name__)


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def length_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Positions grouped into batches of similar length (stable order: length, then position)."""
    order = np.lexsort((np.arange(len(lengths)), np.asarray(lengths)))
    return [order[i: i + batch_size] for i in range(0, len(order), batch_size)]


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


class TextEncoder:
    """Texts -> L2-normalised float32 vectors (mean-pooled last hidden states)."""

    def __init__(self, ref: str, *, max_length: int = 256, batch_size: int = 64, precision: str = "auto",
                 device: str = "auto", offline: bool = True) -> None:
        """``ref``: a model reference (kg_ml.models.pretrained) or a resolved directory; ``offline``:
        a hub name must already be in the local cache (the sample profile)."""
        path = resolve_pretrained(ref, offline=offline)
        self.ref = ref
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = pick_device(device)
        self.bf16 = precision == "bf16" or (precision == "auto" and self.device.type == "cuda")
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).to(self.device).eval()
        self.dim = int(self.model.config.hidden_size)

    @torch.inference_mode()
    def encode(self, texts: Sequence[str], *, desc: str = "encode") -> np.ndarray:
        """Embeddings [len(texts), dim] in input order."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)["input_ids"]
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16)
        for batch in tqdm(length_batches([len(x) for x in ids], self.batch_size), desc=desc,
                          unit=" batches", leave=False, disable=None):
            enc = self.tokenizer.pad({"input_ids": [ids[i] for i in batch]}, return_tensors="pt")
            enc = {k: v.to(self.device) for k, v in enc.items()}
            with autocast:
                hidden = self.model(**enc).last_hidden_state
            vec = torch.nn.functional.normalize(mean_pool(hidden.float(), enc["attention_mask"]), dim=-1)
            out[batch] = vec.cpu().numpy()
        return out
