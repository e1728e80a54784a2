"""The most-frequent-answer-per-relation baseline of link prediction, ranked by the same rule.

For a tail query ``(h, r, ?)`` an entity's score is how often it is a tail of ``r`` in the
training triples (heads for head queries); entities never seen there are unscored, as unsampled
strings are for KGT5. Counts are kept as sorted arrays, so this scales to Wikidata5M.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from kg_ml.kgt5.ranking import tie_rank
from kg_ml.kgt5.verbalize import HEAD, TAIL


class FrequencyBaseline:
    def __init__(self, train: np.ndarray, num_entities: int) -> None:
        self.num_entities = num_entities
        self._keys, self._counts, self._sorted, self._starts = {}, {}, {}, {}
        for direction, col in ((TAIL, 2), (HEAD, 0)):
            key = train[:, 1].astype(np.int64) * num_entities + train[:, col]
            uniq, counts = np.unique(key, return_counts=True)
            rel = uniq // num_entities
            order = np.lexsort((counts, rel))  # by relation, then count ascending
            self._keys[direction], self._counts[direction] = uniq, counts
            self._sorted[direction] = counts[order]
            self._starts[direction] = np.searchsorted(rel[order], np.arange(int(rel.max(initial=0)) + 2))

    def count(self, direction: int, relation: int, entity: int) -> int:
        keys = self._keys[direction]
        k = relation * self.num_entities + entity
        i = int(np.searchsorted(keys, k))
        return int(self._counts[direction][i]) if i < len(keys) and keys[i] == k else 0

    def _segment(self, direction: int, relation: int) -> np.ndarray:
        starts = self._starts[direction]
        if relation + 1 >= len(starts):
            return self._sorted[direction][:0]
        return self._sorted[direction][starts[relation]:starts[relation + 1]]

    def rank(self, direction: int, relation: int, gold: int, known: Collection[int]) -> int:
        """Filtered rank of ``gold`` (other ``known`` answers removed; unseen gold: number of entities)."""
        c = self.count(direction, relation, gold)
        if c == 0:
            return self.num_entities
        seg = self._segment(direction, relation)
        hi, lo = int(np.searchsorted(seg, c, "right")), int(np.searchsorted(seg, c, "left"))
        better, ties = len(seg) - hi, hi - lo - 1
        for k in known:
            if k == gold:
                continue
            ck = self.count(direction, relation, k)
            if ck > c:
                better -= 1
            elif ck == c:
                ties -= 1
        return tie_rank(better, ties)
