"""The report stage: metrics files -> one task × system × metric table and a plot."""

from __future__ import annotations

import json

import pytest

from kg_ml.errors import InputError
from kg_ml.report import MetricRow, ReportParams, collect_metrics, render_markdown, write_report
from kg_ml.report.collect import Comparison, joint_vs_single
from kg_ml.report.config import JointVsSingle
from kg_ml.report.render import plotted

PARAMS = ReportParams(tasks=["medqa", "medical_kg", "kg"], task_of={"kard": "medqa"}, variant_files=["kard"])


def _write(d, name, obj):
    (d / name).write_text(json.dumps(obj))


def test_collect_maps_files_to_task_system_metric(tmp_path):
    _write(tmp_path, "prepare_medical_kg.json", {"rows": 10, "skipped": {"bad": 2}, "note": "x"})
    _write(tmp_path, "kard.json", {"with_knowledge": {"test_accuracy": 0.75}, "answer_only": {"test_accuracy": 0.5}})
    _write(tmp_path, "index_kb.json", {"passages": 7, "dense_exact": True})
    rows = collect_metrics(tmp_path, PARAMS)
    assert MetricRow("medical_kg", "prepare", "rows", 10.0, "prepare_medical_kg.json") in rows  # longest suffix wins
    assert MetricRow("medical_kg", "prepare", "skipped.bad", 2.0, "prepare_medical_kg.json") in rows
    assert MetricRow("medqa", "kard/with_knowledge", "test_accuracy", 0.75, "kard.json") in rows
    assert MetricRow("medqa", "kard/answer_only", "test_accuracy", 0.5, "kard.json") in rows
    assert MetricRow("-", "index_kb", "passages", 7.0, "index_kb.json") in rows
    assert not [r for r in rows if r.metric in ("note", "dense_exact")]  # strings and booleans are not numbers
    assert rows == sorted(rows)


def test_markdown_and_plot_selection(tmp_path):
    rows = [MetricRow("medqa", "kard", "test_accuracy", 0.5, "kard.json"),
            MetricRow("medqa", "prepare", "items", 0.5, "prepare_medqa.json"),
            MetricRow("kg", "kgt5", "hits@1", 0.25, "kgt5_kg.json"),
            MetricRow("kg", "kgt5", "val_mrr", 3.0, "kgt5_kg.json")]
    md = render_markdown(rows)
    assert "| medqa | kard | test_accuracy | 0.5 | kard.json |" in md
    # "em" must not match inside "items"; values outside [0, 1] are not plotted.
    assert [r.metric for r in plotted(rows, ReportParams())] == ["test_accuracy", "hits@1"]


def test_joint_vs_single_task_table(tmp_path):
    _write(tmp_path, "joint.json", {"joint": {"medqa": {"test_accuracy": 0.75}, "kgqa": {"hits@1": 0.5},
                                              "hotpotqa": {"f1": 20.0}},
                                    "baselines": {"kgqa": {"random_candidate_hits@1": 0.1}}})
    _write(tmp_path, "evaluate_kg_medqa.json", {"test_accuracy": 0.5, "dev_accuracy": 0.9})
    _write(tmp_path, "kgqa.json", {"questions": 4})  # no hits@1: the single-task cell stays empty
    params = PARAMS.model_copy(update={"joint_vs_single": JointVsSingle(
        single_task={"medqa": "evaluate_kg_medqa", "kgqa": "kgqa"})})
    rows = collect_metrics(tmp_path, params)
    assert joint_vs_single(rows, params) == [
        Comparison("hotpotqa", "f1", 20.0, None, "-"),  # no single-task file named for hotpotqa
        Comparison("kgqa", "hits@1", 0.5, None, "kgqa.json"),
        Comparison("medqa", "test_accuracy", 0.75, 0.5, "evaluate_kg_medqa.json")]
    md = render_markdown(rows, params)
    table = md[md.index("## Joint vs single-task"):]
    assert "| medqa | test_accuracy | 0.75 | 0.5 | +0.25 | evaluate_kg_medqa.json |" in table
    assert "| kgqa | hits@1 | 0.5 | - | - | kgqa.json |" in table
    assert "random_candidate" not in table  # only the joint.<task> test scores are compared
    assert "Joint vs single-task" not in render_markdown(rows)  # without params: the one table
    assert "Joint vs single-task" not in render_markdown([r for r in rows if r.source != "joint.json"], params)


def test_write_report_is_deterministic(tmp_path):
    rows = [MetricRow("medqa", "kard", "test_accuracy", 0.5, "kard.json")]
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        write_report(rows, ReportParams(), d / "summary.md", d / "summary.png")
    assert (a / "summary.png").read_bytes() == (b / "summary.png").read_bytes()
    assert (a / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (a / "summary.md").read_text() == (b / "summary.md").read_text()


def test_bad_metrics_file_names_it(tmp_path):
    (tmp_path / "broken.json").write_text("{\n  \"a\": ")
    with pytest.raises(InputError, match=r"broken\.json:\d+: invalid JSON"):
        collect_metrics(tmp_path, PARAMS)
    (tmp_path / "broken.json").write_text(json.dumps({"with_knowledge": 3}))
    (tmp_path / "broken.json").rename(tmp_path / "kard.json")
    with pytest.raises(InputError, match="kard.json: field 'with_knowledge'"):
        collect_metrics(tmp_path, PARAMS)


def test_report_stage_cli(tmp_path, run_stage, repo_root):
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    _write(metrics, "kard.json", {"medqa": {"test_accuracy": 0.4}})
    res = run_stage("report", "--params", str(repo_root / "params.yaml"), "--metrics-dir", str(metrics),
                    "--markdown", str(tmp_path / "r.md"), "--plot", str(tmp_path / "r.png"))
    assert res.returncode == 0, res.stderr
    assert "| medqa | kard/medqa | test_accuracy | 0.4 | kard.json |" in (tmp_path / "r.md").read_text()
    # params.yaml's joint_vs_single: joint.json's test scores beside the single-task files
    _write(metrics, "joint.json", {"joint": {"hotpotqa": {"f1": 20.0}}})
    _write(metrics, "hotpotqa.json", {"f1": 25.0})
    res = run_stage("report", "--params", str(repo_root / "params.yaml"), "--metrics-dir", str(metrics),
                    "--markdown", str(tmp_path / "r.md"), "--plot", str(tmp_path / "r.png"))
    assert res.returncode == 0, res.stderr
    assert "| hotpotqa | f1 | 20 | 25 | -5 | hotpotqa.json |" in (tmp_path / "r.md").read_text()
    res = run_stage("report", "--params", str(repo_root / "params.yaml"), "--metrics-dir", str(tmp_path / "none"))
    assert res.returncode == 1 and res.stderr.strip().endswith("metrics directory does not exist (run the pipeline first)")
