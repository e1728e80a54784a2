"""The one spaCy pipeline used for concept patterns and statements: offline, no model download.

``spacy.blank("en")`` + the lookup lemmatizer, whose tables come from the installed
``spacy-lookups-data`` package. Concepts and statements must go through the same pipeline, or a
pattern's lemmas would not meet the text's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kg_ml.errors import KgMlError
from kg_ml.grounding.spacy_api import Language, spacy


def make_nlp() -> Language:
    """A blank English pipeline with the lookup lemmatizer, initialised offline."""
    # spaCy logs "Created vocabulary" at INFO through a handler of its own: twice under ours.
    logging.getLogger("spacy").setLevel(logging.WARNING)
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    try:
        nlp.initialize()
    except (ValueError, OSError) as e:  # spaCy raises ValueError [E955] when the tables are missing
        raise KgMlError(f"spaCy lookup lemmatizer unavailable ({e}); install spacy-lookups-data") from None
    return nlp


@dataclass(frozen=True, slots=True)
class Tokens:
    """What grounding needs of a processed text: token texts, lemmas and start offsets."""

    text: str
    words: tuple[str, ...]
    lemmas: tuple[str, ...]
    starts: tuple[int, ...]

    def span_text(self, start: int, end: int) -> str:
        """``doc[start:end].text``: the text from the first token to the end of the last."""
        return self.text[self.starts[start]:self.starts[end - 1] + len(self.words[end - 1])]

    def __len__(self) -> int:
        return len(self.words)


def tokens(nlp: Language, texts: Iterable[str], *, batch_size: int = 256) -> Iterator[Tokens]:
    """Tokens of each text (as given: callers lowercase where DRAGON does)."""
    for doc in nlp.pipe(texts, batch_size=batch_size):
        yield Tokens(doc.text, tuple(t.text for t in doc), tuple(t.lemma_ for t in doc),
                     tuple(t.idx for t in doc))


def words(nlp: Language, text: str) -> tuple[str, ...]:
    """Token texts of ``text`` from the tokenizer alone."""
    return tuple(t.text for t in nlp.make_doc(text))
