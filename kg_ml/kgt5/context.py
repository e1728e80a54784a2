"""KGT5-context (Kochsiek et al., 2023): a query also reads the 1-hop neighbourhood of its entity.

The neighbourhood comes from the training triples only. Each entity lists its outgoing edges
(relation, tail) first, then its incoming edges (relation, head, marked reverse); within each group
the order is a fixed hash of the edge, so a query reads the same context in every epoch and stage
without any stored seed. While training, the edge a query asks about is left out of its own
context; otherwise the model would learn to copy the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kg_ml.kgt5.kg import KnowledgeGraph
from kg_ml.kgt5.model import context_neighbours
from kg_ml.kgt5.verbalize import Verbaliser

Edge = tuple[int, int, bool]  # (relation, other entity, reverse)


def _edge_hash(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """A splitmix64-style mix of three int columns: an order that looks random but is fixed."""
    with np.errstate(over="ignore"):
        x = a.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        x ^= b.astype(np.uint64) * np.uint64(0xBF58476D1CE4E5B9)
        x ^= c.astype(np.uint64) * np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
        x *= np.uint64(0xD6E8FEB86CA6B1D5)
        x ^= x >> np.uint64(29)
    return x


@dataclass(frozen=True)
class Neighbourhood:
    """CSR adjacency over the training triples: entity ``e``'s edges are rows
    ``offsets[e]:offsets[e + 1]`` of ``relation`` / ``other`` / ``reverse``."""

    offsets: np.ndarray
    relation: np.ndarray
    other: np.ndarray
    reverse: np.ndarray

    @classmethod
    def build(cls, triples: np.ndarray, num_entities: int) -> Neighbourhood:
        h, r, t = (triples[:, i].astype(np.int64) for i in range(3))
        entity = np.concatenate([h, t])
        relation = np.concatenate([r, r])
        other = np.concatenate([t, h])
        reverse = np.concatenate([np.zeros(len(h), bool), np.ones(len(h), bool)])
        order = np.lexsort((_edge_hash(entity, relation, other), reverse, entity))
        counts = np.bincount(entity, minlength=num_entities)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(offsets, relation[order].astype(np.int32), other[order].astype(np.int32), reverse[order])

    def edges(self, entity: int, limit: int, exclude: Edge | None = None) -> list[Edge]:
        """Up to ``limit`` edges of ``entity``, outgoing first, without ``exclude``.

        Reads the entity's rows ``limit + 1`` at a time: a Wikidata5M hub has millions of edges.
        """
        lo, hi = int(self.offsets[entity]), int(self.offsets[entity + 1])
        out: list[Edge] = []
        while lo < hi and len(out) < limit:
            stop = min(hi, lo + limit + 1)
            for edge in zip(self.relation[lo:stop].tolist(), self.other[lo:stop].tolist(),
                            self.reverse[lo:stop].tolist()):
                if len(out) == limit:
                    break
                if edge != exclude:
                    out.append(edge)
            lo = stop
        return out


def model_verbaliser(model, tokenizer, kg: KnowledgeGraph, *, max_input_length: int,
                     max_target_length: int) -> Verbaliser:
    """The verbaliser that builds the inputs ``model`` was trained on: with its KGT5-context edges
    (from ``kg``'s training triples) when its config asks for them."""
    n = context_neighbours(model)
    hood = Neighbourhood.build(kg.triples["train"], kg.num_entities) if n else None
    return Verbaliser(tokenizer, kg.entity_names, kg.relation_names, max_input_length=max_input_length,
                      max_target_length=max_target_length, neighbourhood=hood, max_neighbours=n)
