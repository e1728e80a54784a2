"""Link-prediction targets: drop a share of a subgraph's KG edges and sample corrupted triples.

Edge types follow the subgraph tables (docs/DATA.md): ``num_edge_types`` types whose second
half are the inverses of the first (type ``t + num_edge_types // 2`` mirrors ``t``); the KG
relations are the forward types in ``kg_types`` (the others link the context node). Only KG
edges between concept nodes are candidates (context edges carry no relation to predict). A dropped edge takes its inverse
twin with it, so the input graph does not give the answer away. Each positive (h, r, t) gets
``k`` negatives, each with the head or the tail (fair coin) replaced by a random concept node
of the same graph; a negative that is a true edge of the graph (dropped or not) or the
positive itself is marked invalid rather than resampled, so the work per graph is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def kg_edge_types(num_relations: int) -> range:
    """The forward KG relation types of the subgraph tables (`kg_ml.graphs.extract`: ``2 + r``)."""
    return range(2, 2 + num_relations)


@dataclass(frozen=True)
class LinkTargets:
    """keep [E] bool: edges left in the input graph; head/relation/tail [P]: the dropped forward
    KG edges (node indices local to the graph); neg_head/neg_tail [P, k]; neg_valid [P, k]."""

    keep: torch.Tensor
    head: torch.Tensor
    relation: torch.Tensor
    tail: torch.Tensor
    neg_head: torch.Tensor
    neg_tail: torch.Tensor
    neg_valid: torch.Tensor


def link_targets(edge_index: torch.Tensor, edge_type: torch.Tensor, node_type: torch.Tensor, *,
                 kg_types: range, num_edge_types: int, drop_probability: float, negatives: int,
                 generator: torch.Generator | None = None) -> LinkTargets:
    """Targets for one graph (``node_type`` 0 = context node)."""
    src, dst = edge_index
    shift = num_edge_types // 2
    concept = node_type != 0
    is_kg = (edge_type >= kg_types.start) & (edge_type < kg_types.stop)
    candidate = is_kg & concept[src] & concept[dst]
    drop = candidate & (torch.rand(edge_type.shape, generator=generator) < drop_probability)

    n = int(node_type.numel())
    key = (src * num_edge_types + edge_type) * n + dst  # one integer per typed directed edge
    inverse = (edge_type >= kg_types.start + shift) & (edge_type < kg_types.stop + shift)
    twin = (dst * num_edge_types + (edge_type - shift)) * n + src  # the forward edge an inverse mirrors
    keep = ~drop & ~(inverse & torch.isin(twin, key[drop]))

    head, relation, tail = src[drop], edge_type[drop], dst[drop]
    pool = concept.nonzero().squeeze(1)
    p = int(head.numel())
    picks = pool[torch.randint(len(pool), (p, negatives), generator=generator)] if len(pool) else \
        torch.zeros((p, negatives), dtype=torch.long)
    corrupt_head = torch.rand((p, negatives), generator=generator) < 0.5
    neg_head = torch.where(corrupt_head, picks, head.unsqueeze(1))
    neg_tail = torch.where(corrupt_head, tail.unsqueeze(1), picks)
    true_edges = key[is_kg]
    neg_key = (neg_head * num_edge_types + relation.unsqueeze(1)) * n + neg_tail
    neg_valid = ~torch.isin(neg_key, true_edges)
    return LinkTargets(keep, head, relation, tail, neg_head, neg_tail, neg_valid)
