"""Whole-word masking for the masked-LM objective (BERT's 80/10/10 rule, applied per word).

A word is the run of sub-word tokens the tokenizer maps to one ``word_ids`` entry. Each text
gets ``round(probability * words)`` of its words selected (at least one when it has any); every
token of a selected word becomes a prediction target and is replaced by ``[MASK]`` (80%), a
random token (10%) or kept (10%), one draw per word so a word is never half masked.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class MaskedBatch:
    """input_ids [B, L] with masking applied; positions [M]: flat indices (``b * L + t``, ascending)
    of the prediction targets; labels [M]: their original token ids."""

    input_ids: torch.Tensor
    positions: torch.Tensor
    labels: torch.Tensor


def whole_word_mask(input_ids: torch.Tensor, word_ids: torch.Tensor, *, mask_token_id: int, vocab_size: int,
                    probability: float = 0.15, generator: torch.Generator | None = None) -> MaskedBatch:
    """Mask whole words of a padded batch; ``word_ids`` [B, L] is -1 at special and padding tokens."""
    if not 0 < probability < 1:
        raise ValueError(f"masking probability must be in (0, 1), got {probability}")
    batch, length = input_ids.shape
    selected = torch.zeros_like(input_ids, dtype=torch.bool)
    action = torch.zeros_like(input_ids, dtype=torch.long)  # 0 mask, 1 random, 2 keep
    for b in range(batch):
        words = torch.unique(word_ids[b][word_ids[b] >= 0])  # sorted
        if not len(words):
            continue
        n = max(1, round(probability * len(words)))
        chosen = words[torch.randperm(len(words), generator=generator)[:n]]
        draw = torch.rand(len(chosen), generator=generator)
        kinds = torch.where(draw < 0.8, 0, torch.where(draw < 0.9, 1, 2))
        for word, kind in zip(chosen.tolist(), kinds.tolist()):
            at = word_ids[b] == word
            selected[b] |= at
            action[b][at] = kind
    masked = input_ids.clone()
    masked[selected & (action == 0)] = mask_token_id
    random_at = selected & (action == 1)
    masked[random_at] = torch.randint(vocab_size, (int(random_at.sum()),), generator=generator,
                                      dtype=input_ids.dtype)
    positions = selected.view(-1).nonzero().squeeze(1)
    return MaskedBatch(masked, positions, input_ids.view(-1)[positions])
