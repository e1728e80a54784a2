"""The pipeline's summary: every metrics/*.json in one Markdown table (task × system × metric) and
one bar plot of the quality metrics, so the state of all systems is visible after `dvc repro`."""

from importlib import import_module

# Exports load on first use (PEP 562): params validation imports `kg_ml.report.config` in every
# stage, before the stage runner pins numerics, and must not load numpy or pyarrow on the way.
_EXPORTS = {"MetricRow": "collect", "collect_metrics": "collect", "ReportParams": "config",
            "render_markdown": "render", "render_plot": "render", "write_report": "render"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'kg_ml.report' has no attribute {name!r}")
    return getattr(import_module(f"kg_ml.report.{_EXPORTS[name]}"), name)
