"""Subgraph extraction (kg_ml.graphs.extract) and relevance scores on hand-made graphs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from kg_ml.graphs.extract import (
    ANSWER,
    CONTEXT,
    OTHER,
    QUESTION,
    SubgraphExtractor,
    extract_subgraph,
    extract_subgraphs,
    num_edge_types,
)
from kg_ml.graphs.relevance import CosineRelevance
from kg_ml.kg import KnowledgeGraph

R = 17  # ConceptNet's merged relations


def make_kg(num_nodes: int, edges: list[tuple[int, int, int]], num_relations: int = R) -> KnowledgeGraph:
    h, r, t = (np.array(c, dtype) for c, dtype in zip(zip(*edges), (np.int32, np.int16, np.int32))) if edges \
        else (np.empty(0, np.int32), np.empty(0, np.int16), np.empty(0, np.int32))
    return KnowledgeGraph(names=[f"n{i}" for i in range(num_nodes)], texts=[f"n {i}" for i in range(num_nodes)],
                          relation_names=[f"r{i}" for i in range(num_relations)], head=h, relation=r, tail=t,
                          weight=np.ones(len(h), np.float32))


# a=0 (question), b=1 (answer); c=2 and d=3 are common neighbours (d with mixed directions);
# e=4 touches only a; hub=6 touches everything; 7 is isolated; 8 touches only e.
EDGES = [(0, 0, 2), (0, 3, 2), (1, 1, 2), (0, 2, 3), (3, 0, 1), (4, 0, 0), (0, 1, 1), (2, 3, 3),
         (6, 14, 0), (6, 14, 1), (6, 14, 2), (6, 14, 3), (6, 14, 4), (6, 14, 5), (6, 14, 8), (8, 5, 4)]


def by_score(scores: dict[int, float]):
    """A ScoreFn from a node -> score dict (missing nodes 0, the context node 9)."""
    return lambda ids: np.array([9.0 if i < 0 else scores.get(int(i), 0.0) for i in ids], np.float32)


def brute_force(kg: KnowledgeGraph, q: list[int], a: list[int]) -> set[int]:
    """QA-GNN's node set: grounded ∪ common neighbours of every pair of grounded nodes."""
    nbrs: dict[int, set[int]] = {i: set() for i in range(kg.num_nodes)}
    for h, t in zip(kg.head.tolist(), kg.tail.tolist()):
        if h != t:
            nbrs[h].add(t)
            nbrs[t].add(h)
    grounded = set(q) | set(a)
    extra = set()
    for u, v in itertools.permutations(grounded, 2):
        extra |= nbrs[u] & nbrs[v]
    return grounded | extra


def expected_edges(kg: KnowledgeGraph, node_ids: np.ndarray, node_types: np.ndarray) -> list[tuple[int, int, int]]:
    """Forward edges in the documented order: context edges, then KG edges by (src, dst, type)."""
    pos = {int(n): i for i, n in enumerate(node_ids) if n >= 0}
    ctx = [(0, i, 0 if t == QUESTION else 1) for i, t in enumerate(node_types) if t in (QUESTION, ANSWER)]
    kg_edges = sorted((pos[h], pos[t], r + 2) for h, r, t in zip(kg.head.tolist(), kg.relation.tolist(),
                                                                   kg.tail.tolist()) if h in pos and t in pos)
    return ctx + kg_edges


def edges_of(g) -> list[tuple[int, int, int]]:
    return list(zip(g.edge_src.tolist(), g.edge_dst.tolist(), g.edge_type.tolist()))


