"""Frozen-stack token states of a set of texts, computed once and packed for reuse.

The reranker's lower stack never changes during training, so each question and candidate
passage is encoded through it once; batches then gather padded slices from this cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext

import torch
from tqdm import tqdm

from kg_ml.retrieval.encoder import length_batches


class TokenStates:
    """States of text ``i`` are ``data[offsets[i]:offsets[i+1]]`` ([length_i, hidden], fp32, CPU)."""

    def __init__(self, data: torch.Tensor, offsets: torch.Tensor) -> None:
        self.data = data
        self.offsets = offsets

    def __len__(self) -> int:
        return self.offsets.numel() - 1

    @classmethod
    @torch.no_grad()
    def compute(cls, model, tokenizer, texts: Sequence[str], *, max_length: int, batch_size: int,
                autocast: Callable[[], AbstractContextManager] = nullcontext,
                desc: str = "frozen states") -> "TokenStates":
        """Encode ``texts`` through the frozen stack (eval mode) under ``autocast()``; stored as fp32."""
        ids = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"] if texts else []
        lengths = torch.tensor([len(x) for x in ids], dtype=torch.long)
        offsets = torch.zeros(len(ids) + 1, dtype=torch.long)
        offsets[1:] = torch.cumsum(lengths, 0)
        data = torch.empty(int(offsets[-1]), model.encoder.config.hidden_size)
        device = next(model.parameters()).device
        was_training = model.training
        model.eval()  # no dropout: the cache must hold the frozen stack's exact output
        for batch in tqdm(length_batches(lengths.tolist(), batch_size), desc=desc, unit=" batches",
                          leave=False, disable=None):
            enc = tokenizer.pad({"input_ids": [ids[i] for i in batch]}, return_tensors="pt")
            with autocast():
                states = model.frozen_states(enc["input_ids"].to(device), enc["attention_mask"].to(device))
            states = states.float().cpu()
            for row, i in enumerate(batch.tolist()):
                data[offsets[i]: offsets[i + 1]] = states[row, : lengths[i]]
        model.train(was_training)
        return cls(data, offsets)

    def gather(self, positions: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded states [n, max_len, hidden] and mask [n, max_len] (bool) of texts ``positions``."""
        starts = self.offsets[list(positions)]
        lengths = self.offsets[[p + 1 for p in positions]] - starts
        width = int(lengths.max()) if len(positions) else 0
        out = self.data.new_zeros(len(positions), width, self.data.shape[1])
        mask = torch.arange(width)[None, :] < lengths[:, None]
        for row, (s, n) in enumerate(zip(starts.tolist(), lengths.tolist())):
            out[row, :n] = self.data[s: s + n]
        return out, mask
