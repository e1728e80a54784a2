"""KGT5 ranking: filtered ranks with ties on hand-made cases, the frequency baseline, queries."""

from __future__ import annotations

import numpy as np
import pytest

from kg_ml.kgt5.baseline import FrequencyBaseline
from kg_ml.kgt5.queries import known_answers, triple_queries
from kg_ml.kgt5.ranking import filtered_rank, rank_metrics, tie_rank
from kg_ml.kgt5.verbalize import HEAD, TAIL

N = 100  # entities


def test_rank_without_ties_or_filtering() -> None:
    assert filtered_rank([5, 7, 9], [-1.0, -3.0, -2.0], gold=9, known=set(), num_entities=N) == 2
    assert filtered_rank([5, 7, 9], [-1.0, -3.0, -2.0], gold=5, known=set(), num_entities=N) == 1


def test_known_answers_are_filtered_but_gold_is_kept() -> None:
    # 7 and 8 score above the gold but are other true answers: filtered, the gold ranks first.
    cands, scores = [7, 8, 9, 3], [-0.5, -0.7, -1.0, -2.0]
    assert filtered_rank(cands, scores, gold=9, known=set(), num_entities=N) == 3
    assert filtered_rank(cands, scores, gold=9, known={7, 8, 9}, num_entities=N) == 1
    assert filtered_rank(cands, scores, gold=3, known={7, 8, 9, 3}, num_entities=N) == 1


def test_ties_count_half() -> None:
    # gold 4 ties with three others, one candidate is better: rank = 1 + 3 // 2 + 1 = 3.
    cands, scores = [1, 2, 3, 4, 5, 6], [-1.0, -2.0, -2.0, -2.0, -2.0, -5.0]
    assert filtered_rank(cands, scores, gold=4, known=set(), num_entities=N) == 3
    # Filtering a tied true answer removes it from the ties: 1 + 2 // 2 + 1 = 3; two: 1 + 1 // 2 + 1 = 2.
    assert filtered_rank(cands, scores, gold=4, known={2}, num_entities=N) == 3
    assert filtered_rank(cands, scores, gold=4, known={2, 3}, num_entities=N) == 2
    assert tie_rank(0, 1) == 1 and tie_rank(0, 2) == 2 and tie_rank(2, 5) == 5


def test_gold_never_sampled_ranks_last() -> None:
    assert filtered_rank([1, 2], [-1.0, -2.0], gold=3, known={3}, num_entities=N) == N
    assert filtered_rank(np.array([], dtype=np.int64), np.array([]), gold=3, known=set(), num_entities=N) == N


def test_rank_metrics() -> None:
    m = rank_metrics([1, 2, 4, 20], prefix="tail_")
    assert m["tail_mrr"] == pytest.approx((1 + 1 / 2 + 1 / 4 + 1 / 20) / 4)
    assert (m["tail_hits@1"], m["tail_hits@3"], m["tail_hits@10"]) == (0.25, 0.5, 0.75)
    assert rank_metrics([])["mrr"] == 0.0


def test_queries_and_known_answers() -> None:
    train = np.array([[0, 0, 1], [0, 0, 2], [3, 1, 1]], dtype=np.int32)
    test = np.array([[0, 0, 4], [5, 0, 1]], dtype=np.int32)
    q = triple_queries(test)
    assert q.direction.tolist() == [TAIL, HEAD, TAIL, HEAD]
    assert q.entity.tolist() == [0, 4, 5, 1] and q.answer.tolist() == [4, 0, 1, 5]
    assert q.relation.tolist() == [0, 0, 0, 0] and q.triple.tolist() == [0, 0, 1, 1]
    known = known_answers(q, np.concatenate([train, test]))
    keys = q.keys().tolist()
    assert known[keys[0]] == {1, 2, 4}  # (0, r0, ?)
    assert known[keys[3]] == {0, 5}  # (?, r0, 1): heads 0 (train) and 5 (test); (3, r1, 1) is another relation
    assert len(known) == 4


def test_frequency_baseline_matches_the_generic_rank() -> None:
    rng = np.random.default_rng(0)
    train = np.stack([rng.integers(0, 30, 400), rng.integers(0, 3, 400), rng.integers(0, 12, 400)], 1)
    base = FrequencyBaseline(train, num_entities=30)
    for direction, col in ((TAIL, 2), (HEAD, 0)):
        for rel in range(4):  # relation 3 never occurs: every gold is unscored
            sel = train[:, 1] == rel
            ents, counts = np.unique(train[sel, col], return_counts=True)
            for gold in (0, 5, 11, 29):
                for known in (set(), {1, 2, 3, gold}, set(ents[:4].tolist())):
                    want = filtered_rank(ents, counts.astype(float), gold, known, 30)
                    assert base.rank(direction, rel, gold, known) == want
    assert base.count(TAIL, 0, int(train[train[:, 1] == 0][0, 2])) > 0


def test_frequency_baseline_ties() -> None:
    # relation 0 tails: entity 1 twice, entities 2 and 3 once each.
    train = np.array([[0, 0, 1], [5, 0, 1], [0, 0, 2], [6, 0, 3]])
    base = FrequencyBaseline(train, num_entities=10)
    assert base.rank(TAIL, 0, gold=1, known=set()) == 1
    assert base.rank(TAIL, 0, gold=3, known=set()) == 2  # one better, one tie: 1 + 1 // 2 + 1
    assert base.rank(TAIL, 0, gold=3, known={1, 2}) == 1
    assert base.rank(TAIL, 0, gold=7, known=set()) == 10


def test_max_triples_takes_a_seeded_sample_in_order_and_none_keeps_all() -> None:
    import numpy as np

    from kg_ml.kgt5.config import GenerationParams
    from kg_ml.kgt5.evaluate import _subset

    triples = np.arange(30).reshape(10, 3)
    assert _subset(triples, None, 0) is triples and _subset(triples, 10, 0) is triples
    picked = _subset(triples, 4, 0)
    assert len(picked) == 4 and np.array_equal(picked, _subset(triples, 4, 0))
    rows = [int(t[0]) // 3 for t in picked]
    assert rows == sorted(rows) and all((triples[r] == t).all() for r, t in zip(rows, picked))
    assert GenerationParams().max_triples is None  # default: every triple, as KGT5
