"""End to end: `dvc repro` on a fresh copy of the repo runs the whole DAG on the bundled sample."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kg_ml import code_fingerprints, paths
from pipeline_copy import sh as _sh

pytestmark = pytest.mark.e2e


def test_repro_builds_every_prepared_source(reproduced: Path) -> None:
    stages = yaml.safe_load((reproduced / "dvc.yaml").read_text())
    for name in stages["vars"][0]["source_names"]:
        tables = list((reproduced / "data" / "prepared" / name).glob("*.parquet"))
        assert tables, name
        metrics = json.loads((reproduced / "metrics" / f"prepare_{name}.json").read_text())
        assert metrics and all(v >= 0 for v in metrics.values() if isinstance(v, int | float)), name


def test_repro_changes_no_tracked_file_but_the_lock(reproduced: Path) -> None:
    """A user's clone stays clean: every output is ignored by the committed .gitignore (DVC would
    otherwise write a new one beside it), and only dvc.lock's plot hashes (wall-clock curves) move."""
    status = _sh(["git", "status", "--porcelain", "--untracked-files=all"], reproduced).stdout.splitlines()
    assert [line for line in status if line[3:] not in ("dvc.lock", "repro.log", "repro_times.json",
                                                        "import_log.json")] == []


def test_second_repro_reruns_nothing(reproduced: Path) -> None:
    # As on a user's machine, where importing kg_ml writes bytecode next to its modules (the e2e
    # stages import the checkout's kg_ml, not this copy's, and tests may run without bytecode).
    compiled = _sh([sys.executable, "-m", "compileall", "-q", "kg_ml"], reproduced)
    assert compiled.returncode == 0 and list((reproduced / "kg_ml" / "sources").glob("__pycache__/*.pyc"))
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


# What every stage runs itself: the runner, params validation, the numerics. Never exempt.
CORE = {"kg_ml/__init__.py", "kg_ml/cli.py", "kg_ml/config.py", "kg_ml/config_base.py", "kg_ml/errors.py",
        "kg_ml/numerics.py", "kg_ml/paths.py"}


def params_schema_modules() -> set[str]:
    """Repo-relative files that validating params.yaml loads (`import kg_ml.config`, a fresh process)."""
    code = "import json, kg_ml.config, kg_ml.import_log as l; print(json.dumps(l.imported_files()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


def uncovered_imports(modules: list[str], deps: list[str], schema: set[str]) -> list[str]:
    """The imported kg_ml files that no dep covers (a dep covers itself and what is under it).

    Exempt: a params-schema module of a package the stage does not otherwise import (every stage
    loads every section's schema to validate params.yaml as a whole); where the stage does import
    that package's code, the section's schema is part of what it runs and must be covered too.
    """
    used_packages = {str(Path(m).parent) for m in modules if m not in schema or m in CORE}

    def exempt(m: str) -> bool:
        return m in schema and m not in CORE and str(Path(m).parent) not in used_packages

    return [m for m in modules
            if not exempt(m) and not any(m == d or m.startswith(d.rstrip("/") + "/") for d in deps)]


def covered_by(repo: Path, deps: list[str]) -> list[str]:
    """The deps, with each code fingerprint (data/code/<script>.sha256) replaced by the files it hashed."""
    out = []
    for dep in deps:
        is_fingerprint = dep.startswith(paths.CODE.as_posix() + "/") and dep.endswith(code_fingerprints.SUFFIX)
        out += code_fingerprints.fingerprinted_files(repo / dep) if is_fingerprint else [dep]
    return out


def test_every_stage_depends_on_the_code_it_imports(reproduced: Path) -> None:
    """A kg_ml module that a stage's process imports must be one of its deps or under one, counting
    the files its code fingerprint hashed (exemptions: `uncovered_imports`)."""
    lock = yaml.safe_load((reproduced / "dvc.lock").read_text())["stages"]
    by_cmd = {v["cmd"]: (name, covered_by(reproduced, [d["path"] for d in v.get("deps", [])]))
              for name, v in lock.items()}
    schema = params_schema_modules()
    stages_seen, missing = set(), {}
    for record in json.loads((reproduced / "import_log.json").read_text()):
        cmd = " ".join(["python", *record["argv"]])
        if cmd not in by_cmd:
            continue  # not a stage's process
        name, deps = by_cmd[cmd]
        stages_seen.add(name)
        if uncovered := uncovered_imports(record["modules"], deps, schema):
            missing[name] = uncovered
    assert stages_seen == set(lock), f"no import record for {sorted(set(lock) - stages_seen)}"
    assert missing == {}, "deps missing code the stage imports:\n" + "\n".join(
        f"  {stage}: {', '.join(mods)}" for stage, mods in sorted(missing.items()))


def test_every_stage_pinned_its_numerics(reproduced: Path) -> None:
    log = (reproduced / "repro.log").read_text()
    assert "numerics not pinned" not in log, [line for line in log.splitlines() if "numerics not pinned" in line]
