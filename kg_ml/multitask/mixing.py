"""Which task each optimizer step trains: round-robin, or sampled in proportion to dataset size,
with per-task micro-batch sizes and loss weights."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from kg_ml.config_base import StrictModel
from kg_ml.training.seeds import derive_seed

if TYPE_CHECKING:
    import numpy as np


class MixingConfig(StrictModel):
    """strategy: "round_robin" (tasks in sorted order, one per step) or "proportional" (task drawn
    with probability ∝ dataset size ** temperature_exponent; 1 = plain proportional, 0 = uniform);
    batch_size / loss_weight: per task (missing tasks: 8 and 1.0)."""

    strategy: Literal["round_robin", "proportional"] = "proportional"
    temperature_exponent: float = Field(1.0, ge=0)
    batch_size: dict[str, int] = Field(default_factory=dict)
    loss_weight: dict[str, float] = Field(default_factory=dict)
    seed: int = 0

    @model_validator(mode="after")
    def _positive(self) -> MixingConfig:
        for task, b in self.batch_size.items():
            if b < 1:
                raise ValueError(f"batch_size.{task} must be at least 1 (got {b})")
        for task, w in self.loss_weight.items():
            if w < 0:
                raise ValueError(f"loss_weight.{task} must be non-negative (got {w})")
        return self


def mixing_weights(sizes: Mapping[str, int], config: MixingConfig) -> dict[str, float]:
    """Probability of each task per step (round-robin: the uniform long-run share)."""
    tasks = sorted(sizes)
    if config.strategy == "round_robin":
        return {t: 1.0 / len(tasks) for t in tasks}
    import numpy as np  # here, not at import: params validation loads MixingConfig before numerics are pinned

    raw = np.array([float(sizes[t]) ** config.temperature_exponent for t in tasks])
    return dict(zip(tasks, (raw / raw.sum()).tolist()))


class TaskMixer:
    """Deterministic schedule of (step, task, micro-batch indices).

    Each task walks its own epoch-wise permutations (seeded by task and epoch), so a task's
    examples are all seen before any repeats, whatever the other tasks do.
    """

    def __init__(self, sizes: Mapping[str, int], config: MixingConfig) -> None:
        if not sizes or any(n < 1 for n in sizes.values()):
            raise ValueError(f"every task needs at least one example, got {dict(sizes)}")
        self.sizes = dict(sorted(sizes.items()))
        self.tasks = list(self.sizes)
        self.config = config
        self.weights = mixing_weights(self.sizes, config)

    def batch_size(self, task: str) -> int:
        return self.config.batch_size.get(task, 8)

    def loss_weight(self, task: str) -> float:
        return self.config.loss_weight.get(task, 1.0)

    def task_order(self, steps: int) -> list[str]:
        """The task of each of the first ``steps`` steps."""
        if self.config.strategy == "round_robin":
            return [self.tasks[s % len(self.tasks)] for s in range(steps)]
        import numpy as np

        rng = np.random.default_rng(derive_seed(self.config.seed, "mixing"))
        picks = rng.choice(len(self.tasks), size=steps, p=[self.weights[t] for t in self.tasks])
        return [self.tasks[i] for i in picks.tolist()]

    def schedule(self, steps: int) -> Iterator[tuple[str, list[int]]]:
        """(task, example indices) per step; a micro-batch never spans two epochs of its task."""
        cursor = {t: 0 for t in self.tasks}
        epoch = {t: 0 for t in self.tasks}
        perm = {t: self._perm(t, 0) for t in self.tasks}
        for task in self.task_order(steps):
            b = min(self.batch_size(task), self.sizes[task])
            if cursor[task] + b > self.sizes[task]:
                epoch[task] += 1
                perm[task], cursor[task] = self._perm(task, epoch[task]), 0
            yield task, perm[task][cursor[task]: cursor[task] + b].tolist()
            cursor[task] += b

    def _perm(self, task: str, epoch: int) -> np.ndarray:
        import numpy as np

        return np.random.default_rng(derive_seed(self.config.seed, "order", task, epoch)).permutation(self.sizes[task])
