"""Tiny English helpers shared by the writers that verbalise facts."""

from __future__ import annotations


def join(items: list[str] | tuple[str, ...]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def article(word: str) -> str:
    return "an" if word[0].lower() in "aeiou" else "a"


def cap(text: str) -> str:
    """Upper-case the first letter only (``pulmonary x`` -> ``Pulmonary x``; ``HTN`` unchanged)."""
    return text[:1].upper() + text[1:]
