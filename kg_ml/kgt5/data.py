"""Tokenised (input, target) pairs as map-style datasets, and padded seq2seq batches."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from kg_ml.kgt5.verbalize import HEAD, TAIL, Verbaliser

IGNORE = -100  # label positions the loss skips


class TripleDataset(Dataset):
    """Both queries of every triple: item ``2i`` predicts the tail of triple ``i``, ``2i+1`` its head.
    Ids are built on access, so Wikidata5M's 20M triples need no pre-tokenised copy."""

    def __init__(self, triples: np.ndarray, verbaliser: Verbaliser) -> None:
        self.triples, self.verbaliser = triples, verbaliser

    def __len__(self) -> int:
        return 2 * len(self.triples)

    def __getitem__(self, i: int) -> tuple[list[int], list[int]]:
        return self.verbaliser.triple_pair(self.triples[i // 2], TAIL if i % 2 == 0 else HEAD)


class PairDataset(Dataset):
    """Pre-tokenised (input ids, target ids) pairs."""

    def __init__(self, pairs: Sequence[tuple[list[int], list[int]]]) -> None:
        self.pairs = pairs

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int) -> tuple[list[int], list[int]]:
        return self.pairs[i]


def pad(seqs: Sequence[Sequence[int]], value: int) -> torch.Tensor:
    out = torch.full((len(seqs), max(map(len, seqs))), value, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = torch.as_tensor(s, dtype=torch.long)
    return out


class Seq2SeqCollate:
    """``input_ids`` / ``attention_mask`` padded with the pad id, ``labels`` padded with -100."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, items: list[tuple[list[int], list[int]]]) -> dict[str, torch.Tensor]:
        inputs = pad([i for i, _ in items], self.pad_id)
        return {"input_ids": inputs, "attention_mask": (inputs != self.pad_id).long(),
                "labels": pad([t for _, t in items], IGNORE)}


def seq2seq_loss(model, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
    """Token-level cross-entropy of the targets (T5's own loss)."""
    return model(**batch).loss, {}
