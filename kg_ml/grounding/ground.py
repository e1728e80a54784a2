"""Batched grounding of (statement, answer) pairs: spaCy in batches, then the DRAGON rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from kg_ml.grounding.abbreviations import abbreviations, make_detector
from kg_ml.grounding.matcher import ConceptMatcher, ExtraSpan, occurrences
from kg_ml.grounding.nlp import Tokens, make_nlp, tokens, words
from kg_ml.grounding.spacy_api import Language
from kg_ml.grounding.vocab import Vocabulary

Grounding = tuple[list[int], list[int]]  # sorted (question node ids, answer node ids)


class Grounder:
    """Links texts to the node ids of one graph.

    Texts are lowercased before matching, as DRAGON does; abbreviation detection (optional)
    reads the original case, since "MI" and "mi" are not the same evidence.
    """

    def __init__(self, vocab: Vocabulary, *, question_stopword_rule: Literal["any", "all"] = "any",
                 abbreviations: bool = False, batch_size: int = 256, nlp: Language | None = None) -> None:
        self.nlp = nlp or make_nlp()
        self.matcher = ConceptMatcher(vocab, self.nlp, question_stopword_rule)
        self.detector = make_detector() if abbreviations else None
        self.batch_size = batch_size

    def _tokens(self, texts: Sequence[str]) -> list[Tokens]:
        return list(tokens(self.nlp, (t.lower() for t in texts), batch_size=self.batch_size))

    def ground_pairs(self, statements: Sequence[str], answers: Sequence[str]) -> list[Grounding]:
        """Question and answer concepts of each (statement, answer) pair; the answer's own
        mentions inside the statement do not count as question concepts."""
        if len(statements) != len(answers):
            raise ValueError("statements and answers differ in length")
        statement_toks = self._tokens(statements)
        distinct = sorted(set(answers))
        answer_toks = dict(zip(distinct, self._tokens(distinct)))
        answer_words = {a: tuple(w.lower() for w in words(self.nlp, a)) for a in distinct}
        extras = self._abbreviation_spans(statements, statement_toks)
        return [self.matcher.ground(st, answer_toks[a], answer_words[a], ex)
                for st, a, ex in zip(statement_toks, answers, extras)]

    def ground_answers(self, texts: Sequence[str]) -> list[list[int]]:
        """Concepts of each answer text on its own."""
        return [self.matcher.ground_answer(t) for t in self._tokens(texts)]

    def _abbreviation_spans(self, texts: Sequence[str], toks: list[Tokens]) -> list[list[ExtraSpan]]:
        """Per statement: every occurrence of a short form it defines, standing for the long form."""
        if self.detector is None:
            return [[] for _ in texts]
        out = []
        for text_toks, pairs in zip(toks, abbreviations(self.detector, texts, batch_size=self.batch_size)):
            spans = []
            for short, long in pairs:
                long_lemmas = next(tokens(self.nlp, [long.lower()])).lemmas
                short_words = words(self.nlp, short.lower())  # as the lowercased statement was tokenized
                spans += [ExtraSpan(s, e, long_lemmas) for s, e in occurrences(text_toks.words, short_words)]
            out.append(spans)
        return out