def test_common_neighbours_order_types_and_edges() -> None:
    kg = make_kg(9, EDGES)
    g = extract_subgraph(kg, [0], [1], by_score({6: 0.5, 2: 0.9, 3: 0.1}))
    assert g.node_ids.tolist() == [-1, 0, 1, 2, 6, 3]  # context, question, answer, extras by score
    assert g.node_types.tolist() == [CONTEXT, QUESTION, ANSWER, OTHER, OTHER, OTHER]
    assert g.node_scores.tolist() == pytest.approx([9.0, 0.0, 0.0, 0.9, 0.5, 0.1])
    assert g.node_ids.dtype == np.int32 and g.node_types.dtype == np.int8 and g.node_scores.dtype == np.float32
    forward = expected_edges(kg, g.node_ids, g.node_types)
    inverse = [(d, s, t + R + 2) for s, d, t in forward]
    assert edges_of(g) == forward + inverse
    assert (1, 3, 2 + 0) in forward and (1, 3, 2 + 3) in forward  # 0 -> 2 in two relations: both kept
    assert (g.edge_src.dtype, g.edge_dst.dtype, g.edge_type.dtype) == (np.int32, np.int32, np.int16)
    assert not g.truncated and g.num_candidates == 6


def test_edge_type_numbering_is_dragons_38() -> None:
    assert num_edge_types(17) == 38
    kg = make_kg(9, EDGES)
    g = extract_subgraph(kg, [0, 4], [1], by_score({}))
    types = g.edge_type.tolist()
    half = len(types) // 2
    assert set(types[:half]) <= set(range(19)) and set(types[half:]) <= set(range(19, 38))
    assert types[half:] == [t + 19 for t in types[:half]]
    assert types.count(0) == 2 and types.count(1) == 1  # context -> each question / answer node


def test_ties_break_by_id_and_cut_counts_the_context_node() -> None:
    kg = make_kg(9, EDGES)
    g = extract_subgraph(kg, [0], [1], by_score({2: 0.5, 3: 0.5, 6: 0.5}), max_nodes=5)
    assert g.node_ids.tolist() == [-1, 0, 1, 2, 3]
    assert g.truncated and g.num_candidates == 6
    assert all(max(s, d) < 5 for s, d, _ in edges_of(g))
    # DRAGON's cut is positional: grounded nodes beyond max_nodes go too, answer concepts included
    g = extract_subgraph(kg, [0, 2], [1], by_score({}), max_nodes=2)
    assert g.node_ids.tolist() == [-1, 0] and g.node_types.tolist() == [CONTEXT, QUESTION]
    assert edges_of(g) == [(0, 1, 0), (1, 0, 19)]


def test_node_in_question_and_answer_is_an_answer_node() -> None:
    g = extract_subgraph(make_kg(9, EDGES), [0, 1, 1], [1], by_score({}))
    assert g.node_ids.tolist()[:3] == [-1, 0, 1]
    assert g.node_types.tolist()[:3] == [CONTEXT, QUESTION, ANSWER]


def test_disconnected_and_empty_groundings() -> None:
    kg = make_kg(9, EDGES)
    g = extract_subgraph(kg, [7], [5], by_score({}))  # isolated 7; 5 only touches the hub
    assert g.node_ids.tolist() == [-1, 7, 5]
    assert edges_of(g) == [(0, 1, 0), (0, 2, 1), (1, 0, 19), (2, 0, 20)]
    g = extract_subgraph(kg, [], [], by_score({}))
    assert g.node_ids.tolist() == [-1] and g.node_types.tolist() == [CONTEXT] and g.num_edges == 0
    g = extract_subgraph(make_kg(3, []), [0, 1], [2], by_score({}))  # a graph without edges
    assert g.node_ids.tolist() == [-1, 0, 1, 2] and g.num_edges == 6


def test_neighbour_fill_spends_spare_slots_after_common_neighbours() -> None:
    kg = make_kg(9, EDGES)
    scores = by_score({4: 0.99, 5: 0.3, 8: 0.2, 2: 0.1, 3: 0.05, 6: 0.01})
    plain = extract_subgraph(kg, [0], [1], scores)
    assert plain.node_ids.tolist() == [-1, 0, 1, 2, 3, 6]
    filled = extract_subgraph(kg, [0], [1], scores, neighbour_fill=True)
    assert filled.node_ids.tolist() == [-1, 0, 1, 2, 3, 6, 4]  # 4 touches a only; 5 and 8 touch no grounded node
    cut = extract_subgraph(kg, [0], [1], scores, max_nodes=6, neighbour_fill=True)
    assert cut.node_ids.tolist() == plain.node_ids.tolist() and cut.truncated


