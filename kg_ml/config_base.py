"""The one pydantic base of every params.yaml section: unknown keys are errors, values are frozen.

Torch-free (only pydantic), so validating params.yaml never imports torch.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A params model that forbids unknown keys and cannot be changed after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True)
