"""`report:` section of params.yaml."""

from __future__ import annotations

from pydantic import Field

from kg_ml.config_base import StrictModel


class JointVsSingle(StrictModel):
    """The "joint vs single-task" table: ``joint``, the stem of the joint run's metrics file (its
    ``joint.<task>.<metric>`` test scores); ``single_task``: task -> stem of the task's single-task
    metrics file, whose metric of the same name is set beside the joint one."""

    joint: str = "joint"
    single_task: dict[str, str] = Field(default_factory=dict)


class ReportParams(StrictModel):
    """How metrics files map onto (task, system) and which metrics the plot shows.

    task_of: file stem -> task, for files whose name does not end in ``_<task>`` (``kard`` -> medqa);
    variant_files: stems whose top-level keys name system variants (``kard.json``: one dict per
    variant) rather than metric groups; plot_metrics: a metric is plotted when its name contains one
    of these (case-insensitive) and its value lies in [0, 1]; joint_vs_single: `JointVsSingle`.
    """

    tasks: list[str] = Field(default_factory=list)
    task_of: dict[str, str] = Field(default_factory=dict)
    variant_files: list[str] = Field(default_factory=list)
    plot_metrics: list[str] = Field(default_factory=lambda: ["accuracy", "f1", "em", "mrr", "hits@", "recall@"])
    joint_vs_single: JointVsSingle = Field(default_factory=JointVsSingle)
