"""DRAGON's concept grounding with dict lookups instead of spaCy's Matcher.

A statement matches a concept where the lemmas of a run of 1..max_len tokens equal the concept's
pattern; spaCy's Matcher with one ``{"LEMMA": ...}`` pattern per concept finds exactly these
(start, end) pairs, but a dict lookup per n-gram does not slow down with 800k patterns.
Everything after matching follows ``preprocess_utils/grounding.py`` of DRAGON step by step
(``ground_mentioned_concepts``, ``hard_ground``, ``prune``), with one deliberate change: ties in
"the 3 shortest candidates of a span" are broken by the concept string, where DRAGON's order
depends on Python's per-process string hashing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from kg_ml.grounding.nlp import Tokens
from kg_ml.grounding.spacy_api import Language
from kg_ml.grounding.vocab import Vocabulary
from kg_ml.grounding.words import GROUNDING_BLACKLIST, NLTK_STOPWORDS

SHORTEST_PER_SPAN = 3


@dataclass(frozen=True, slots=True)
class ExtraSpan:
    """A span that also stands for a lemma sequence (an abbreviation standing for its long form)."""

    start: int
    end: int
    lemmas: tuple[str, ...]


@dataclass
class ConceptMatcher:
    """The DRAGON grounding rules over one vocabulary; results are concept keys (strings)."""

    vocab: Vocabulary
    nlp: Language
    question_stopword_rule: Literal["any", "all"] = "any"
    _lemma_cache: dict[str, str] = field(default_factory=dict, repr=False)

    # -- matching ------------------------------------------------------------------------------

    def spans(self, toks: Tokens, exclude: frozenset[tuple[int, int]] = frozenset(),
              extra: Sequence[ExtraSpan] = ()) -> dict[str, set[str]]:
        """Span text -> candidate concepts: all pattern matches not in ``exclude``, plus, for a
        single-word concept, its lemma form (as DRAGON adds ``lemmatize(concept)``)."""
        patterns, lemmas, n = self.vocab.patterns, toks.lemmas, len(toks)
        found: dict[str, set[str]] = {}

        def add(start: int, end: int, keys: tuple[str, ...]) -> None:
            if (start, end) in exclude:
                return
            cands = found.setdefault(toks.span_text(start, end), set())
            for key in keys:
                cands.add(key)
                if "_" not in key:
                    cands.add(self.lemmatize(key))

        for start in range(n):
            for end in range(start + 1, min(start + self.vocab.max_len, n) + 1):
                if (keys := patterns.get(lemmas[start:end])) is not None:
                    add(start, end, keys)
        for span in extra:
            if (keys := patterns.get(span.lemmas)) is not None:
                add(span.start, span.end, keys)
        return found

    def mentioned(self, toks: Tokens, answer_words: Sequence[str] | None = None,
                  extra: Sequence[ExtraSpan] = ()) -> set[str]:
        """DRAGON's ``ground_mentioned_concepts``; mentions of the answer words are skipped."""
        exclude = frozenset(occurrences(toks.words, answer_words)) if answer_words else frozenset()
        mentioned: set[str] = set()
        for span, cands in self.spans(toks, exclude, extra).items():
            ranked = sorted(cands, key=lambda c: (len(c), c))
            shortest = ranked[:SHORTEST_PER_SPAN]
            for c in shortest:
                if c in GROUNDING_BLACKLIST:
                    continue
                lemma = self.lemmatize(c)  # prefer the lemma form when it is also a candidate
                mentioned.add(lemma if lemma in shortest else c)
            span_lower = span.lower()
            mentioned.update(c for c in ranked if c.replace("_", " ").lower() == span_lower)
        return mentioned

    def hard_ground(self, toks: Tokens) -> set[str]:
        """Fallback: token lemmas that are concepts."""
        return {lemma for lemma in toks.lemmas if lemma in self.vocab}

    def lemmatize(self, concept: str) -> str:
        """DRAGON's ``lemmatize``: ``"_".join`` of the lemmas of ``concept`` with ``_`` as spaces."""
        if (lemma := self.vocab.key_lemma.get(concept)) is not None:
            return lemma
        if (lemma := self._lemma_cache.get(concept)) is None:
            lemma = "_".join(t.lemma_ for t in self.nlp(concept.replace("_", " ")))
            self._lemma_cache[concept] = lemma
        return lemma

    # -- pruning and ids -----------------------------------------------------------------------

    def prune(self, concepts: set[str], stopword_rule: Literal["any", "all"]) -> list[str]:
        """DRAGON's ``prune``: drop ``Xer``/``Xe`` when ``X`` is there too, stopword concepts and
        strings that are not concepts (lemma forms, hard-grounded lemmas)."""
        test = any if stopword_rule == "any" else all
        kept = []
        for c in concepts:
            if (c.endswith("er") and c[:-2] in concepts) or (c.endswith("e") and c[:-1] in concepts):
                continue
            if not test(t in NLTK_STOPWORDS for t in c.split("_")) and c in self.vocab:
                kept.append(c)
        return kept

    def node_ids(self, concepts: Iterable[str]) -> set[int]:
        return {node for c in concepts for node in self.vocab.nodes[c]}

    def ground(self, statement: Tokens, answer: Tokens, answer_words: Sequence[str],
               extra: Sequence[ExtraSpan] = ()) -> tuple[list[int], list[int]]:
        """DRAGON's ``ground_qa_pair`` + ``prune`` + the id step of its subgraph code
        (question ids minus answer ids): sorted (question node ids, answer node ids)."""
        everything = self.mentioned(statement, answer_words, extra)
        answer_concepts = self.mentioned(answer)
        question_concepts = everything - answer_concepts
        if not question_concepts:
            question_concepts = self.hard_ground(statement)
        if not answer_concepts:
            answer_concepts = self.hard_ground(answer)
        q = self.node_ids(self.prune(question_concepts, self.question_stopword_rule))
        a = self.node_ids(self.prune(answer_concepts, "all"))
        return sorted(q - a), sorted(a)

    def ground_answer(self, answer: Tokens) -> list[int]:
        """Concepts of an answer text alone (the answer side of :meth:`ground`)."""
        concepts = self.mentioned(answer) or self.hard_ground(answer)
        return sorted(self.node_ids(self.prune(concepts, "all")))


def occurrences(words: Sequence[str], needle: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) of every occurrence of the token sequence ``needle`` in ``words``."""
    m = len(needle)
    if not m:
        return []
    first, needle = needle[0], tuple(needle)
    return [(i, i + m) for i in range(len(words) - m + 1) if words[i] == first and words[i:i + m] == needle]
