"""Profile-dependent params: a section holds the sample profile's values, and its ``full:`` block
the values the full profile replaces (deep-merged), so `dvc exp run -S profile=full` switches model
sizes and training recipes together with the datasets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import Field, ValidationError, model_validator

from kg_ml.config_base import StrictModel


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override``'s values; nested mappings merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


class Profiled(StrictModel):
    """A params section with a ``full:`` block of full-profile overrides (checked when loaded)."""

    full: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _full_overrides_valid(self) -> Self:
        try:
            self._merged("full")
        except ValidationError as e:
            first = e.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"full.{loc}: {first['msg']}") from None
        return self

    def _merged(self, profile: str) -> Self:
        if profile != "full" or not self.full:
            return self
        # Only what params.yaml set is merged, so derived values (a TrainConfig's
        # greater_is_better) are derived again from the merged settings.
        written = self.model_dump(exclude={"full"}, exclude_unset=True)
        return type(self).model_validate(deep_merge(written, self.full))

    def for_profile(self, profile: str) -> Self:
        """The values in effect under ``profile`` ("sample": as written; "full": with ``full:`` merged)."""
        return self._merged(profile)
