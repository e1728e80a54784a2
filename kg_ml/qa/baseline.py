"""The "first entity in the context" baseline of HotpotQA, scored by the same evaluator.

An entity is a run of consecutive capitalised words (``Crown Textiles``, ``Björn Fischer``) with
leading stopwords dropped (sentence-initial ``He``, ``In``); punctuation, numbers and lowercase
words end a run (``University of Kesford`` stays whole), and MRQA's markers ([PAR], [TLE], [SEP],
[DOC]) never count. The answer is the first run of the context: usually the first paragraph's title.
(Skipping entities the question mentions does worse on HotpotQA: comparison questions ask for one
of their own two entities, and bridge answers are rarely the first new name.)
"""

from __future__ import annotations

import re

from kg_ml.grounding.words import NLTK_STOPWORDS

_MARKER = re.compile(r"\[(?:PAR|TLE|SEP|DOC)\]")
_TOKEN = re.compile(r"[^\W\d_][\w'’\-]*|\S")
_CONNECTORS = frozenset({"of", "de", "van", "von", "der", "du", "la", "le"})  # "University of Kesford"


def capitalised_runs(text: str) -> list[str]:
    """Entity-like runs of capitalised words, in text order."""
    tokens = _TOKEN.findall(_MARKER.sub(" . ", text)) + ["."]
    runs, current = [], []
    for token, after in zip(tokens, tokens[1:] + ["."]):
        if token[0].isupper() and (current or token.lower() not in NLTK_STOPWORDS):
            current.append(token)
        elif current and token in _CONNECTORS and after[0].isupper():
            current.append(token)
        elif current:
            runs.append(" ".join(current))
            current = []
    return runs


def first_entity(context: str) -> str:
    """The first capitalised run of ``context`` ("" if none)."""
    runs = capitalised_runs(context)
    return runs[0] if runs else ""
