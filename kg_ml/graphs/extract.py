"""DRAGON / QA-GNN subgraph extraction over a built knowledge graph.

Per statement, with grounded question concepts Q and answer concepts A (a node in both counts
as an answer concept):

- nodes: a context node (position 0, id -1), Q (sorted), A (sorted), then the extra nodes (the
  common neighbours of any two distinct grounded concepts in the simple undirected graph, minus
  Q ∪ A) by relevance score, highest first (ties: lower id first), cut to ``max_nodes`` in all;
- node types: 0 context, 1 question, 2 answer, 3 other;
- edges, for R KG relations: type 0 context→question, 1 context→answer, ``2 + r`` a KG edge of
  relation r (head→tail) between two kept nodes, then the inverse of every one of those edges
  with type ``t + R + 2``: 2·(R + 2) types, 38 for ConceptNet's 17. The first half of the edge
  list is forward (context edges, then KG edges sorted by (src, dst, type)), the second half is
  the same edges reversed, in the same order.

``neighbour_fill`` (off by default, so the node set is DRAGON's exactly) spends the slots left
after the extras on the other neighbours of grounded concepts, by relevance: for extractive
tasks with no answer concepts, where DRAGON's rule often leaves only the grounded nodes.

Speed at ConceptNet scale: a node is an extra iff it touches at least two grounded nodes, so the
extras of a whole chunk of statements come from one sparse product (statements × nodes
indicator) @ (undirected adjacency) counting grounded neighbours, done in C by scipy; hubs of
huge degree are scanned once per statement there instead of once per pair (DRAGON's cost).
Edges among the kept nodes are read from each node's sorted typed neighbour list: a scan for
ordinary nodes, a binary search of the kept set for hubs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from kg_ml.kg import KnowledgeGraph

CONTEXT, QUESTION, ANSWER, OTHER = 0, 1, 2, 3
NUM_NODE_TYPES = 4
CONTEXT_ID = -1  # node id of the context node

# Scores of the candidate node ids of one statement (the context node has id -1), same length.
ScoreFn = Callable[[np.ndarray], np.ndarray]
Grounding = tuple[Sequence[int] | np.ndarray, Sequence[int] | np.ndarray]


def num_edge_types(num_relations: int) -> int:
    """DRAGON's edge type count: 2 context types + R relations, all doubled by inverses."""
    return 2 * (num_relations + 2)


@dataclass(frozen=True, eq=False)
class Subgraph:
    """One statement's subgraph; edges use local node positions."""

    node_ids: np.ndarray  # int32 [n]; node_ids[0] = -1 (context)
    node_types: np.ndarray  # int8 [n]
    node_scores: np.ndarray  # float32 [n]
    edge_src: np.ndarray  # int32 [e]
    edge_dst: np.ndarray  # int32 [e]
    edge_type: np.ndarray  # int16 [e]
    num_candidates: int  # context + grounded + extras before the cut

    @property
    def num_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def num_edges(self) -> int:
        return len(self.edge_src)

    @property
    def truncated(self) -> bool:
        return self.num_candidates > self.num_nodes


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + n)`` for each (s, n), as int64 indices."""
    lengths = np.asarray(lengths, np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, np.int64)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(np.asarray(starts, np.int64) - offsets, lengths) + np.arange(total, dtype=np.int64)


def _top(ids: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` best (score desc, id asc) entries, in that order; NaN ranks last."""
    if k <= 0 or len(ids) == 0:
        return np.empty(0, np.int64)
    neg = -np.where(np.isnan(scores), -np.inf, scores)
    if len(ids) > k:  # exact cut without a full sort: everything above the k-th value, then ties by id
        kth = np.partition(neg, k - 1)[k - 1]
        better = np.flatnonzero(neg < kth)
        tied = np.flatnonzero(neg == kth)
        tied = tied[np.argsort(ids[tied], kind="stable")][: k - len(better)]
        chosen = np.concatenate([better, tied])
    else:
        chosen = np.arange(len(ids))
    return chosen[np.lexsort((ids[chosen], neg[chosen]))]


