"""Render metric rows as a Markdown table and a bar plot (PNG)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

from kg_ml.io import atomic_file
from kg_ml.report.collect import Comparison, MetricRow, joint_vs_single
from kg_ml.report.config import ReportParams

log = logging.getLogger(__name__)


def _fmt(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def render_markdown(rows: Sequence[MetricRow], params: ReportParams | None = None) -> str:
    """One table, rows ordered by task, system, metric; with ``params``, the joint vs single-task
    table after it (when there is a joint metrics file)."""
    lines = ["# kg-ml metrics", "", (f"{len(rows)} metrics from {len({r.source for r in rows})} files "
             "(`metrics/*.json`)."), "", "| task | system | metric | value | file |", "|---|---|---|---:|---|"]
    lines += [f"| {r.task} | {r.system} | {r.metric} | {_fmt(r.value)} | {r.source} |" for r in rows]
    if params is not None:
        lines += _joint_table(joint_vs_single(rows, params), params)
    return "\n".join(lines) + "\n"


def _joint_table(comparisons: Sequence[Comparison], params: ReportParams) -> list[str]:
    if not comparisons:
        return []
    lines = ["", "## Joint vs single-task", "",
             f"Test scores of the joint model (`{params.joint_vs_single.joint}.json`, `joint.<task>`) beside "
             "each task's single-task run.", "",
             "| task | metric | joint | single-task | joint − single | single-task file |",
             "|---|---|---:|---:|---:|---|"]
    for c in comparisons:
        single, diff = ("-", "-") if c.single is None else (_fmt(c.single), f"{c.joint - c.single:+.4g}")
        lines.append(f"| {c.task} | {c.metric} | {_fmt(c.joint)} | {single} | {diff} | {c.source} |")
    return lines


def plotted(rows: Sequence[MetricRow], params: ReportParams) -> list[MetricRow]:
    """The quality metrics the plot shows: a name component starts with a ``plot_metrics`` key, value in [0, 1]."""
    # A key must start a name component ("test_accuracy", "val_bm25_recall@5"), so "em" does
    # not pick up "system" or "items".
    pattern = re.compile("|".join(rf"(?:^|[._/]){re.escape(k.lower())}" for k in params.plot_metrics))
    return [r for r in rows if 0.0 <= r.value <= 1.0 and params.plot_metrics and pattern.search(r.metric.lower())]


def render_plot(rows: Sequence[MetricRow], params: ReportParams, path: Path) -> int:
    """Horizontal bars, one per plotted metric, labelled task · system · metric; returns the bar count."""
    import matplotlib

    matplotlib.use("Agg")  # headless: stages run without a display
    import matplotlib.pyplot as plt

    bars = plotted(rows, params)
    labels = [f"{r.task} · {r.system} · {r.metric}" for r in bars]
    fig, ax = plt.subplots(figsize=(10, max(2.0, 0.28 * len(bars) + 1)))
    if bars:
        ax.barh(range(len(bars)), [r.value for r in bars], color="tab:blue")
        ax.set_yticks(range(len(bars)), labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
    else:
        ax.text(0.5, 0.5, "no quality metrics yet", ha="center", va="center")
        ax.set_yticks([])
    ax.set_xlabel("value")
    ax.set_title("kg-ml quality metrics")
    fig.tight_layout()
    # Fixed metadata so the same metrics give the same bytes (matplotlib stamps its version/date).
    fig.savefig(path, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return len(bars)


def write_report(rows: Sequence[MetricRow], params: ReportParams, markdown: str | Path, plot: str | Path) -> dict:
    """Write both outputs atomically; returns a small summary for the log."""
    with atomic_file(markdown) as tmp:
        tmp.write_text(render_markdown(rows, params))
    with atomic_file(plot) as tmp:
        n_bars = render_plot(rows, params, tmp)
    log.info("report: %d metrics, %d plotted -> %s, %s", len(rows), n_bars, markdown, plot)
    return {"metrics": len(rows), "plotted": n_bars}
