"""Shared fixtures: the repo root and a runner for stage CLIs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def run_stage():
    """Run ``python stages/<name>.py ARGS`` in ``cwd`` and return the CompletedProcess."""

    def _run(name: str, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(REPO / "stages" / f"{name}.py"), *args],
                              cwd=cwd, capture_output=True, text=True)

    return _run
