"""MRQA-style tokenisation: [token, char_offset] pairs with real offsets.

MRQA keeps ``[PAR]``, ``[TLE]`` and ``[DOC]`` as single tokens but splits ``[SEP]`` into
``[``, ``SEP``, ``]`` (as in the real HotpotQA file); words are runs of word characters and every
other non-space character is a token of its own.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\[(?:PAR|TLE|DOC)\]|\w+|[^\w\s]")


def tokenize(text: str) -> list[list]:
    """``[[token, char_offset], ...]`` for ``text``."""
    return [[m.group(), m.start()] for m in _TOKEN.finditer(text)]


def token_span(tokens: list[list], start: int, end: int) -> list[int]:
    """Inclusive token indices covering the inclusive char span ``[start, end]``."""
    first = next(i for i, (_, off) in enumerate(tokens) if off == start)
    last = next(i for i, (tok, off) in enumerate(tokens) if off + len(tok) - 1 == end)
    return [first, last]
