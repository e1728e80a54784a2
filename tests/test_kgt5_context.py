"""KGT5-context: neighbourhood order, the training-time exclusion of the asked edge, the token
budget, KGQA topic context, and the setting travelling with the saved model."""

from __future__ import annotations

import numpy as np
import pytest
from transformers import AutoTokenizer

from kg_ml.kgt5.config import T5Size, TokenizerParams
from kg_ml.kgt5.context import Neighbourhood, model_verbaliser
from kg_ml.kgt5.kg import KnowledgeGraph
from kg_ml.kgt5.model import context_neighbours, load_t5, new_t5
from kg_ml.kgt5.tokenizer import KGT5_TOKENS, train_tokenizer
from kg_ml.kgt5.verbalize import HEAD, IN_EDGE, OUT_EDGE, TAIL, Verbaliser, verbalised_pairs

ENTITIES = ["Ada Lund", "Irholm", "Ruvavia", "Nils Lund", "Crown Textiles"]
RELATIONS = ["place of birth", "country", "spouse", "employer"]
# Ada: born in Irholm, married to Nils (both directions), works at Crown Textiles; Irholm is in Ruvavia.
TRIPLES = np.array([[0, 0, 1], [1, 1, 2], [0, 2, 3], [3, 2, 0], [0, 3, 4], [3, 0, 1]], dtype=np.int32)
TINY = T5Size(d_model=32, d_ff=64, d_kv=8, num_heads=2, num_layers=1, num_decoder_layers=1, dropout_rate=0.0)


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    texts = [s for p in verbalised_pairs(TRIPLES, ENTITIES, RELATIONS) for s in p] * 5
    tok = train_tokenizer(texts, TokenizerParams(vocab_size=400, min_frequency=1), added=KGT5_TOKENS)
    out = tmp_path_factory.mktemp("tok")
    tok.save_pretrained(out)
    return AutoTokenizer.from_pretrained(out)


def _edges(hood: Neighbourhood, entity: int, limit: int = 100, exclude=None) -> list[tuple[int, int, bool]]:
    return hood.edges(entity, limit, exclude)


def test_neighbourhood_lists_outgoing_then_incoming_edges() -> None:
    hood = Neighbourhood.build(TRIPLES, len(ENTITIES))
    ada = _edges(hood, 0)
    assert sorted(ada[:3]) == [(0, 1, False), (2, 3, False), (3, 4, False)]
    assert ada[3:] == [(2, 3, True)]
    assert sorted(_edges(hood, 1)) == [(0, 0, True), (0, 3, True), (1, 2, False)]
    assert _edges(hood, 1)[0] == (1, 2, False)
    assert _edges(hood, 2) == [(1, 1, True)]
    assert len(_edges(hood, 0, limit=2)) == 2
    # the order is a fixed function of the edges, not of the triple order
    again = Neighbourhood.build(TRIPLES[::-1].copy(), len(ENTITIES))
    assert all(_edges(again, e) == _edges(hood, e) for e in range(len(ENTITIES)))


def test_exclusion_drops_only_the_asked_edge() -> None:
    hood = Neighbourhood.build(TRIPLES, len(ENTITIES))
    assert (2, 3, False) not in _edges(hood, 0, exclude=(2, 3, False))
    assert (2, 3, True) in _edges(hood, 0, exclude=(2, 3, False))  # the inverse stays: it is evidence
    assert len(_edges(hood, 0, exclude=(2, 3, False))) == len(_edges(hood, 0)) - 1


def test_hub_edges_equal_a_full_scan() -> None:
    # entity 0 has 60 edges (some duplicated); reads come in chunks of limit + 1
    rng = np.random.default_rng(0)
    hub = np.stack([np.zeros(60, np.int32), rng.integers(0, 3, 60), rng.integers(1, 9, 60)], 1).astype(np.int32)
    hub = np.concatenate([hub, hub[:10]])
    hood = Neighbourhood.build(hub, 9)
    full = _edges(hood, 0, limit=10_000)
    assert len(full) == 70
    for limit in (1, 3, 7, 69, 70, 100):
        for exclude in (None, full[0], full[limit - 1] if limit <= 70 else full[-1]):
            want = [e for e in full if e != exclude][:limit]
            assert _edges(hood, 0, limit, exclude) == want


def test_edge_marks_are_single_tokens(tokenizer) -> None:
    for mark in (OUT_EDGE, IN_EDGE):
        assert len(tokenizer(mark, add_special_tokens=False)["input_ids"]) == 1


