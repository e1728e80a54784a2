"""BM25 analysis: lowercase, regex split, stopword removal and stemming, all from params.

Written here rather than with ``bm25s.tokenize`` because that builds its stem vocabulary from a
``set``, whose order changes with PYTHONHASHSEED: the saved index would differ run to run. Here
token ids follow first occurrence, so the same corpus gives the same index bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

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

    def many(self, texts: Iterable[str]) -> Iterator[list[str]]:
        return (self(t) for t in texts)


class Vocabulary:
    """Term -> id in order of first occurrence (deterministic, unlike a set)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def encode(self, terms: list[str]) -> list[int]:
        ids = self.ids
        return [ids.setdefault(t, len(ids)) for t in terms]
