"""Typed ``grounding:`` section of params.yaml: graph builds (build_kg@<kg>) and tasks (ground@<task>)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from kg_ml.config_base import StrictModel

KG_SOURCES = ("conceptnet", "medical_kg")  # prepared sources a graph can be built from
TASKS = ("medqa", "hotpotqa")  # prepared sources with a statement reader (kg_ml.grounding.tasks)


class KgBuildConfig(StrictModel):
    """build_kg@<kg>: which prepared graph, DRAGON's pruning, and the matcher vocabulary."""

    source: Literal["conceptnet", "medical_kg"]
    blacklist: list[str] = Field(default_factory=list)  # concepts whose edges are dropped
    drop_relations: list[str] = Field(default_factory=list)  # relation names whose edges are dropped
    max_pattern_tokens: int = Field(4, ge=1, le=8)  # longest concept (in tokens) the matcher finds


class GroundTaskConfig(StrictModel):
    """ground@<task>: which graph a task is linked to and how."""

    kg: str
    # DRAGON drops a question concept with any stopword token ("shortness_of_breath"); "all" keeps
    # multi-word names and drops only stopword-only ones (sensible for medical names).
    question_stopword_rule: Literal["any", "all"] = "any"
    abbreviations: bool = False  # scispaCy abbreviation detection: "MI" also grounds "myocardial infarction"
    batch_size: int = Field(256, ge=1)


class GroundingParams(StrictModel):
    kg: dict[str, KgBuildConfig]
    tasks: dict[str, GroundTaskConfig]

    @model_validator(mode="after")
    def _consistent(self) -> GroundingParams:
        for task, cfg in self.tasks.items():
            if task not in TASKS:
                raise ValueError(f"tasks: unknown task {task!r}; known: {list(TASKS)}")
            if cfg.kg not in self.kg:
                raise ValueError(f"tasks.{task}.kg: unknown graph {cfg.kg!r}; defined: {sorted(self.kg)}")
        return self