class SubgraphExtractor:
    """Extracts subgraphs from one graph; holds its adjacency and a scratch array.

    Not thread-safe (the scratch array maps node ids to local positions while one subgraph's
    edges are read); use one extractor per thread or process.
    """

    def __init__(self, kg: KnowledgeGraph, max_nodes: int = 200, *, neighbour_fill: bool = False,
                 hub_factor: int = 4) -> None:
        if max_nodes < 1:
            raise ValueError(f"max_nodes must be >= 1, got {max_nodes}")
        self.num_nodes = kg.num_nodes
        self.num_relations = kg.num_relations
        self.max_nodes = max_nodes
        self.neighbour_fill = neighbour_fill
        self._adj = kg.undirected_csr()
        self._indptr, self._dst, self._rel = kg.typed_csr()  # out- and in-edges (type + R) per node
        self._degree = np.diff(self._indptr)
        # forward edges sorted by (head, tail, relation), keyed head * N + tail: hub-to-hub lookups
        order = np.lexsort((kg.relation, kg.tail, kg.head))
        self._out_key = kg.head[order].astype(np.int64) * self.num_nodes + kg.tail[order]
        self._out_rel = kg.relation[order]
        self._hub_factor = hub_factor
        self._pos = np.full(self.num_nodes, -1, np.int32)  # scratch: node id -> local position
        self._is_hub = np.zeros(self.num_nodes, bool)  # scratch

    @property
    def num_edge_types(self) -> int:
        return num_edge_types(self.num_relations)

    def _grounded(self, question: Sequence[int] | np.ndarray,
                  answer: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a = np.unique(np.asarray(answer, np.int64)).astype(np.int32)
        q = np.setdiff1d(np.asarray(question, np.int64), a).astype(np.int32)
        for ids in (q, a):
            if len(ids) and (ids[0] < 0 or ids[-1] >= self.num_nodes):
                bad = ids[0] if ids[0] < 0 else ids[-1]
                raise ValueError(f"node id {bad} out of range 0..{self.num_nodes - 1}")
        return q, a

    def neighbours(self, grounded: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per sorted grounded set: its other neighbours (sorted) and how many grounded nodes each touches.

        Extras are those touching two or more. One sparse product for all sets, so a hub's
        neighbour list is read once per set, not once per pair of grounded nodes.
        """
        if not grounded:
            return []
        lengths = np.array([len(g) for g in grounded], np.int64)
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        cols = np.concatenate(grounded).astype(np.int32) if indptr[-1] else np.empty(0, np.int32)
        g = sp.csr_matrix((np.ones(len(cols), np.int32), cols, indptr), shape=(len(grounded), self.num_nodes))
        counts = (g @ self._adj).tocsr()  # [sets, nodes]: grounded neighbours of each node
        least = 1 if self.neighbour_fill else 2
        out = []
        for i, ids in enumerate(grounded):
            lo, hi = counts.indptr[i], counts.indptr[i + 1]
            nodes, touching = counts.indices[lo:hi], counts.data[lo:hi]
            keep = touching >= least
            nodes, touching = nodes[keep], touching[keep]
            keep = ~np.isin(nodes, ids, assume_unique=True)
            order = np.argsort(nodes[keep], kind="stable")  # product rows come unsorted
            out.append((nodes[keep][order].astype(np.int32), touching[keep][order]))
        return out

    def extract_batch(self, groundings: Sequence[Grounding], score_fns: Sequence[ScoreFn]) -> list[Subgraph]:
        """Subgraphs of many statements: ``groundings[i] = (question ids, answer ids)``."""
        if len(groundings) != len(score_fns):
            raise ValueError(f"{len(groundings)} groundings but {len(score_fns)} score functions")
        qa = [self._grounded(q, a) for q, a in groundings]
        found = self.neighbours([np.union1d(q, a).astype(np.int32) for q, a in qa])
        return [self._build(q, a, nodes, touching >= 2, fn)
                for (q, a), (nodes, touching), fn in zip(qa, found, score_fns)]

    def extract(self, question: Sequence[int] | np.ndarray, answer: Sequence[int] | np.ndarray,
                score_fn: ScoreFn) -> Subgraph:
        return self.extract_batch([(question, answer)], [score_fn])[0]

    def _build(self, q: np.ndarray, a: np.ndarray, others: np.ndarray, common: np.ndarray,
               score_fn: ScoreFn) -> Subgraph:
        """Rank and cut: context, Q, A, then common neighbours, then (neighbour_fill) the rest."""
        extra, fill = others[common], others[~common]
        candidates = np.concatenate([[CONTEXT_ID], q, a, extra, fill]).astype(np.int32)
        scores = np.asarray(score_fn(candidates), np.float32)
        if scores.shape != candidates.shape:
            raise ValueError(f"score function returned shape {scores.shape} for {len(candidates)} nodes")
        head = 1 + len(q) + len(a)
        extra_scores, fill_scores = scores[head: head + len(extra)], scores[head + len(extra):]
        keep_extra = _top(extra, extra_scores, self.max_nodes - head)
        keep_fill = _top(fill, fill_scores, self.max_nodes - head - len(keep_extra))
        node_ids = np.concatenate([candidates[:head], extra[keep_extra], fill[keep_fill]])[: self.max_nodes]
        node_scores = np.concatenate([scores[:head], extra_scores[keep_extra], fill_scores[keep_fill]])
        node_types = np.repeat(np.array([CONTEXT, QUESTION, ANSWER, OTHER], np.int8),
                               [1, len(q), len(a), len(keep_extra) + len(keep_fill)])
        node_scores, node_types = node_scores[: self.max_nodes], node_types[: self.max_nodes]
        src, dst, etype = self._edges(node_ids, node_types)
        return Subgraph(node_ids, node_types, node_scores, src, dst, etype, num_candidates=len(candidates))

    def _kg_edges(self, node_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Forward KG edges among ``node_ids[1:]``: (src position, dst position, relation), sorted.

        Kept nodes whose degree exceeds ``hub_factor`` × the kept count are hubs. Every other
        kept node's typed list (out-edges and in-edges) is scanned against a position map,
        taking the edges it heads and those whose head is a hub; edges between two hubs are
        looked up in the sorted (head, tail) keys. So no hub's neighbour list is ever read.
        """
        ids = node_ids[1:].astype(np.int64)
        local = np.arange(1, len(node_ids), dtype=np.int32)
        degree = self._degree[ids]
        hub = degree > self._hub_factor * max(len(ids), 1)
        pos, is_hub = self._pos, self._is_hub
        pos[ids], is_hub[ids[hub]] = local, True
        try:
            idx = _ranges(self._indptr[ids[~hub]], degree[~hub])
            src = np.repeat(local[~hub], degree[~hub])
            other, rel = self._dst[idx], self._rel[idx]
            dst = pos[other]
            heads = rel < self.num_relations  # this node heads the edge; else the other end does
            found = (dst >= 0) & (heads | is_hub[other])
        finally:
            pos[ids], is_hub[ids[hub]] = -1, False
        src, dst, rel, heads = src[found], dst[found], rel[found], heads[found]
        src, dst = np.where(heads, src, dst), np.where(heads, dst, src)
        rel = np.where(heads, rel, rel - self.num_relations)
        if hub.sum() > 1:
            order = np.argsort(ids[hub], kind="stable")
            hub_ids, hub_local = ids[hub][order], local[hub][order]
            keys = (hub_ids[:, None] * self.num_nodes + hub_ids[None, :]).ravel()  # ascending
            left = np.searchsorted(self._out_key, keys, "left")
            count = np.searchsorted(self._out_key, keys, "right") - left
            src = np.concatenate([src, np.repeat(np.repeat(hub_local, len(hub_ids)), count)])
            dst = np.concatenate([dst, np.repeat(np.tile(hub_local, len(hub_ids)), count)])
            rel = np.concatenate([rel, self._out_rel[_ranges(left, count)]])
        order = np.argsort((src.astype(np.int64) * len(node_ids) + dst) * self.num_relations + rel)  # unique keys
        return src[order].astype(np.int32), dst[order].astype(np.int32), rel[order]

    def _edges(self, node_ids: np.ndarray, node_types: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ctx_dst = np.flatnonzero((node_types == QUESTION) | (node_types == ANSWER)).astype(np.int32)
        ctx_type = (node_types[ctx_dst] == ANSWER).astype(np.int16)  # 0: context→question, 1: →answer
        src, dst, rel = self._kg_edges(node_ids)
        fwd_src = np.concatenate([np.zeros(len(ctx_dst), np.int32), src]).astype(np.int32)
        fwd_dst = np.concatenate([ctx_dst, dst]).astype(np.int32)
        fwd_type = np.concatenate([ctx_type, rel.astype(np.int16) + 2]).astype(np.int16)
        inverse = np.int16(self.num_relations + 2)
        return (np.concatenate([fwd_src, fwd_dst]), np.concatenate([fwd_dst, fwd_src]),
                np.concatenate([fwd_type, fwd_type + inverse]))


def extract_subgraph(kg: KnowledgeGraph, question_concepts: Sequence[int], answer_concepts: Sequence[int],
                     score_fn: ScoreFn, max_nodes: int = 200, *, neighbour_fill: bool = False) -> Subgraph:
    """One statement's subgraph (builds an extractor: for many statements use ``extract_subgraphs``)."""
    return SubgraphExtractor(kg, max_nodes, neighbour_fill=neighbour_fill).extract(
        question_concepts, answer_concepts, score_fn)


def extract_subgraphs(kg: KnowledgeGraph, groundings: Sequence[Grounding], score_fns: Sequence[ScoreFn],
                      max_nodes: int = 200, *, neighbour_fill: bool = False, chunk_size: int = 256) -> list[Subgraph]:
    """Subgraphs of many statements, ``chunk_size`` statements per sparse product."""
    extractor = SubgraphExtractor(kg, max_nodes, neighbour_fill=neighbour_fill)
    out: list[Subgraph] = []
    for i in range(0, len(groundings), chunk_size):
        out += extractor.extract_batch(groundings[i: i + chunk_size], score_fns[i: i + chunk_size])
    return out