def test_matches_brute_force_on_random_graphs_whatever_the_hub_threshold() -> None:
    rng = np.random.default_rng(7)
    for trial in range(5):
        n = 40
        heads = rng.zipf(1.6, 150) % n  # a few hubs
        tails = rng.integers(0, n, 150)
        edges = sorted({(int(h), int(rng.integers(0, 4)), int(t)) for h, t in zip(heads, tails) if h != t})
        kg = make_kg(n, edges, num_relations=4)
        score = rng.random(n).astype(np.float32)
        fn = by_score(dict(enumerate(score.tolist())))
        groundings = [(rng.choice(n, rng.integers(0, 6), replace=False).tolist(),
                       rng.choice(n, rng.integers(0, 3), replace=False).tolist()) for _ in range(20)]
        outputs = []
        for hub_factor in (0, 1, 10**9):
            extractor = SubgraphExtractor(kg, max_nodes=10**6, hub_factor=hub_factor)
            graphs = extractor.extract_batch(groundings, [fn] * len(groundings))
            outputs.append([(g.node_ids.tobytes(), g.edge_src.tobytes(), g.edge_dst.tobytes(),
                             g.edge_type.tobytes()) for g in graphs])
            for (q, a), g in zip(groundings, graphs):
                assert set(g.node_ids[1:].tolist()) == brute_force(kg, q, a), (trial, q, a)
                half = g.num_edges // 2
                assert edges_of(g)[:half] == expected_edges(kg, g.node_ids, g.node_types)
        assert outputs[0] == outputs[1] == outputs[2]


def test_deterministic_and_independent_of_batching() -> None:
    kg = make_kg(9, EDGES)
    fn = by_score({2: 0.3, 3: 0.3, 6: 0.7, 4: 0.2})
    groundings = [([0], [1]), ([4, 2], [3]), ([], []), ([7], [8])]
    together = extract_subgraphs(kg, groundings, [fn] * 4, chunk_size=3)
    alone = [extract_subgraph(kg, q, a, fn) for q, a in groundings]
    for x, y in zip(together, alone):
        for field in ("node_ids", "node_types", "node_scores", "edge_src", "edge_dst", "edge_type"):
            assert np.array_equal(getattr(x, field), getattr(y, field))


def test_bad_ids_and_score_shapes_fail_clearly() -> None:
    kg = make_kg(9, EDGES)
    with pytest.raises(ValueError, match="node id 9 out of range"):
        extract_subgraph(kg, [9], [], by_score({}))
    with pytest.raises(ValueError, match="score function returned shape"):
        extract_subgraph(kg, [0], [1], lambda ids: np.zeros(1, np.float32))
    with pytest.raises(ValueError, match="max_nodes"):
        SubgraphExtractor(kg, max_nodes=0)


def test_nan_scores_rank_last() -> None:
    kg = make_kg(9, EDGES)
    g = extract_subgraph(kg, [0], [1], lambda ids: np.where(np.asarray(ids) == 2, np.nan, 0.5).astype(np.float32))
    assert g.node_ids.tolist() == [-1, 0, 1, 3, 6, 2]


def test_cosine_relevance() -> None:
    vectors = np.array([[1, 0], [0, 1], [0.6, 0.8]], np.float32)
    rel = CosineRelevance(vectors.astype(np.float16))
    fn = rel.for_vectors(np.array([[0.6, 0.8]], np.float32))[0]
    assert fn(np.array([-1, 0, 1, 2])).tolist() == pytest.approx([1.0, 0.6, 0.8, 1.0], abs=1e-3)
    with pytest.raises(ValueError, match="statement vectors"):
        rel.for_vectors(np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match="needs an encoder"):
        rel.for_texts(["a statement"])
