"""The pipeline's summary: every metrics/*.json in one Markdown table (task × system × metric) and
one bar plot of the quality metrics, so the state of all systems is visible after `dvc repro`."""

from kg_ml.report.collect import MetricRow, collect_metrics
from kg_ml.report.config import ReportParams
from kg_ml.report.render import render_markdown, render_plot, write_report

__all__ = ["MetricRow", "ReportParams", "collect_metrics", "render_markdown", "render_plot", "write_report"]
