"""BM25 analysis: lowercase, regex split, stopword removal and stemming, all from params.

Written here rather than with ``bm25s.tokenize`` because that builds its stem vocabulary from a
``set``, whose order changes with PYTHONHASHSEED: the saved index would differ run to run. Here
token ids follow first occurrence, so the same corpus gives the same index bytes.
"""

from __future__ import annotations

import re

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from kg_ml.retrieval.config import TokenizerParams


class Analyzer:
    """Text -> list of index terms, as configured by `TokenizerParams`."""

    def __init__(self, params: TokenizerParams) -> None:
        self.params = params
        self._split = re.compile(params.token_pattern).findall
        if params.stopwords == "english":
            words = STOPWORDS_EN  # Lucene's English stop set, as Pyserini uses
        elif params.stopwords == "none":
            words = ()
        else:
            words = params.stopwords
        self._stopwords = frozenset(w.lower() if params.lower else w for w in words)
        self._stemmer = Stemmer.Stemmer(params.stemmer) if params.stemmer else None
        self._stems: dict[str, str] = {}  # stemming each distinct word once is the big saving

    def _stem(self, words: list[str]) -> list[str]:
        if self._stemmer is None:
            return words
        stems = self._stems
        new = [w for w in dict.fromkeys(words) if w not in stems]
        if new:
            stems.update(zip(new, self._stemmer.stemWords(new)))
        return [stems[w] for w in words]

    def __call__(self, text: str) -> list[str]:
        if self.params.lower:
            text = text.lower()
        words = [w for w in self._split(text) if w not in self._stopwords]
        return self._stem(words)


class Vocabulary:
    """Term -> id in order of first occurrence (deterministic, unlike a set).

    `encode_text` maps raw words straight to term ids through a per-word cache, so indexing pays
    one dict lookup per token instead of stopword check + stem + term lookup.
    """

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self.ids: dict[str, int] = {}
        self._word_ids: dict[str, int] = {}  # surface word -> term id, -1 for a stopword

    def _word_id(self, word: str) -> int:
        a = self.analyzer
        if word in a._stopwords:
            i = -1
        else:
            term = a._stem([word])[0]
            i = self.ids.setdefault(term, len(self.ids))
        self._word_ids[word] = i
        return i

    def encode_text(self, text: str) -> list[int]:
        a = self.analyzer
        words = a._split(text.lower() if a.params.lower else text)
        cache = self._word_ids
        out = []
        for w in words:
            i = cache.get(w)
            if i is None:
                i = self._word_id(w)
            if i >= 0:
                out.append(i)
        return out
