"""The student's input and target texts (KARD's format)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kg_ml.kard.answers import LETTERS, format_answer

# Sentence ends: punctuation, space, then a capital or "(" (so "i.e. x" and "2.5 mg" stay whole).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")
_LETTER = re.compile(r"\(\s*[A-J]\s*\)")


def student_input(question: str, options: Sequence[str], passages: Sequence[str] | None, *, rationale: bool) -> str:
    """``Question: … Options: (A) … Knowledge: <passages> Explanation:`` (``Answer:`` without a
    rationale); ``passages`` None leaves out the knowledge part (the no-knowledge ablations)."""
    opts = " ".join(f"({LETTERS[i]}) {o}" for i, o in enumerate(options))
    parts = [f"Question: {question}", f"Options: {opts}"]
    if passages is not None:
        parts.append("Knowledge: " + " ".join(passages))
    parts.append("Explanation:" if rationale else "Answer:")
    return " ".join(parts)


def student_target(rationale: str | None, label: int, options: Sequence[str]) -> str:
    """``<rationale> Answer: <option> (C)``, or just ``<option> (C)`` for plain finetuning; an empty
    rationale leaves ``Answer: <option> (C)`` (`format_answer` says why the text comes first).
    """
    answer = format_answer(label, options)
    if rationale is None:
        return answer
    return f"{rationale.strip()} Answer: {answer}".lstrip()


def strip_conclusion(rationale: str) -> str:
    """``rationale`` without its closing sentence when that sentence names an option letter (the
    target's ``Answer: <option> (X)`` restates it); a rationale that is only a conclusion becomes
    empty."""
    sentences = _SENTENCE_END.split(rationale.strip())
    if _LETTER.search(sentences[-1]):
        sentences.pop()
    return " ".join(sentences)
