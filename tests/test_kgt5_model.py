"""KGT5 tokenizer and model: training, byte fallback, compositional ids, save/load round trips,
teacher-forced scores and seeded sampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer, T5ForConditionalGeneration

from kg_ml.kgt5.config import T5Size, TokenizerParams
from kg_ml.kgt5.generate import greedy, sample, sequence_log_probs
from kg_ml.kgt5.model import load_t5, new_t5
from kg_ml.kgt5.tokenizer import train_tokenizer
from kg_ml.kgt5.verbalize import HEAD, TAIL, Verbaliser, query_text, verbalised_pairs
from kg_ml.training.rng import seed_all

ENTITIES = ["Ada Lund", "Irholm", "Ruvavia", "Björn Fischer", "A|B Records", "Crown Textiles"]
RELATIONS = ["place of birth", "country", "founded by", "employer"]
TRIPLES = np.array([[0, 0, 1], [1, 1, 2], [5, 2, 3], [3, 3, 4], [0, 3, 5]], dtype=np.int32)
TINY = T5Size(d_model=32, d_ff=64, d_kv=8, num_heads=2, num_layers=1, num_decoder_layers=1, dropout_rate=0.0)


@pytest.fixture(scope="module", params=[("bpe", True), ("unigram", True), ("bpe", False)])
def tokenizer(request, tmp_path_factory):
    kind, split = request.param
    texts = [s for p in verbalised_pairs(TRIPLES, ENTITIES, RELATIONS) for s in p] * 5
    tok = train_tokenizer(texts, TokenizerParams(kind=kind, vocab_size=400, min_frequency=1, split_by_whitespace=split))
    out = tmp_path_factory.mktemp(f"tok_{kind}_{split}")
    tok.save_pretrained(out)
    return AutoTokenizer.from_pretrained(out)


def test_tokenizer_loads_with_auto_and_has_t5_ids(tokenizer) -> None:
    assert tokenizer.is_fast and len(tokenizer) <= 400
    assert (tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (0, 1, 2)
    assert tokenizer("Ada Lund")["input_ids"][-1] == tokenizer.eos_token_id


def test_prefixes_are_single_tokens_and_bytes_cover_unseen_text(tokenizer) -> None:
    for prefix in ("predict tail:", "predict head:", "predict answer:", " | "):
        assert len(tokenizer(prefix, add_special_tokens=False)["input_ids"]) == 1
    text = "Zoë 東京 ☃ Ada"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.unk_token_id not in ids
    assert tokenizer.decode(ids) == text


def test_verbaliser_ids_equal_full_string_tokenisation(tokenizer) -> None:
    verb = Verbaliser(tokenizer, ENTITIES, RELATIONS, max_input_length=64, max_target_length=16)
    for h, r, t in TRIPLES.tolist():
        for direction, given in ((TAIL, h), (HEAD, t)):
            text = query_text(direction, ENTITIES[given], RELATIONS[r])
            assert verb.query(direction, given, r) == tokenizer(text)["input_ids"]
    for i, name in enumerate(ENTITIES):  # names round-trip, "|" included
        assert tokenizer.decode(verb.target(i), skip_special_tokens=True) == name
    assert verb.question("where was [Ada Lund] born")[:1] == tokenizer("predict answer:", add_special_tokens=False)["input_ids"]


def test_verbaliser_truncates_entity_not_relation(tokenizer) -> None:
    verb = Verbaliser(tokenizer, ["word " * 40], ["country"], max_input_length=12, max_target_length=5)
    ids = verb.query(TAIL, 0, 0)
    assert len(ids) == 12 and ids[-1] == tokenizer.eos_token_id
    assert " ".join(tokenizer.decode(ids, skip_special_tokens=True).split()).endswith("| country")
    assert len(verb.target(0)) == 5


def test_t5_save_load_round_trip(tokenizer, tmp_path) -> None:
    seed_all(0)
    model = new_t5(TINY, tokenizer).eval()
    assert model.config.vocab_size == len(tokenizer) and model.config.decoder_start_token_id == tokenizer.pad_token_id
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    loaded, tok = load_t5(tmp_path)
    assert isinstance(loaded, T5ForConditionalGeneration) and tok.get_vocab() == tokenizer.get_vocab()
    x = torch.tensor([tokenizer("predict tail: Ada Lund | country")["input_ids"]])
    y = torch.tensor([tokenizer("Ruvavia")["input_ids"]])
    with torch.no_grad():
        assert torch.equal(model(input_ids=x, labels=y).logits, loaded(input_ids=x, labels=y).logits)
    seed_all(0)
    assert all(torch.equal(a, b) for a, b in zip(new_t5(TINY, tokenizer).state_dict().values(),
                                                   model.state_dict().values()))


def test_scores_are_summed_token_log_probs(tokenizer) -> None:
    seed_all(1)
    model = new_t5(TINY, tokenizer).eval()
    verb = Verbaliser(tokenizer, ENTITIES, RELATIONS, max_input_length=32, max_target_length=8)
    queries = [verb.query(TAIL, 0, 0), verb.query(HEAD, 2, 1)]
    answers = [[verb.target(1), verb.target(3)], [verb.target(5)]]
    got = sequence_log_probs(model, tokenizer, queries, answers, batch_size=1, rows_per_pass=1)
    for q, group, scores in zip(queries, answers, got):
        for a, s in zip(group, scores):
            with torch.no_grad():
                logits = model(input_ids=torch.tensor([q]), labels=torch.tensor([a])).logits[0]
            want = torch.log_softmax(logits, -1)[torch.arange(len(a)), torch.tensor(a)].sum().item()
            assert s == pytest.approx(want, abs=1e-5)


def test_sampling_is_seeded_and_greedy_deterministic(tokenizer) -> None:
    seed_all(2)
    model = new_t5(TINY, tokenizer).eval()
    verb = Verbaliser(tokenizer, ENTITIES, RELATIONS, max_input_length=32, max_target_length=8)
    queries = [verb.query(TAIL, h, r) for h, r, _ in TRIPLES.tolist()]
    kw = dict(num_samples=4, temperature=1.0, top_k=None, batch_size=2, max_new_tokens=6)
    a, b = sample(model, tokenizer, queries, seed=0, **kw), sample(model, tokenizer, queries, seed=0, **kw)
    assert a == b and len(a) == len(queries) and all(len(s) == 4 for s in a)
    g = greedy(model, tokenizer, queries, batch_size=3, max_new_tokens=6)
    assert g == greedy(model, tokenizer, queries, batch_size=5, max_new_tokens=6)


def test_inverse_cdf_draws_follow_the_distribution() -> None:
    """`draw` samples each row's distribution (zero-probability tokens never), and `SampleStep`
    hands greedy decoding a one-hot of the drawn token, within top_k."""
    from kg_ml.kgt5.generate import SampleStep, draw

    torch.manual_seed(0)
    probs = torch.tensor([[0.5, 0.0, 0.3, 0.2], [0.0, 0.0, 0.0, 1.0]]).repeat(20000, 1)
    got = draw(probs).view(20000, 2)
    freq = torch.bincount(got[:, 0], minlength=4).float() / 20000
    assert torch.allclose(freq, torch.tensor([0.5, 0.0, 0.3, 0.2]), atol=0.015) and freq[1] == 0
    assert (got[:, 1] == 3).all()
    scores = torch.tensor([[2.0, 1.0, 0.5, -1.0]]).repeat(5000, 1)
    out = SampleStep(temperature=1.0, top_k=2)(None, scores)
    assert (out.isfinite().sum(-1) == 1).all() and (out.argmax(-1) < 2).all()
    share = (out.argmax(-1) == 0).float().mean()
    assert abs(share - torch.softmax(torch.tensor([2.0, 1.0]), 0)[0]) < 0.03
