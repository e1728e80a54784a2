"""KARD's two reranker objectives over a question's candidate passages.

Both take model similarities ``sim`` and rationale-BM25 ``labels`` [B, C] with a boolean ``mask``
[B, C] of real (non-padding) candidates, and return the batch mean.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _masked(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return x.masked_fill(~mask, float("-inf"))


def best_candidate_ce(sim: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor, *,
                      tau2: float = 1.0) -> torch.Tensor:
    """Cross-entropy of softmax(sim / tau2) to the candidate with the highest label
    (ties: the first, i.e. the higher-ranked rationale-BM25 candidate)."""
    target = _masked(labels, mask).argmax(dim=-1)
    return F.cross_entropy(_masked(sim / tau2, mask), target)


def label_kl(sim: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor, *, tau: float = 1.0,
             tau2: float = 1.0) -> torch.Tensor:
    """KL(softmax(labels / tau) || softmax(sim / tau2)), summed over candidates."""
    log_p = F.log_softmax(_masked(labels / tau, mask), dim=-1)
    log_q = F.log_softmax(_masked(sim / tau2, mask), dim=-1)
    p = log_p.exp()
    # padded candidates have p = 0 and -inf logs: take them out before multiplying
    terms = torch.where(mask, p * (log_p - log_q), torch.zeros_like(p))
    return terms.sum(dim=-1).mean()


def reranker_loss(kind: str, sim: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor, *,
                  tau: float, tau2: float) -> torch.Tensor:
    if kind == "ce":
        return best_candidate_ce(sim, labels, mask, tau2=tau2)
    if kind == "kl":
        return label_kl(sim, labels, mask, tau=tau, tau2=tau2)
    raise ValueError(f"unknown reranker loss {kind!r} (ce or kl)")
