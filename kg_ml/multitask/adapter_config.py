"""Adapter sizes (the ``joint.adapters`` params); torch-free, so params validation stays fast."""

from __future__ import annotations

from pydantic import Field

from kg_ml.config_base import StrictModel


class AdapterConfig(StrictModel):
    """bottleneck: adapter width per task (tasks not listed get ``default_bottleneck``)."""

    bottleneck: dict[str, int] = Field(default_factory=dict)
    default_bottleneck: int = Field(64, ge=1)

    def size(self, task: str) -> int:
        return self.bottleneck.get(task, self.default_bottleneck)
