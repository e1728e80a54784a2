"""Joint training through the shared loop: the `TaskMixer` schedule as a map-style dataset.

Item ``i`` of `MixedSteps` is the ``i``-th scheduled micro-batch (a task and its example
indices); the loop runs it with ``batch_size: 1`` and `JointCollate` builds the task's batch
(tagged with ``task``) from that task's own dataset and collator. The loop draws one
permutation of the items for its single epoch, so every task keeps its share of the steps
and each task's examples are visited as the mixer's per-task epochs say, in another order:
round-robin becomes an evenly shared, shuffled sequence rather than strict alternation.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from torch.utils.data import Dataset

from kg_ml.multitask.mixing import TaskMixer


def planned_steps(mixer: TaskMixer, epochs: int, max_steps: int | None) -> int:
    """``max_steps``, else ``epochs`` x the steps that show every task's examples once."""
    if max_steps is not None:
        return max_steps
    return epochs * sum(math.ceil(n / mixer.batch_size(t)) for t, n in mixer.sizes.items())


class MixedSteps(Dataset):
    def __init__(self, mixer: TaskMixer, micro_batches: int) -> None:
        self.schedule = list(mixer.schedule(micro_batches))

    def __len__(self) -> int:
        return len(self.schedule)

    def __getitem__(self, i: int) -> tuple[str, list[int]]:
        return self.schedule[i]

    def task_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(t for t, _ in self.schedule).items()))


class JointCollate:
    """``[(task, indices)]`` -> that task's collated batch plus ``task``."""

    def __init__(self, tasks: Mapping[str, tuple[Sequence, Callable[[list], dict[str, Any]]]]) -> None:
        self.tasks = tasks

    def __call__(self, items: list[tuple[str, list[int]]]) -> dict[str, Any]:
        if len(items) != 1:
            raise ValueError(f"joint training runs one scheduled micro-batch per loop item, got {len(items)}")
        task, indices = items[0]
        dataset, collate = self.tasks[task]
        return {**collate([dataset[i] for i in indices]), "task": task}


def weighted_loss(weights: Mapping[str, float]):
    """The loop's ``loss_fn``: the task's own loss times its weight."""

    def loss_fn(model, batch: dict[str, Any]):
        task = batch["task"]
        out = model(**batch)
        return out.loss * weights.get(task, 1.0), {}

    return loss_fn
