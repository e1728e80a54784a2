"""BM25 index: analysis, ranking on a hand-made corpus, save/load, determinism, exact top-k."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kg_ml.retrieval.bm25 import BM25Index
from kg_ml.retrieval.config import BM25Params, TokenizerParams
from kg_ml.retrieval.ranking import NO_DOC, top_k, top_k_row
from kg_ml.retrieval.tokenize import Analyzer, Vocabulary

CORPUS = [
    "Belocarditis presents with chest pain and vomiting.",  # 0
    "Kessler disease presents with frequent urination and insomnia.",  # 1
    "Dapetide is the first-line treatment for Kessler disease.",  # 2
    "The city of Quinport is home to Titan Labs.",  # 3
    "Vomiting, vomiting and more vomiting: a short note.",  # 4
]


def _index(method: str = "lucene", **kw) -> BM25Index:
    return BM25Index.build(CORPUS, TokenizerParams(**kw), BM25Params(method=method))


def test_analyzer_lowercases_drops_stopwords_and_stems() -> None:
    a = Analyzer(TokenizerParams())
    assert a("The Patients were Presenting with coughs") == ["patient", "were", "present", "cough"]
    raw = Analyzer(TokenizerParams(stopwords="none", stemmer=None, lower=False))
    assert raw("The Patients coughs") == ["The", "Patients", "coughs"]
    assert Analyzer(TokenizerParams(stopwords=["cough"], stemmer=None))("a cough, two coughs") == ["two", "coughs"]


def test_vocabulary_ids_follow_first_occurrence_and_match_the_analyzer() -> None:
    a = Analyzer(TokenizerParams())
    vocab = Vocabulary(a)
    ids = [vocab.encode_text(t) for t in CORPUS]
    terms = list(vocab.ids)
    assert [[terms[i] for i in doc] for doc in ids] == [a(t) for t in CORPUS]
    assert ids[0][:2] == [0, 1] and vocab.ids["vomit"] == ids[0][-1]


def test_unknown_stemmer_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="unknown stemmer"):
        TokenizerParams(stemmer="klingon")


def test_ranking_matches_the_lucene_formula() -> None:
    index = _index()
    rows, scores = index.search(["treatment of Kessler disease"], 5)
    assert rows[0, :2].tolist() == [2, 1]  # both mention Kessler disease; only 2 mentions treatment
    assert rows[0, 2:].tolist() == [NO_DOC] * 3  # nothing else matches a query term

    # document 2 by hand: Lucene idf log(1 + (N - df + .5)/(df + .5)), tf part tf/(tf + k1(1 - b + b dl/avgdl))
    docs = [Analyzer(TokenizerParams())(t) for t in CORPUS]
    avgdl = sum(map(len, docs)) / len(docs)
    k1, b = 0.9, 0.4

    def term(t: str, d: list[str]) -> float:
        df = sum(t in x for x in docs)
        tf = d.count(t)
        return math.log(1 + (len(docs) - df + 0.5) / (df + 0.5)) * tf / (tf + k1 * (1 - b + b * len(d) / avgdl))

    expected = sum(term(t, docs[2]) for t in ("treatment", "kessler", "diseas"))
    assert scores[0, 0] == pytest.approx(expected, rel=1e-5)


def test_repeated_term_frequency_and_empty_queries() -> None:
    index = _index()
    rows, scores = index.search(["vomiting", "", "zzz unknown words"], 3)
    assert rows[0, 0] == 4 and rows[0, 1] == 0 and scores[0, 0] > scores[0, 1]  # tf 3 beats tf 1
    assert (rows[1] == NO_DOC).all() and (rows[2] == NO_DOC).all()
    assert np.isneginf(scores[1]).all()


def test_save_load_mmap_round_trip_and_byte_identical_rebuild(tmp_path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        out.mkdir()
        _index().save(out)
    for f in sorted(a.iterdir()):
        assert f.read_bytes() == (b / f.name).read_bytes(), f.name
    loaded = BM25Index.load(a, mmap=True)
    assert isinstance(loaded.bm25.scores["data"], np.memmap)
    queries = ["chest pain", "Titan Labs in Quinport", "kessler"]
    for got, want in zip(loaded.search(queries, 4), _index().search(queries, 4)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("method", ["robertson", "bm25+", "bm25l", "atire"])
def test_other_variants_only_return_matching_documents(method: str) -> None:
    rows, _ = _index(method).search(["insomnia"], 5)
    assert rows[0, 0] == 1 and (rows[0, 1:] == NO_DOC).all()


def test_top_k_breaks_ties_by_lower_index_exactly_at_the_cut() -> None:
    scores = np.array([1.0, 3.0, 2.0, 3.0, 2.0, 2.0, 0.0])
    assert top_k_row(scores, 4).tolist() == [1, 3, 2, 4]
    assert top_k_row(scores, 10, min_score=1.0).tolist() == [1, 3, 2, 4, 5]
    rows, vals = top_k(np.array([[0.0, 0.0], [1.0, 2.0]]), 2, min_score=0.0)
    assert rows.tolist() == [[NO_DOC, NO_DOC], [1, 0]] and vals[1].tolist() == [2.0, 1.0]
