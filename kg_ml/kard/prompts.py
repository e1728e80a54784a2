"""The student's input and target texts (KARD's format)."""

from __future__ import annotations

from collections.abc import Sequence

from kg_ml.kard.answers import LETTERS, format_answer


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
    """``<rationale> Answer: (C) <option>``, or just ``(C) <option>`` for plain finetuning.

    The option text follows the letter so the answer can be read back even when the letter is
    garbled (`kg_ml.kard.answers.extract_answer` falls back to option texts).
    """
    answer = format_answer(label, options)
    return answer if rationale is None else f"{rationale.strip()} Answer: {answer}"
