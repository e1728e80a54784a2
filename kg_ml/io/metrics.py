"""Rounding of the numbers written to metrics/*.json (short, diff-friendly values); torch-free."""

from __future__ import annotations

from collections.abc import Mapping


def rounded(value: float | None, digits: int = 4) -> float | None:
    """``value`` as a Python float rounded to ``digits`` places; None stays None."""
    return None if value is None else round(float(value), digits)


def rounded_all(metrics: Mapping[str, float], digits: int = 4, prefix: str = "") -> dict[str, float]:
    """``{prefix + key: rounded(value, digits)}`` for every metric."""
    return {f"{prefix}{k}": rounded(v, digits) for k, v in metrics.items()}
