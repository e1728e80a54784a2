"""Abbreviations via scispaCy's AbbreviationDetector (Schwartz & Hearst), imported lazily.

scispaCy 0.6.2 pins numpy<2 for its UMLS linker, which we do not use; install it with
``pip install --no-deps scispacy==0.6.2`` (the detector needs only spaCy).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator

from kg_ml.errors import KgMlError
from kg_ml.grounding.spacy_api import Language, spacy

Abbreviation = tuple[str, str]  # (short form, long form) as written in the text


def make_detector() -> Language:
    """A blank English pipeline with scispaCy's ``abbreviation_detector``."""
    try:
        import scispacy.abbreviation  # noqa: F401  (registers the factory)
    except ImportError:
        raise KgMlError("abbreviation detection needs scispacy: pip install --no-deps scispacy==0.6.2 "
                        "(or set grounding.tasks.<task>.abbreviations: false)") from None
    nlp = spacy.blank("en")
    nlp.add_pipe("abbreviation_detector")
    return nlp


def abbreviations(detector: Language, texts: Iterable[str], *, batch_size: int = 256) -> Iterator[list[Abbreviation]]:
    """Per text, the distinct (short form, long form) pairs it defines, in order of appearance."""
    docs = detector.pipe(texts, batch_size=batch_size)
    while True:
        with warnings.catch_warnings():  # W036: a text without "long form (SF)" leaves a matcher empty
            warnings.filterwarnings("ignore", message=r"\[W036\]")
            doc = next(docs, None)
        if doc is None:
            return
        pairs: dict[Abbreviation, None] = {}
        for short in doc._.abbreviations:
            pairs[(short.text, short._.long_form.text)] = None
        yield list(pairs)
