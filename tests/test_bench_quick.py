"""Benchmarks run at CI size (--quick) and end with one JSON line whose targets hold."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.parametrize("name, scratch", [("prepare", True), ("grounding", True), ("retrieval", False),
                                           ("numerics_cost", False), ("sample_budget", False),
                                           ("full_scale", True)])
def test_benchmark_quick(name, scratch, repo_root, tmp_path) -> None:
    workdir = ["--workdir", str(tmp_path)] if scratch else []  # retrieval keeps everything in memory
    res = subprocess.run([sys.executable, f"bench/{name}.py", "--quick", *workdir],
                         cwd=repo_root, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    result = json.loads(res.stdout.strip().splitlines()[-1])
    assert result["ok"] is True, result
