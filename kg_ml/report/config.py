"""`report:` section of params.yaml."""

from __future__ import annotations

from pydantic import Field

from kg_ml.config_base import StrictModel


class ReportParams(StrictModel):
    """How metrics files map onto (task, system) and which metrics the plot shows.

    task_of: file stem -> task, for files whose name does not end in ``_<task>`` (``kard`` -> medqa);
    variant_files: stems whose top-level keys name system variants (``kard.json``: one dict per
    variant) rather than metric groups; plot_metrics: a metric is plotted when its name contains one
    of these (case-insensitive) and its value lies in [0, 1].
    """

    tasks: list[str] = Field(default_factory=list)
    task_of: dict[str, str] = Field(default_factory=dict)
    variant_files: list[str] = Field(default_factory=list)
    plot_metrics: list[str] = Field(default_factory=lambda: ["accuracy", "f1", "em", "mrr", "hits@", "recall@"])
