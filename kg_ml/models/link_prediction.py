"""Link-prediction scoring of (head, relation, tail) node triples: DistMult, TransE, RotatE.

Scores are "higher = more plausible". The loss is the negative-sampling loss of the RotatE
paper that DRAGON uses for all three: ``-log σ(s⁺) - mean_k log σ(-s⁻_k)`` over the valid
negatives of each positive.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Scorer = Literal["distmult", "transe", "rotate"]
SCORERS: tuple[str, ...] = ("distmult", "transe", "rotate")


class LinkPredictor(nn.Module):
    """Relation embeddings and one scoring function over node states of width ``dim``."""

    def __init__(self, dim: int, num_relations: int, scorer: Scorer = "distmult", gamma: float = 12.0) -> None:
        super().__init__()
        if scorer not in SCORERS:
            raise ValueError(f"unknown link-prediction scorer {scorer!r}; known: {', '.join(SCORERS)}")
        if scorer == "rotate" and dim % 2:
            raise ValueError(f"RotatE needs an even node dimension, got {dim}")
        self.scorer, self.gamma = scorer, gamma
        width = dim // 2 if scorer == "rotate" else dim  # RotatE: one phase per complex coordinate
        self.relation = nn.Parameter(torch.empty(num_relations, width))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.scorer == "rotate":  # phases
            nn.init.uniform_(self.relation, -math.pi, math.pi)
        else:
            nn.init.normal_(self.relation, std=self.relation.shape[1] ** -0.5)

    def score(self, head: torch.Tensor, relation: torch.Tensor, tail: torch.Tensor) -> torch.Tensor:
        """Scores of triples; ``head``/``tail`` [..., dim] node states, ``relation`` [...] ids."""
        r = self.relation[relation]
        if self.scorer == "distmult":
            return (head * r * tail).sum(-1)
        if self.scorer == "transe":
            return self.gamma - (head + r - tail).norm(p=1, dim=-1)
        h_re, h_im = head.chunk(2, dim=-1)
        t_re, t_im = tail.chunk(2, dim=-1)
        r_re, r_im = torch.cos(r), torch.sin(r)
        d_re = h_re * r_re - h_im * r_im - t_re
        d_im = h_re * r_im + h_im * r_re - t_im
        return self.gamma - torch.sqrt(d_re ** 2 + d_im ** 2 + 1e-9).sum(-1)

    def loss(self, nodes: torch.Tensor, head: torch.Tensor, relation: torch.Tensor, tail: torch.Tensor,
             neg_head: torch.Tensor, neg_tail: torch.Tensor, neg_valid: torch.Tensor) -> torch.Tensor:
        """Mean negative-sampling loss over ``P`` positives with ``K`` negatives each.

        nodes [N, dim]: node states; head/relation/tail [P]; neg_head/neg_tail [P, K] (node indices of
        the corrupted triples); neg_valid [P, K] bool (False: padding or an accidental true edge).
        With no positives the loss is an exact zero that still depends on the parameters (DDP needs
        every parameter in the graph).
        """
        pos = self.score(nodes[head], relation, nodes[tail]).float()
        neg = self.score(nodes[neg_head], relation.unsqueeze(1), nodes[neg_tail]).float()
        valid = neg_valid.float()
        neg_term = (F.logsigmoid(-neg) * valid).sum(1) / valid.sum(1).clamp(min=1)
        anchor = 0.0 * self.relation.sum()
        if not head.numel():
            return anchor
        return (-F.logsigmoid(pos) - neg_term).mean() + anchor
