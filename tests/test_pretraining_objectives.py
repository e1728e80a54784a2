"""Whole-word masking and link-prediction targets: the pretraining inputs are what they claim."""

from __future__ import annotations

import torch

from kg_ml.pretraining.links import link_targets
from kg_ml.pretraining.masking import whole_word_mask

MASK, VOCAB = 103, 1000


def _batch():
    # two sequences; word ids -1 at [CLS]/[SEP]/padding; multi-token words (e.g. word 1 = 3 tokens)
    word_ids = torch.tensor([
        [-1, 0, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, -1],
        [-1, 0, 0, 1, 2, 3, 3, 3, 4, 5, 6, 7, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1],
    ])
    ids = torch.arange(word_ids.numel()).view(word_ids.shape) + 2000  # distinct, outside the random range
    return ids, word_ids


def test_whole_words_are_masked_at_the_rate_and_labels_are_the_originals():
    ids, word_ids = _batch()
    out = whole_word_mask(ids, word_ids, mask_token_id=MASK, vocab_size=VOCAB, probability=0.15,
                          generator=torch.Generator().manual_seed(0))
    selected = torch.zeros(ids.numel(), dtype=torch.bool)
    selected[out.positions] = True
    selected = selected.view(ids.shape)
    assert torch.equal(out.labels, ids.view(-1)[out.positions])
    assert torch.all(out.positions[1:] > out.positions[:-1])
    for b, n_words in ((0, 20), (1, 8)):
        words = set(word_ids[b][selected[b]].tolist())
        assert -1 not in words  # never special or padding tokens
        assert len(words) == max(1, round(0.15 * n_words))
        for w in words:  # all tokens of a chosen word, never part of one
            assert torch.equal(selected[b][word_ids[b] == w], torch.ones(int((word_ids[b] == w).sum()), dtype=torch.bool))
    assert torch.equal(out.input_ids[~selected], ids[~selected])
    changed = out.input_ids[selected]
    assert torch.all((changed == MASK) | (changed < VOCAB) | (changed == ids[selected]))


def test_mask_replacement_split_is_80_10_10():
    ids = torch.arange(4000).view(20, 200) + 2000
    word_ids = torch.arange(200).repeat(20, 1)
    kinds = torch.zeros(3)
    for seed in range(10):
        out = whole_word_mask(ids, word_ids, mask_token_id=MASK, vocab_size=VOCAB,
                              generator=torch.Generator().manual_seed(seed))
        new = out.input_ids.view(-1)[out.positions]
        kinds += torch.tensor([(new == MASK).sum(), ((new != MASK) & (new != out.labels)).sum(),
                               (new == out.labels).sum()], dtype=torch.float)
    share = kinds / kinds.sum()
    assert abs(share[0] - 0.8) < 0.03 and abs(share[1] - 0.1) < 0.03 and abs(share[2] - 0.1) < 0.03


def _graph(num_relations=3):
    """Context node 0 -> question nodes 1, 2 and answer node 3; KG edges among 1..5; DRAGON's typing."""
    shift = num_relations + 2
    fwd = [(0, 1, 0), (0, 2, 0), (0, 3, 1),
           (1, 4, 2), (2, 4, 3), (3, 4, 2), (4, 5, 4), (1, 2, 2), (2, 3, 3), (3, 5, 4), (5, 1, 2)]
    src = [s for s, _, _ in fwd] + [d for _, d, _ in fwd]
    dst = [d for _, d, _ in fwd] + [s for s, _, _ in fwd]
    typ = [t for _, _, t in fwd] + [t + shift for _, _, t in fwd]
    node_type = torch.tensor([0, 1, 1, 2, 3, 3])
    return torch.tensor([src, dst]), torch.tensor(typ), node_type, 2 * shift


def test_link_targets_drop_kg_edges_with_their_inverse_and_corrupt_one_end():
    edge_index, edge_type, node_type, n_types = _graph()
    triples = {(int(s), int(t), int(d)) for (s, d), t in zip(edge_index.T, edge_type)}
    kg_triples = {(s, t, d) for s, t, d in triples if 2 <= t < 5}
    seen_positives = 0
    for seed in range(20):
        out = link_targets(edge_index, edge_type, node_type, kg_types=range(2, 5), num_edge_types=n_types,
                           drop_probability=0.4, negatives=16, generator=torch.Generator().manual_seed(seed))
        kept = {(int(s), int(t), int(d)) for (s, d), t in zip(edge_index.T[out.keep], edge_type[out.keep])}
        positives = list(zip(out.head.tolist(), out.relation.tolist(), out.tail.tolist()))
        seen_positives += len(positives)
        assert len(kept) + 2 * len(positives) == len(triples)  # exactly the positives and their twins go
        for h, r, t in positives:
            assert (h, r, t) in kg_triples and (h, r, t) not in kept and (t, r + 5, h) not in kept
        assert all(t < 2 for s, t, d in triples - kept if s == 0)  # context edges are never dropped
        assert {(s, t, d) for s, t, d in triples if t in (0, 1, 5, 6)} <= kept
        for i, (h, r, t) in enumerate(positives):
            for nh, nt, valid in zip(out.neg_head[i].tolist(), out.neg_tail[i].tolist(), out.neg_valid[i].tolist()):
                assert (nh == h) != (nt == t) or (nh, nt) == (h, t)  # one end replaced (maybe by itself)
                assert nh != 0 and nt != 0  # never the context node
                assert valid == ((nh, r, nt) not in kg_triples)  # a true edge is never a negative
    assert seen_positives > 0


def test_link_targets_without_drop_keep_the_graph():
    edge_index, edge_type, node_type, n_types = _graph()
    out = link_targets(edge_index, edge_type, node_type, kg_types=range(2, 5), num_edge_types=n_types,
                       drop_probability=0.0, negatives=4)
    assert bool(out.keep.all()) and out.head.numel() == 0 and out.neg_head.shape == (0, 4)