def test_training_pairs_never_show_their_answer_edge(tokenizer) -> None:
    hood = Neighbourhood.build(TRIPLES, len(ENTITIES))
    verb = Verbaliser(tokenizer, ENTITIES, RELATIONS, max_input_length=128, max_target_length=16,
                      neighbourhood=hood, max_neighbours=10)
    x, _ = verb.triple_pair(TRIPLES[4], TAIL)  # Ada employer -> Crown Textiles
    text = tokenizer.decode(x, skip_special_tokens=True)
    assert "Crown Textiles" not in text and "Irholm" in text and "Nils Lund" in text
    x, _ = verb.triple_pair(TRIPLES[1], HEAD)  # ? country Ruvavia -> Irholm: Ruvavia's only edge is excluded
    plain = Verbaliser(tokenizer, ENTITIES, RELATIONS, max_input_length=128, max_target_length=16)
    assert x == plain.query(HEAD, 2, 1) and "Irholm" in tokenizer.decode(verb.query(HEAD, 2, 1))
    # at evaluation the query reads every edge
    assert "Crown Textiles" in tokenizer.decode(verb.query(TAIL, 0, 3), skip_special_tokens=True)


def test_context_keeps_whole_edges_within_the_length(tokenizer) -> None:
    hood = Neighbourhood.build(TRIPLES, len(ENTITIES))
    plain = Verbaliser(tokenizer, ENTITIES, RELATIONS, max_input_length=128, max_target_length=16)
    full = Verbaliser(tokenizer, ENTITIES, RELATIONS, max_input_length=128, max_target_length=16,
                      neighbourhood=hood, max_neighbours=10)
    base, ctx = plain.query(TAIL, 0, 1), full.query(TAIL, 0, 1)
    assert ctx[:len(base) - 1] == base[:-1] and len(ctx) > len(base)
    marks = {full.edge_mark[False][0], full.edge_mark[True][0]}
    for limit in range(len(base), len(ctx) + 1):
        cut = Verbaliser(tokenizer, ENTITIES, RELATIONS, max_input_length=limit, max_target_length=16,
                         neighbourhood=hood, max_neighbours=10).query(TAIL, 0, 1)
        assert len(cut) <= limit and cut[-1] == tokenizer.eos_token_id
        assert cut[:-1] == ctx[:len(cut) - 1]  # a prefix of the full context ...
        assert len(cut) == len(ctx) or ctx[len(cut) - 1] in marks  # ... cut before an edge mark
    assert Verbaliser(tokenizer, ENTITIES, RELATIONS, max_input_length=128, max_target_length=16,
                      neighbourhood=hood, max_neighbours=0).query(TAIL, 0, 1) == base


def test_question_reads_the_topic_entity_edges(tokenizer) -> None:
    hood = Neighbourhood.build(TRIPLES, len(ENTITIES))
    verb = Verbaliser(tokenizer, ENTITIES, RELATIONS, max_input_length=128, max_target_length=16,
                      neighbourhood=hood, max_neighbours=10)
    with_topic = tokenizer.decode(verb.question("who is [Ada Lund] married to", topic=0), skip_special_tokens=True)
    assert "Nils Lund" in with_topic and "Crown Textiles" in with_topic
    assert "Nils Lund" not in tokenizer.decode(verb.question("who is [Ada Lund] married to"), skip_special_tokens=True)


def test_saved_model_carries_its_context_setting(tokenizer, tmp_path) -> None:
    model = new_t5(TINY, tokenizer, context_neighbours=7)
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded, tok = load_t5(tmp_path)
    assert context_neighbours(loaded) == 7 and context_neighbours(new_t5(TINY, tokenizer)) == 0
    kg = KnowledgeGraph([f"Q{i}" for i in range(len(ENTITIES))], ENTITIES, ENTITIES,
                        [f"P{i}" for i in range(len(RELATIONS))], RELATIONS, {"train": TRIPLES})
    verb = model_verbaliser(loaded, tok, kg, max_input_length=128, max_target_length=16)
    assert verb.max_neighbours == 7 and verb.neighbourhood is not None
    assert "Crown Textiles" in tok.decode(verb.query(TAIL, 0, 1), skip_special_tokens=True)


def test_tokenizer_without_edge_marks_is_refused(tokenizer) -> None:
    hood = Neighbourhood.build(TRIPLES, len(ENTITIES))

    class Old:  # a tokenizer from before the marks existed splits them into pieces
        def __init__(self, inner):
            self.inner, self.eos_token_id = inner, inner.eos_token_id

        def __call__(self, text, **kw):
            return {"input_ids": [5, 6]} if text in (OUT_EDGE, IN_EDGE) else self.inner(text, **kw)

    with pytest.raises(ValueError, match="retrain it"):
        Verbaliser(Old(tokenizer), ENTITIES, RELATIONS, max_input_length=64, max_target_length=8, neighbourhood=hood,
                   max_neighbours=3)
