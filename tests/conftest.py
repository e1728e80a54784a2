"""Shared fixtures: the repo root and a runner for stage CLIs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UNIT_NICENESS = 10

# Idle OpenMP threads sleep instead of spinning (GNU OpenMP's default spins): with two test workers,
# torchrun's ranks or the e2e repro beside the unit tests, more threads than cores are runnable, and
# spinning threads then burn the cores that the working ones wait for (a small-op training loop ran
# 6x slower). Set before any test module loads torch; the wait policy changes no result. The e2e
# repro drops it (tests/pipeline_copy.py), so its stages run as a user's do.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@pytest.fixture(scope="session")
def reproduced(tmp_path_factory) -> Path:
    """A fresh copy of the repo after `dvc repro` of the sample (one per test process: the e2e and
    the extended modules share it when they run in the same process)."""
    from pipeline_copy import fresh_copy, reproduce

    _leave_the_idle_class()
    return reproduce(fresh_copy(tmp_path_factory.mktemp("repo")), tmp_path_factory.mktemp("import_log"))


def _leave_the_idle_class() -> None:
    """The repro sets the pace, so it runs in the normal class even where this worker already ran
    unit tests (which put it in the idle class); there it would share the cores evenly with the
    other worker's unit tests (measured: subgraph@medqa 60-71 s instead of 31 s)."""
    try:
        if os.sched_getscheduler(0) == os.SCHED_IDLE:
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    except (AttributeError, OSError):
        pass  # not permitted: the unit tests then share the cores with it


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


def _yield_the_cpu() -> None:
    """Run this process (and what it starts) only on CPU time nobody else wants: Linux's SCHED_IDLE
    class, or, where that is refused, niceness 10 (which still takes ~10 % of a contended core)."""
    try:
        if os.sched_getscheduler(0) != os.SCHED_IDLE:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return
    except (AttributeError, OSError):
        pass
    if os.getpriority(os.PRIO_PROCESS, 0) < UNIT_NICENESS:
        os.setpriority(os.PRIO_PROCESS, 0, UNIT_NICENESS)


@pytest.fixture(autouse=True)
def _unit_tests_yield_to_the_repro(request) -> None:
    """Under ``pytest -n 2`` the e2e `dvc repro` is the critical path; the unit tests on the other
    worker have minutes of slack. They run in the idle scheduling class (inherited by their
    subprocesses), so the repro's stage processes keep both cores whenever they can use them and
    the unit tests fill the gaps (single-threaded stages, DVC's bookkeeping). Priority changes no
    result."""
    if request.node.get_closest_marker("e2e") is None:
        _yield_the_cpu()


def pytest_collection_modifyitems(config, items) -> None:
    """Run the end-to-end modules first: with ``-n 2 --dist loadscope --no-loadscope-reorder`` one
    worker starts the long `dvc repro` at once while the other takes the unit tests, instead of
    reaching it last."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is None)
