"""Late-interaction reranker: scoring, frozen lower stack, save_pretrained round trip, states cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import BertConfig

from kg_ml.retrieval.reranker.data import Collate, Example, candidate_scores
from kg_ml.retrieval.reranker.model import LateInteractionConfig, LateInteractionReranker
from kg_ml.retrieval.reranker.states import TokenStates

TINY = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=3, num_attention_heads=2,
                  intermediate_size=32, max_position_embeddings=64).to_diff_dict()


def _model(trainable_layers: int = 1) -> LateInteractionReranker:
    torch.manual_seed(0)
    return LateInteractionReranker(LateInteractionConfig(encoder=TINY, dim=8, trainable_layers=trainable_layers)).eval()


class _Tok:
    """A stand-in tokenizer: text -> ids of its words (hash mod vocab), padded like HF."""

    def __call__(self, texts, truncation=True, max_length=64):
        return {"input_ids": [[1 + sum(map(ord, w)) % 48 for w in t.split()][:max_length] for t in texts]}

    def pad(self, enc, return_tensors="pt"):
        ids = enc["input_ids"]
        width = max(map(len, ids))
        return {"input_ids": torch.tensor([x + [0] * (width - len(x)) for x in ids]),
                "attention_mask": torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in ids])}


def test_only_the_top_layers_and_projections_train() -> None:
    model = _model(trainable_layers=1)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith(("encoder.encoder.layer.2.", "query_proj", "doc_proj")) for n in trainable)
    assert all(n.startswith(("query_proj", "doc_proj")) for n, p in _model(0).named_parameters() if p.requires_grad)
    with pytest.raises(Exception, match="exceeds"):
        _model(trainable_layers=4)


def test_late_interaction_is_mean_of_max_cosines_and_ignores_padding() -> None:
    q = torch.nn.functional.normalize(torch.tensor([[[1.0, 0.0], [0.0, 1.0], [9.0, 9.0]]]), dim=-1)
    d = torch.tensor([[[[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]]]])  # one candidate, last token padding
    q_mask = torch.tensor([[True, True, False]])
    d_mask = torch.tensor([[[True, True, False]]])
    score = LateInteractionReranker.late_interaction(q, q_mask, d, d_mask)
    assert score.item() == pytest.approx((1.0 + 0.8) / 2)


def test_forward_on_cached_states_equals_token_scoring_and_padding_is_inert() -> None:
    model = _model()
    tok = _Tok()
    queries = ["a b c", "d e"]
    docs = ["a b", "c d e f", "g"]
    q = tok.pad(tok(queries))
    d = tok.pad(tok(docs))
    ids = d["input_ids"][[0, 1, 1, 2]].reshape(2, 2, -1)
    mask = d["attention_mask"][[0, 1, 1, 2]].reshape(2, 2, -1)
    with torch.no_grad():
        direct = model.score_tokens(q["input_ids"], q["attention_mask"], ids, mask)
        collate = Collate(TokenStates.compute(model, tok, queries, max_length=64, batch_size=1),
                          TokenStates.compute(model, tok, docs, max_length=64, batch_size=2), {10: 0, 11: 1, 12: 2})
        batch = collate([Example.unlabelled(0, np.array([10, 11])), Example.unlabelled(1, np.array([11, 12, -1]))])
        cached = candidate_scores(model, batch)
        padded = model.score_tokens(q["input_ids"], q["attention_mask"],
                                    torch.nn.functional.pad(ids, (0, 3)), torch.nn.functional.pad(mask, (0, 3)))
    torch.testing.assert_close(cached, direct, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(padded, direct, rtol=1e-5, atol=1e-6)


def test_states_beyond_the_cache_budget_are_computed_per_batch(monkeypatch) -> None:
    """Above `CACHE_MAX_BYTES` (DPR's ~1M candidates at full size), `for_texts` keeps token ids only
    and runs the frozen stack per gather: the same states (padding zero) and scores as the cache,
    and a model in training mode is left in it."""
    from kg_ml.retrieval.reranker import states as states_mod

    model, tok = _model(), _Tok()
    queries, docs = ["a b c", "d e"], ["a b", "c d e f", "g", "h i j"]
    cached = TokenStates.for_texts(model, tok, docs, max_length=64, batch_size=2)
    assert isinstance(cached, TokenStates)
    monkeypatch.setattr(states_mod, "CACHE_MAX_BYTES", 0)
    lazy = TokenStates.for_texts(model, tok, docs, max_length=64, batch_size=2)
    assert isinstance(lazy, states_mod.LazyTokenStates) and len(lazy) == 4
    for pos in ([1, 0, 3], [2], [3, 3]):
        (a, ma), (b, mb) = cached.gather(pos), lazy.gather(pos)
        assert torch.equal(ma, mb)
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)
    model.train()
    lazy.gather([0, 1])
    assert model.training
    model.eval()
    q = TokenStates.compute(model, tok, queries, max_length=64, batch_size=1)
    batch = [Example.unlabelled(0, np.array([10, 11, 13])), Example.unlabelled(1, np.array([12, 10]))]
    slots = {10: 0, 11: 1, 12: 2, 13: 3}
    with torch.no_grad():
        torch.testing.assert_close(candidate_scores(model, Collate(q, lazy, slots)(batch)),
                                   candidate_scores(model, Collate(q, cached, slots)(batch)), rtol=1e-5, atol=1e-6)


def test_save_pretrained_round_trip(tmp_path) -> None:
    model = _model()
    with torch.no_grad():
        model.query_proj.weight.mul_(3.0)  # make sure trained weights, not a fresh init, come back
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file() and (tmp_path / "config.json").is_file()
    loaded = LateInteractionReranker.from_pretrained(tmp_path).eval()
    assert loaded.config.dim == 8 and loaded.split == 2
    for (n, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        torch.testing.assert_close(a, b, msg=n)
    ids = torch.tensor([[3, 4, 5]])
    m = torch.ones_like(ids)
    with torch.no_grad():
        torch.testing.assert_close(loaded.score_tokens(ids, m, ids[:, None], m[:, None]),
                                   model.score_tokens(ids, m, ids[:, None], m[:, None]))
