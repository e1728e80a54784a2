"""Read metrics/*.json into (task, system, metric, value) rows."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg_ml.errors import InputError
from kg_ml.report.config import ReportParams

NO_TASK = "-"


@dataclass(frozen=True, order=True)
class MetricRow:
    """One number of one metrics file; ``source`` is the file name it came from."""

    task: str
    system: str
    metric: str
    value: float
    source: str


def _flatten(obj: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, float]]:
    for key in sorted(obj):
        value, name = obj[key], f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{name}.")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield name, float(value)
        # strings, lists, booleans and nulls are not comparable numbers: left out of the table


def _task_and_system(stem: str, params: ReportParams) -> tuple[str, str]:
    if stem in params.task_of:
        return params.task_of[stem], stem
    # Longest task first: "medical_kg" must win over a shorter task that is also a suffix.
    for task in sorted(params.tasks, key=len, reverse=True):
        if stem.endswith(f"_{task}"):
            return task, stem[: -len(task) - 1]
    return NO_TASK, stem


def _read(path: Path) -> Mapping[str, Any]:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise InputError(path, f"invalid JSON: {e.msg}", line=e.lineno) from None
    if not isinstance(data, Mapping):
        raise InputError(path, "expected a JSON object at the top level")
    return data


def rows_of_file(path: Path, params: ReportParams) -> list[MetricRow]:
    """The numeric metrics of one file; nested keys are joined with '.'."""
    data = _read(path)
    task, system = _task_and_system(path.stem, params)
    if path.stem in params.variant_files:
        rows = []
        for variant in sorted(data):
            group = data[variant]
            if not isinstance(group, Mapping):
                raise InputError(path, "expected one object of metrics per system variant", field=variant)
            rows += [MetricRow(task, f"{system}/{variant}", m, v, path.name) for m, v in _flatten(group)]
        return rows
    return [MetricRow(task, system, m, v, path.name) for m, v in _flatten(data)]


def collect_metrics(metrics_dir: str | Path, params: ReportParams) -> list[MetricRow]:
    """All rows of every ``*.json`` in ``metrics_dir``, sorted by task, system and metric."""
    metrics_dir = Path(metrics_dir)
    if not metrics_dir.is_dir():
        raise InputError(metrics_dir, "metrics directory does not exist (run the pipeline first)")
    rows: list[MetricRow] = []
    for path in sorted(metrics_dir.glob("*.json")):
        rows += rows_of_file(path, params)
    return sorted(rows)


@dataclass(frozen=True, order=True)
class Comparison:
    """One test metric of the joint run beside the single-task run's; ``single`` is None where the
    single-task file or its metric is missing; ``source``: the single-task file (``-``: none named)."""

    task: str
    metric: str
    joint: float
    single: float | None
    source: str


def joint_vs_single(rows: Sequence[MetricRow], params: ReportParams) -> list[Comparison]:
    """Every ``joint.<task>.<metric>`` row of the joint file beside ``<metric>`` of the task's
    single-task file (``report.joint_vs_single``), sorted by task and metric."""
    spec = params.joint_vs_single
    values = {(r.source, r.metric): r.value for r in rows}
    out = []
    for r in rows:
        if r.source != f"{spec.joint}.json" or not r.metric.startswith("joint."):
            continue
        task, _, metric = r.metric.removeprefix("joint.").partition(".")
        source = f"{spec.single_task[task]}.json" if task in spec.single_task else "-"
        out.append(Comparison(task, metric, r.value, values.get((source, metric)), source))
    return sorted(out)
