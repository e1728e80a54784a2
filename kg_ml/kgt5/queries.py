"""Link-prediction queries of a split and the known true answers used for filtering."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kg_ml.kgt5.verbalize import HEAD, TAIL


@dataclass(frozen=True)
class Queries:
    """Two queries per triple, tail first: ``direction`` (TAIL/HEAD), the ``entity`` given, the
    ``relation``, the gold ``answer`` and the ``triple`` row in its split."""

    direction: np.ndarray
    entity: np.ndarray
    relation: np.ndarray
    answer: np.ndarray
    triple: np.ndarray

    def __len__(self) -> int:
        return len(self.direction)

    def keys(self) -> np.ndarray:
        return query_keys(self.direction, self.entity, self.relation)


def query_keys(direction: np.ndarray, entity: np.ndarray, relation: np.ndarray) -> np.ndarray:
    """One int64 per (direction, entity, relation)."""
    return (entity.astype(np.int64) * 2 + direction.astype(np.int64)) * (1 << 24) + relation.astype(np.int64)


def triple_queries(triples: np.ndarray) -> Queries:
    n = len(triples)
    h, r, t = triples[:, 0], triples[:, 1], triples[:, 2]
    direction = np.tile(np.array([TAIL, HEAD], dtype=np.int8), n)
    return Queries(direction, np.stack([h, t], 1).reshape(-1), np.repeat(r, 2), np.stack([t, h], 1).reshape(-1),
                   np.repeat(np.arange(n, dtype=np.int32), 2))


def known_answers(queries: Queries, triples: np.ndarray) -> dict[int, set[int]]:
    """Query key -> every true answer in ``triples`` (train + valid + test), for the queried keys only
    (a full-size KG has tens of millions of keys)."""
    wanted = np.unique(queries.keys())
    out: dict[int, set[int]] = {}
    for direction, given, answer in ((TAIL, 0, 2), (HEAD, 2, 0)):
        keys = query_keys(np.full(len(triples), direction), triples[:, given], triples[:, 1])
        hit = np.isin(keys, wanted)
        for k, a in zip(keys[hit].tolist(), triples[hit, answer].tolist()):
            out.setdefault(k, set()).add(a)
    return out
