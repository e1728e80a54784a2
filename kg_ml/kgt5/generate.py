"""Decoding for KGT5's evaluation: greedy strings, sampled strings, and the summed
log-probability of given answers under teacher forcing (batched on the model's device)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import LogitsProcessor, LogitsProcessorList
from transformers.modeling_outputs import BaseModelOutput

from kg_ml.kgt5.data import IGNORE, pad
from kg_ml.training.rng import derive_seed


def _device(model) -> torch.device:
    return next(model.parameters()).device


def _inputs(model, tokenizer, ids: Sequence[list[int]]) -> dict[str, torch.Tensor]:
    x = pad(ids, tokenizer.pad_token_id).to(_device(model))
    return {"input_ids": x, "attention_mask": (x != tokenizer.pad_token_id).long()}


def _texts(tokenizer, out: torch.Tensor) -> list[str]:
    return tokenizer.batch_decode(out, skip_special_tokens=True)


def _batches(n: int, size: int, desc: str):
    return tqdm(range(0, n, size), desc=desc, unit="batch", disable=None, leave=False)


@torch.no_grad()
def greedy(model, tokenizer, queries: Sequence[list[int]], *, batch_size: int, max_new_tokens: int) -> list[str]:
    """The greedy answer string of every query."""
    out: list[str] = []
    for lo in _batches(len(queries), batch_size, "greedy"):
        gen = model.generate(**_inputs(model, tokenizer, queries[lo:lo + batch_size]), do_sample=False, num_beams=1,
                             max_new_tokens=max_new_tokens)
        out += _texts(tokenizer, gen)
    return out


def draw(probs: torch.Tensor) -> torch.Tensor:
    """One index per row of ``probs`` [rows, vocab], drawn by inverse CDF: the first index whose
    cumulative probability exceeds a uniform draw (a zero-probability index is never drawn). The
    distribution of ``torch.multinomial(probs, 1)``, which on CPU is ~7x slower at KGT5's shapes."""
    cdf = probs.cumsum(-1)
    u = torch.rand(probs.shape[0], 1, device=probs.device, dtype=cdf.dtype) * cdf[:, -1:]
    return torch.searchsorted(cdf, u, right=True).clamp_(max=probs.shape[-1] - 1).squeeze(-1)


class SampleStep(LogitsProcessor):
    """Ancestral sampling inside a greedy `generate`: each step's logits, at ``temperature`` and cut
    to the ``top_k`` most likely (None: all), are replaced by a one-hot of a token drawn from them,
    so greedy's argmax takes the drawn token."""

    def __init__(self, temperature: float, top_k: int | None) -> None:
        self.temperature, self.top_k = temperature, top_k

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        logits = scores.float() / self.temperature
        if self.top_k and self.top_k < logits.shape[-1]:
            kth = logits.topk(self.top_k, dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        token = draw(torch.softmax(logits, dim=-1))
        return torch.full_like(scores, float("-inf")).scatter_(1, token.unsqueeze(1), 0.0)


@torch.no_grad()
def sample(model, tokenizer, queries: Sequence[list[int]], *, num_samples: int, temperature: float,
           top_k: int | None, batch_size: int, max_new_tokens: int, seed: int) -> list[list[str]]:
    """``num_samples`` sampled strings per query (with repeats). Each batch reseeds from (seed, batch),
    so results do not depend on what ran before."""
    out: list[list[str]] = []
    step = LogitsProcessorList([SampleStep(temperature, top_k)])
    for b, lo in enumerate(_batches(len(queries), batch_size, "sample")):
        torch.manual_seed(derive_seed(seed, "sample", b))
        batch = _inputs(model, tokenizer, queries[lo:lo + batch_size])
        states = model.get_encoder()(**batch).last_hidden_state  # once per query, then query-major rows
        rows = BaseModelOutput(last_hidden_state=states.repeat_interleave(num_samples, 0))
        mask = batch["attention_mask"].repeat_interleave(num_samples, 0)
        gen = model.generate(encoder_outputs=rows, attention_mask=mask, do_sample=False, num_beams=1,
                             logits_processor=step, max_new_tokens=max_new_tokens)
        texts = _texts(tokenizer, gen)
        out += [texts[i:i + num_samples] for i in range(0, len(texts), num_samples)]
    return out


@torch.no_grad()
def sequence_log_probs(model, tokenizer, queries: Sequence[list[int]], answers: Sequence[Sequence[list[int]]], *,
                       batch_size: int, rows_per_pass: int = 4096) -> list[np.ndarray]:
    """Summed token log-probabilities (temperature 1) of each query's candidate answers
    (``answers[q]``: ``</s>``-terminated id lists); one array per query. The encoder runs once per
    query; its states are repeated for the candidates."""
    out: list[np.ndarray] = []
    for lo in _batches(len(queries), batch_size, "score"):
        batch = _inputs(model, tokenizer, queries[lo:lo + batch_size])
        states = model.get_encoder()(**batch).last_hidden_state
        cands = [(q, a) for q, group in enumerate(answers[lo:lo + batch_size]) for a in group]
        scores = np.empty(len(cands), dtype=np.float64)
        for c0 in range(0, len(cands), rows_per_pass):
            chunk = cands[c0:c0 + rows_per_pass]
            rows = torch.as_tensor([q for q, _ in chunk], device=states.device)
            labels = pad([a for _, a in chunk], IGNORE).to(states.device)
            logits = model(encoder_outputs=BaseModelOutput(last_hidden_state=states[rows]),
                           attention_mask=batch["attention_mask"][rows], labels=labels).logits
            logp = torch.log_softmax(logits.float(), dim=-1)
            mask = labels != IGNORE
            picked = logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            scores[c0:c0 + len(chunk)] = (picked * mask).sum(-1).double().cpu().numpy()
        sizes = np.cumsum([0] + [len(g) for g in answers[lo:lo + batch_size]])
        out += [scores[a:b] for a, b in zip(sizes[:-1], sizes[1:])]
    return out
