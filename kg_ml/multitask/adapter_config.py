"""Adapter sizes (the ``joint.adapters`` params); torch-free, so params validation stays fast."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AdapterConfig(BaseModel):
    """bottleneck: adapter width per task (tasks not listed get ``default_bottleneck``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bottleneck: dict[str, int] = Field(default_factory=dict)
    default_bottleneck: int = Field(64, ge=1)

    def size(self, task: str) -> int:
        return self.bottleneck.get(task, self.default_bottleneck)
