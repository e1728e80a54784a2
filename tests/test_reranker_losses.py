"""KARD's reranker objectives on hand-made tensors."""

from __future__ import annotations

import math

import pytest
import torch

from kg_ml.retrieval.reranker.losses import best_candidate_ce, label_kl, reranker_loss


def test_cross_entropy_targets_the_best_labelled_candidate() -> None:
    sim = torch.tensor([[0.0, math.log(3.0), 0.0]])
    labels = torch.tensor([[1.0, 9.0, 2.0]])
    mask = torch.ones(1, 3, dtype=torch.bool)
    assert best_candidate_ce(sim, labels, mask).item() == pytest.approx(-math.log(3 / 5))
    # temperature divides the similarities
    assert best_candidate_ce(sim * 2, labels, mask, tau2=2.0).item() == pytest.approx(-math.log(3 / 5))


def test_kl_matches_the_definition_and_vanishes_when_distributions_agree() -> None:
    labels = torch.tensor([[2.0, 0.0, 1.0]])
    sim = torch.tensor([[0.5, 0.1, -0.2]])
    mask = torch.ones(1, 3, dtype=torch.bool)
    p = torch.softmax(labels / 2.0, -1)
    q = torch.softmax(sim / 0.5, -1)
    want = (p * (p.log() - q.log())).sum()
    assert label_kl(sim, labels, mask, tau=2.0, tau2=0.5).item() == pytest.approx(want.item(), rel=1e-6)
    assert label_kl(labels / 4, labels, mask, tau=2.0, tau2=0.5).item() == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("kind", ["ce", "kl"])
def test_padding_candidates_do_not_count(kind: str) -> None:
    sim = torch.tensor([[0.3, -0.1, 0.2, 0.0]])
    labels = torch.tensor([[5.0, 1.0, 3.0, 0.0]])
    full = reranker_loss(kind, sim[:, :3], labels[:, :3], torch.ones(1, 3, dtype=torch.bool), tau=1.0, tau2=0.1)
    padded_sim = torch.cat([sim[:, :3], torch.tensor([[50.0]])], 1)  # junk in the padding slot
    padded_labels = torch.cat([labels[:, :3], torch.tensor([[99.0]])], 1)
    mask = torch.tensor([[True, True, True, False]])
    got = reranker_loss(kind, padded_sim, padded_labels, mask, tau=1.0, tau2=0.1)
    assert got.item() == pytest.approx(full.item(), rel=1e-6)
    padded_sim.requires_grad_(True)
    reranker_loss(kind, padded_sim, padded_labels, mask, tau=1.0, tau2=0.1).backward()
    assert torch.isfinite(padded_sim.grad).all() and padded_sim.grad[0, 3] == 0


def test_batch_mean_and_unknown_kind() -> None:
    sim = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    labels = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    mask = torch.ones(2, 2, dtype=torch.bool)
    each = [best_candidate_ce(sim[i: i + 1], labels[i: i + 1], mask[i: i + 1]).item() for i in range(2)]
    assert best_candidate_ce(sim, labels, mask).item() == pytest.approx(sum(each) / 2)
    with pytest.raises(ValueError, match="unknown reranker loss"):
        reranker_loss("mse", sim, labels, mask, tau=1.0, tau2=1.0)
