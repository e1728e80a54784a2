"""End to end: `dvc repro` on a fresh copy of the repo runs the whole DAG on the bundled sample."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.e2e


def _sh(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)


def _fresh_copy(repo: Path, dest: Path) -> Path:
    """Copy what git would check out (tracked + untracked, not ignored) into a new git repo."""
    listed = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=repo,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = repo / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "copy"]):
        subprocess.run(cmd, cwd=dest, check=True, capture_output=True)
    return dest


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory, ) -> Path:
    repo = Path(__file__).resolve().parents[1]
    work = _fresh_copy(repo, tmp_path_factory.mktemp("repo"))
    res = _sh(["dvc", "repro"], work)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    return work


def test_repro_builds_every_prepared_source(reproduced: Path) -> None:
    stages = yaml.safe_load((reproduced / "dvc.yaml").read_text())
    for name in stages["vars"][0]["source_names"]:
        tables = list((reproduced / "data" / "prepared" / name).glob("*.parquet"))
        assert tables, name
        metrics = json.loads((reproduced / "metrics" / f"prepare_{name}.json").read_text())
        assert metrics and all(v >= 0 for v in metrics.values() if isinstance(v, int | float)), name


def test_second_repro_reruns_nothing(reproduced: Path) -> None:
    res = _sh(["dvc", "repro"], reproduced)
    assert res.returncode == 0
    assert "Running stage" not in res.stdout, res.stdout


def _wall_clock(out: dict) -> bool:
    """DVCLive training-curve directories (plots/<stage>/) log wall-clock throughput (samples/s,
    tokens/s) at every step, so they differ between any two runs; every other output, plot CSVs
    included, must match bit for bit."""
    return out["path"].startswith("plots/") and out["md5"].endswith(".dir")


def test_lock_matches_committed_lock(reproduced: Path) -> None:
    """The reproducibility promise: a fresh run yields the committed dvc.lock's output hashes."""
    repo = Path(__file__).resolve().parents[1]
    committed = repo / "dvc.lock"
    if not committed.exists():
        pytest.fail("dvc.lock is not committed")

    def outs(lock: Path) -> dict:
        data = yaml.safe_load(lock.read_text())["stages"]
        return {(s, o["path"]): o["md5"] for s, v in data.items() for o in v.get("outs", [])
                if not _wall_clock(o)}

    fresh, expected = outs(reproduced / "dvc.lock"), outs(committed)
    assert fresh.keys() == expected.keys()
    assert {k: v for k, v in fresh.items() if v != expected[k]} == {}


def test_dvc_metrics_show_lists_counts(reproduced: Path) -> None:
    res = _sh(["dvc", "metrics", "show", "--json"], reproduced)
    assert res.returncode == 0, res.stderr
    shown = json.loads(res.stdout)
    files = next(iter(shown.values()))["data"]
    assert any(k.endswith("prepare_medqa.json") for k in files)
