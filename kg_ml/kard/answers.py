"""Answer-letter extraction from generated text, and the self-consistency majority vote."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

LETTERS = "ABCDEFGHIJ"

# Most to least explicit; the last match of the first pattern that matches wins, because a
# rationale may discuss other options ("(B) is unlikely ...") before it concludes.
_PATTERNS = (
    r"answer\s*(?:is|:)?\s*:?\s*\(\s*([A-J])\s*\)",  # "Answer: (C)", "the answer is (C)"
    r"answer\s*(?:is|:)\s*:?\s*([A-J])\b",           # "the answer is C", "Answer: C"
    r"\(\s*([A-J])\s*\)",                             # a lone "(C)"
)


def extract_answer(text: str, options: Sequence[str]) -> int | None:
    """The option index ``text`` settles on, or None.

    Tries the explicit answer patterns (letters outside the options are ignored), then falls back to
    the option whose text occurs last in ``text`` (case-insensitive, whole words), so a student that
    names the drug but garbles the letter still counts.
    """
    n = len(options)
    for pattern in _PATTERNS:
        hits = [m.group(1) for m in re.finditer(pattern, text, flags=re.IGNORECASE)]
        hits = [h.upper() for h in hits if LETTERS.index(h.upper()) < n]
        if hits:
            return LETTERS.index(hits[-1])
    lowered = text.lower()
    best, best_pos = None, -1
    for i, option in enumerate(options):
        option = option.strip().lower()
        if not option:
            continue
        for m in re.finditer(rf"(?<!\w){re.escape(option)}(?!\w)", lowered):
            # Longer options win a tie at the same end ("heart disease" over "disease").
            if m.end() > best_pos or (m.end() == best_pos and best is not None and len(option) > len(options[best])):
                best, best_pos = i, m.end()
    return best


def majority_vote(predictions: Sequence[int | None]) -> int | None:
    """Self-consistency: the most frequent extracted answer; ties go to the one sampled first."""
    votes = Counter(p for p in predictions if p is not None)
    if not votes:
        return None
    top = max(votes.values())
    return next(p for p in predictions if p is not None and votes[p] == top)


def format_answer(label: int, options: Sequence[str]) -> str:
    """The answer as the student writes it: ``suloetam (C)``. The option text comes first because a
    small student copies it from its own rationale far sooner than it learns which letter the
    options list gives it; scoring ``Answer: <option>`` is then not conditioned on a guessed letter."""
    return f"{options[label]} ({LETTERS[label]})"
