"""Span post-processing and the official SQuAD/MRQA normalisation on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest

from kg_ml.qa.baseline import capitalised_runs, first_entity
from kg_ml.qa.postprocess import Span, best_spans, predict_answers, window_spans
from kg_ml.qa.squad import best_over, exact_match, f1_score, normalize_answer, squad_scores

CONTEXT = "Ada Lund was born in Irholm, Ruvavia."
#          0123456789012345678901234567890123456
# tokens: [CLS] q q [SEP] Ada Lund was born in Irholm , Ruvavia . [SEP]
OFFSETS = [None, None, None, None, (0, 3), (4, 8), (9, 12), (13, 17), (18, 20), (21, 27), (27, 28),
           (29, 36), (36, 37), None]


def _logits(**at: float) -> np.ndarray:
    x = np.full(len(OFFSETS), -10.0, dtype=np.float32)
    for k, v in at.items():
        x[int(k[1:])] = v
    return x


def test_best_valid_span_wins() -> None:
    start, end = _logits(t9=5.0, t4=4.0), _logits(t11=5.0, t5=4.5)
    (pred,) = predict_answers([CONTEXT], [0], [OFFSETS], [start], [end], n_best=5, max_answer_length=30)
    assert pred.text == "Irholm, Ruvavia" and pred.score == pytest.approx(10.0) and pred.start == 21


def test_end_before_start_and_non_context_tokens_are_skipped() -> None:
    # Highest logits: start at [CLS] (no offset) and an end before the best start.
    start, end = _logits(t0=9.0, t9=5.0), _logits(t0=9.0, t5=8.0, t9=2.0)
    (pred,) = predict_answers([CONTEXT], [0], [OFFSETS], [start], [end], n_best=5, max_answer_length=30)
    assert pred.text == "Irholm"


def test_max_answer_length_in_tokens() -> None:
    start, end = _logits(t4=5.0, t9=1.0), _logits(t11=5.0, t9=1.0)
    spans = window_spans(start, end, OFFSETS, n_best=5, max_answer_length=3)
    assert all(s.end - s.start <= len("Irholm, Ruvavia") for s in spans)
    (pred,) = predict_answers([CONTEXT], [0], [OFFSETS], [start], [end], n_best=5, max_answer_length=3)
    assert pred.text == "Irholm, Ruvavia"  # 3 tokens: Irholm , Ruvavia; "Ada ... Ruvavia" is 8


def test_n_best_limits_the_pairs_tried() -> None:
    # The only valid pair needs the 3rd best start: with n_best=2 there is no answer.
    start, end = _logits(t0=9.0, t1=8.0, t9=7.0), _logits(t9=1.0)
    assert predict_answers([CONTEXT], [0], [OFFSETS], [start], [end], n_best=2)[0].text == ""
    assert predict_answers([CONTEXT], [0], [OFFSETS], [start], [end], n_best=3)[0].text == "Irholm"


def test_best_over_all_windows_of_an_example() -> None:
    w1 = [None, (0, 3), (4, 8), None]
    w2 = [None, (4, 8), (29, 36), None]
    preds = predict_answers([CONTEXT, "Other text"], [0, 0, 1], [w1, w2, [None, (0, 5), None]],
                            [np.array([0, 1, 0, 0.0]), np.array([0, 0, 3, 0.0]), np.array([0, 2, 0.0])],
                            [np.array([0, 1, 0, 0.0]), np.array([0, 0, 3, 0.0]), np.array([0, 2, 0.0])])
    assert [p.text for p in preds] == ["Ruvavia", "Other"]


def test_ties_prefer_the_earlier_then_shorter_span() -> None:
    spans = [Span(1.0, 10, 20), Span(1.0, 5, 9), Span(1.0, 5, 7), Span(2.0, 30, 31)]
    assert best_spans(spans, 3) == [Span(2.0, 30, 31), Span(1.0, 5, 7), Span(1.0, 5, 9)]


@pytest.mark.parametrize("raw, norm", [
    ("The Broncos", "broncos"),
    ("  the   Denver  Broncos! ", "denver broncos"),
    ("A.B.C.", "abc"),
    ("an apple, a pear and the plum", "apple pear and plum"),
    ("Theatre", "theatre"),  # articles only as whole words
    ("Zürich", "zürich"),  # non-ASCII letters stay, as in the official script
    ("“quoted”", "“quoted”"),  # only ASCII punctuation is removed
])
def test_normalize_answer(raw: str, norm: str) -> None:
    assert normalize_answer(raw) == norm


def test_exact_match_and_f1() -> None:
    assert exact_match("the Broncos.", "Broncos")
    assert not exact_match("Denver Broncos", "Broncos")
    assert f1_score("Denver Broncos", "Broncos") == pytest.approx(2 / 3)
    assert f1_score("x b b", "b b c") == pytest.approx(2 / 3)  # multiset overlap: 2 of 3 each way
    assert f1_score("a b b", "b b c") == pytest.approx(0.8)  # "a" is an article: P 2/2, R 2/3
    assert f1_score("", "Broncos") == 0.0 and f1_score("the", "a") == 0.0
    assert best_over(["Broncos", "Denver Broncos"], "denver broncos") == (1.0, 1.0)
    assert best_over([], "x") == (0.0, 0.0)


def test_squad_scores_in_percent() -> None:
    scores = squad_scores(["Broncos", "Denver", "x"], [["Broncos"], ["Denver Broncos"], ["y"]])
    assert scores["exact_match"] == pytest.approx(100 / 3)
    assert scores["f1"] == pytest.approx(100 * (1 + 2 / 3) / 3)


def test_first_entity_baseline() -> None:
    ctx = "[PAR] [TLE] Finn Castell [SEP] He was born in Halburg.  In 1957, he founded University of Quinport."
    assert capitalised_runs(ctx) == ["Finn Castell", "Halburg", "University of Quinport"]
    assert first_entity(ctx) == "Finn Castell"
    assert first_entity("[PAR] [TLE] [SEP] in 1957 he was born.") == ""
