"""Frozen-stack token states of a set of texts, computed once and packed for reuse.

The reranker's lower stack never changes during training, so each question and candidate
passage is encoded through it once; batches then gather padded slices from this cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext

import numpy as np
import torch
from tqdm import tqdm

from kg_ml.retrieval.encoder import length_batches


CACHE_MAX_BYTES = 8 << 30  # frozen states held in memory; beyond, `LazyTokenStates` computes them per batch


class TokenStates:
    """States of text ``i`` are ``data[offsets[i]:offsets[i+1]]`` ([length_i, hidden], fp32, CPU)."""

    def __init__(self, data: torch.Tensor, offsets: torch.Tensor) -> None:
        self.data = data
        self.offsets = offsets

    def __len__(self) -> int:
        return self.offsets.numel() - 1

    @classmethod
    def compute(cls, model, tokenizer, texts: Sequence[str], *, max_length: int, batch_size: int,
                autocast: Callable[[], AbstractContextManager] = nullcontext,
                desc: str = "frozen states") -> "TokenStates":
        """Encode ``texts`` through the frozen stack (eval mode) under ``autocast()``; stored as fp32."""
        ids = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"] if texts else []
        return cls.encode_ids(model, tokenizer, ids, batch_size=batch_size, autocast=autocast, desc=desc)

    @classmethod
    @torch.no_grad()
    def encode_ids(cls, model, tokenizer, ids: Sequence[list[int]], *, batch_size: int,
                   autocast: Callable[[], AbstractContextManager] = nullcontext,
                   desc: str = "frozen states") -> "TokenStates":
        """`compute` for texts already tokenised (truncated token id lists)."""
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

    @classmethod
    def for_texts(cls, model, tokenizer, texts: Sequence[str], *, max_length: int, batch_size: int,
                  autocast: Callable[[], AbstractContextManager] = nullcontext,
                  desc: str = "frozen states") -> "TokenStates | LazyTokenStates":
        """`compute`d states, or `LazyTokenStates` where they would exceed `CACHE_MAX_BYTES` (fp32:
        DPR's candidates at full size are ~1M passages x 128 tokens x 384 x 4 bytes, ~200 GB)."""
        lazy = LazyTokenStates(model, tokenizer, texts, max_length=max_length, autocast=autocast)
        if lazy.nbytes() > CACHE_MAX_BYTES:
            return lazy
        # the texts are tokenised once: the cache is encoded from the ids that sized it
        return cls.encode_ids(model, tokenizer, lazy.id_lists(), batch_size=batch_size, autocast=autocast, desc=desc)

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


class LazyTokenStates:
    """`TokenStates`' ``gather`` for text sets too large to cache: token ids kept (int32, flat), the
    frozen stack run on the gathered texts each time (eval mode, on the model's device)."""

    def __init__(self, model, tokenizer, texts: Sequence[str], *, max_length: int,
                 autocast: Callable[[], AbstractContextManager] = nullcontext, chunk: int = 65_536) -> None:
        self.model, self.autocast = model, autocast
        self.pad_id = getattr(tokenizer, "pad_token_id", None) or 0  # padding is masked: any id serves
        parts, lengths = [], []
        for lo in range(0, len(texts), chunk):  # chunked: Python id lists of 1M texts would be ~5 GB
            ids = tokenizer(list(texts[lo: lo + chunk]), truncation=True, max_length=max_length)["input_ids"]
            lengths.extend(len(x) for x in ids)
            parts.append(np.fromiter((t for x in ids for t in x), dtype=np.int32))
        self.ids = np.concatenate(parts) if parts else np.zeros(0, np.int32)
        self.offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])

    def __len__(self) -> int:
        return self.offsets.size - 1

    def id_lists(self) -> list[list[int]]:
        """The token ids of every text, as the tokenizer returned them."""
        return [self.ids[a:b].tolist() for a, b in zip(self.offsets[:-1].tolist(), self.offsets[1:].tolist())]

    def nbytes(self) -> int:
        """What `TokenStates.compute` would hold for these texts (fp32)."""
        return int(self.offsets[-1]) * self.model.encoder.config.hidden_size * 4

    @torch.no_grad()
    def gather(self, positions: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        pos = np.asarray(positions, dtype=np.int64)
        lengths = torch.from_numpy(self.offsets[pos + 1] - self.offsets[pos])
        width = int(lengths.max()) if pos.size else 0
        ids = torch.full((pos.size, width), self.pad_id, dtype=torch.long)
        mask = torch.arange(width)[None, :] < lengths[:, None]
        for row, p in enumerate(pos.tolist()):
            ids[row, : lengths[row]] = torch.from_numpy(self.ids[self.offsets[p]: self.offsets[p + 1]].astype(np.int64))
        device = next(self.model.parameters()).device
        was_training = self.model.training
        self.model.eval()  # no dropout: the frozen stack's exact output, as the cache holds it
        with self.autocast():
            states = self.model.frozen_states(ids.to(device), mask.long().to(device))
        self.model.train(was_training)
        out = states.float().cpu()
        out[~mask] = 0.0
        return out, mask
