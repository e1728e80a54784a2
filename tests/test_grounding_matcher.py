"""The dict-lookup matcher against a spaCy-Matcher implementation of DRAGON, and DRAGON's rules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kg_ml.grounding.ground import Grounder
from kg_ml.grounding.nlp import make_nlp
from kg_ml.grounding.vocab import Vocabulary, vocab_table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from _grounding_reference import ReferenceGrounder

CONCEPTS = [
    "ice_cream", "ice", "cream", "eat", "eating", "child", "children", "run", "runner", "running",
    "cat", "cats", "dog", "hot_dog", "my_dog", "it", "of_the", "want", "one", "something", "x-ray",
    "müller", "café", "new_york", "new_york_city", "new", "york", "city", "capital", "born", "bear",
    "make", "doctor", "hospital", "go_to_hospital", "go", "to_go", "baker", "bake", "use", "user",
    "a_lot_of_money", "lot", "money", "shortness_of_breath", "breath", "buy", "buy_ice_cream",
    "he_is", "the_dog", "dog_it", "wash_dishes", "dish", "dishes", "fast", "faster", "quick",
]
TEXTS = [
    ("The children were eating ice cream in New York City.", "ice cream"),
    ("My dog runs faster than the cats of the baker.", "cats"),
    ("He went to the hospital to get an X-ray from the doctor.", "doctor"),
    ("Herr Müller owns a café near the capital.", "a café"),
    ("Where was she born?", "New York"),
    ("", "money"),
    ("Who wants something? Everyone wants one.", "zebra crossing"),
    ("Washing dishes takes a lot of money, he said; shortness of breath too!", "wash dishes"),
    ("She bakes; the baker bakes faster.", "bake"),
    ("  Double  spaces and\ttabs, — dashes — and ünïcödé…  ", "ice"),
]


@pytest.fixture(scope="module")
def nlp():
    return make_nlp()


def _vocab(nlp, names) -> Vocabulary:
    return Vocabulary.from_table(vocab_table([(n, i) for i, n in enumerate(names)], nlp))


@pytest.fixture(scope="module")
def vocab(nlp) -> Vocabulary:
    return _vocab(nlp, CONCEPTS)


def _names(vocab_names, ids) -> set[str]:
    return {vocab_names[i] for i in ids}


@pytest.mark.parametrize("rule", ["any", "all"])
def test_matcher_equals_spacy_matcher_reference(nlp, vocab, rule) -> None:
    ours = Grounder(vocab, nlp=nlp, question_stopword_rule=rule).ground_pairs(
        [f"{q} {a}" for q, a in TEXTS], [a for _, a in TEXTS])
    reference = ReferenceGrounder(nlp, vocab.nodes, question_stopword_rule=rule)
    expected = [reference.ground_qa_pair(f"{q} {a}", a) for q, a in TEXTS]
    assert [tuple(o) for o in ours] == expected
    assert sum(bool(q) for q, _ in ours) >= 8  # the texts do ground: the comparison is not vacuous


def test_lemma_patterns_match_inflections_and_multiword(nlp, vocab) -> None:
    (qc, ac), = Grounder(vocab, nlp=nlp).ground_pairs(["The children were eating ice cream. cats"], ["cats"])
    names = _names(CONCEPTS, qc)
    assert {"child", "ice_cream", "eat"} <= names
    # both share the pattern "cat": the lemma form wins the shortest slots, the exact span text is added
    assert _names(CONCEPTS, ac) == {"cat", "cats"}


def test_pronoun_and_stopword_concepts_get_no_pattern(nlp, vocab) -> None:
    patterns = {"_".join(k) for k in vocab.patterns}
    for skipped in ("my_dog", "it", "of_the", "he_is", "dog_it", "want", "one", "something"):
        assert skipped not in vocab.key_lemma, skipped
    assert "the_dog" in vocab.key_lemma  # only *all*-stopword concepts are skipped
    assert "hot_dog" in patterns


def test_up_to_three_shortest_candidates_per_span(nlp) -> None:
    # Five concepts share the pattern ("wash", "dish"); none is the lemma form "wash_dish".
    names = ["wash_dishes", "washes_dish", "washed_dish", "washed_dishes", "washing_dishes"]
    g = Grounder(_vocab(nlp, names), nlp=nlp)
    # shortest 3 by (length, string); the others are dropped
    assert g.matcher.mentioned(_toks(g, "he washes dishes")) == {"wash_dishes", "washed_dish", "washes_dish"}
    # a concept spelled exactly like the span is kept whatever its length
    assert "washing_dishes" in g.matcher.mentioned(_toks(g, "washing dishes"))
    # single-word candidates collapse onto their lemma form when it is among the shortest
    g = Grounder(_vocab(nlp, ["run", "runs", "ran", "runned"]), nlp=nlp)
    assert g.matcher.mentioned(_toks(g, "runs")) == {"run", "runs"}


def _toks(g: Grounder, text: str):
    return g._tokens([text])[0]


def test_answer_concepts_are_removed_from_question_concepts(nlp, vocab) -> None:
    (qc, ac), = Grounder(vocab, nlp=nlp).ground_pairs(["The dog chased the cat. cat"], ["cat"])
    assert _names(CONCEPTS, ac) == {"cat"}
    assert "cat" not in _names(CONCEPTS, qc) and "dog" in _names(CONCEPTS, qc)


def test_hard_ground_fallback_on_token_lemmas(nlp) -> None:
    # "want" is DRAGON-blacklisted (no pattern), so nothing matches; the fallback finds its lemma.
    vocab = _vocab(nlp, ["want", "zebra"])
    (qc, ac), = Grounder(vocab, nlp=nlp).ground_pairs(["They wanted it badly"], ["zebras"])
    assert qc == [0] and ac == [1]


def test_prune_drops_er_and_e_variants_and_stopword_concepts(nlp) -> None:
    vocab = _vocab(nlp, ["play", "player", "cut", "cute", "shortness_of_breath", "breath"])
    g = Grounder(vocab, nlp=nlp)
    assert sorted(g.matcher.prune({"play", "player", "cut", "cute"}, "any")) == ["cut", "play"]
    assert g.matcher.prune({"shortness_of_breath", "breath"}, "any") == ["breath"]
    assert sorted(g.matcher.prune({"shortness_of_breath", "breath"}, "all")) == ["breath", "shortness_of_breath"]
    assert g.matcher.prune({"notaconcept"}, "any") == []


def test_empty_question_and_answer_without_concepts(nlp, vocab) -> None:
    g = Grounder(vocab, nlp=nlp)
    assert g.ground_pairs([""], [""]) == [([], [])]
    (qc, ac), = g.ground_pairs(["The doctor ate ice cream. zebra crossing"], ["zebra crossing"])
    assert ac == [] and {"doctor", "ice_cream"} <= _names(CONCEPTS, qc)
    assert g.ground_answers(["", "qwxz"]) == [[], []]


def test_punctuation_and_non_ascii_concepts(nlp, vocab) -> None:
    (qc, _), = Grounder(vocab, nlp=nlp).ground_pairs(["Müller took an x-ray at the café."], [""])
    assert {"müller", "x-ray", "café"} <= _names(CONCEPTS, qc)


def test_medical_aliases_and_abbreviations(nlp) -> None:
    pytest.importorskip("scispacy")
    # node 0 has two aliases; "mi" alone is also an alias of node 1 (ambiguous abbreviation)
    entries = [("myocardial_infarction", 0), ("heart_attack", 0), ("aspirin", 2), ("mi", 1)]
    vocab = Vocabulary.from_table(vocab_table(entries, nlp))
    text = "A man with myocardial infarction (MI) got aspirin. MI recurred. aspirin"
    plain = Grounder(vocab, nlp=nlp, question_stopword_rule="all").ground_pairs([text], ["aspirin"])
    expanded = Grounder(vocab, nlp=nlp, question_stopword_rule="all", abbreviations=True).ground_pairs(
        [text], ["aspirin"])
    assert plain == [([0, 1], [2])] and expanded == [([0, 1], [2])]
    # without the definition in the text, "MI" stays the ambiguous alias
    (qc, _), = Grounder(vocab, nlp=nlp, abbreviations=True).ground_pairs(["He had an MI."], [""])
    assert qc == [1]
    # an abbreviation defined in the text grounds its long form even where only the short form occurs
    vocab2 = Vocabulary.from_table(vocab_table([("chronic_kidney_disease", 0), ("ckd_stage", 1)], nlp))
    g = Grounder(vocab2, nlp=nlp, abbreviations=True)
    assert g.ground_pairs(["Patients with chronic kidney disease (CKD). CKD worsens."], [""]) == [([0], [])]
    assert g.matcher.spans(_toks(g, "ckd worsens")) == {}


def test_abbreviation_short_form_alone_grounds_long_form(nlp) -> None:
    pytest.importorskip("scispacy")
    vocab = Vocabulary.from_table(vocab_table([("chronic_kidney_disease", 0)], nlp))
    g = Grounder(vocab, nlp=nlp, abbreviations=True)
    text = "Chronic kidney disease (CKD) is common. CKD worsens."
    toks = _toks(g, text)
    spans = g._abbreviation_spans([text], [toks])[0]
    assert [toks.span_text(s.start, s.end) for s in spans] == ["ckd", "ckd"]
    assert g.matcher.spans(toks, extra=spans)["ckd"] == {"chronic_kidney_disease"}


def test_grounding_imports_spacy_without_torch() -> None:
    """thinc would import torch (~1 s per grounding process); grounding's spaCy runs without it,
    and torch still imports normally afterwards."""
    code = ("import sys, kg_ml.grounding.nlp as n, thinc.compat as c; loaded = 'torch' in sys.modules; "
            "import torch; print(loaded, c.has_torch, [t.lemma_ for t in n.make_nlp()('cats were running')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == ["False", "False"] and "".join(out[2:]) == "['cat','be','run']"
