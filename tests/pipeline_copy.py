"""A fresh copy of the repo, as a new user's clone, and `dvc repro` in it (the end-to-end tests)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGE = re.compile(r"^Running stage '([^']+)'")


def sh(cmd: list[str], cwd: Path, *, drop: tuple[str, ...] = (), **env_extra: str) -> subprocess.CompletedProcess:
    """Run ``cmd`` with this interpreter's bin/ (dvc, python) first on PATH, without the variables
    named in ``drop``."""
    return subprocess.run(cmd, cwd=cwd, env=_env(drop, env_extra), capture_output=True, text=True)


def _env(drop: tuple[str, ...], extra: dict[str, str]) -> dict[str, str]:
    """This environment with this interpreter's bin/ first on PATH, less ``drop``, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **extra)
    return env


def fresh_copy(dest: Path, repo: Path = REPO) -> Path:
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


def timed_repro(work: Path, targets: Sequence[str] = (), *, echo: bool = False, drop: tuple[str, ...] = (),
                **env_extra: str) -> tuple[int, str, dict[str, float], float]:
    """`dvc repro [targets]` in ``work``, stamping each "Running stage" line as it streams by: a
    stage's time is the wall time until the next one starts (DVC's own bookkeeping included).
    Returns the exit code, the output, seconds per stage and the total; ``echo`` prints each
    stage's start."""
    start = last = time.monotonic()
    current, stages, lines = None, {}, []
    proc = subprocess.Popen(["dvc", "repro", *targets], cwd=work, env=_env(drop, env_extra), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        lines.append(line)
        if m := STAGE.match(line):
            now = time.monotonic()
            if current:
                stages[current] = round(now - last, 1)
            current, last = m.group(1), now
            if echo:
                print(f"{now - start:7.1f}s  {current}", flush=True)
    rc = proc.wait()
    end = time.monotonic()
    if current:
        stages[current] = round(end - last, 1)
    return rc, "".join(lines), stages, round(end - start, 1)


def reproduce(work: Path, import_log: Path) -> Path:
    """`dvc repro` in ``work`` with the user's OpenMP settings (not the tests' PASSIVE wait policy),
    keeping its output in repro.log, each stage's seconds in repro_times.json and each stage
    process's kg_ml imports in import_log.json."""
    rc, out, stages, total = timed_repro(work, drop=("OMP_WAIT_POLICY",), KG_ML_IMPORT_LOG=str(import_log))
    assert rc == 0, out[-8000:]
    (work / "repro.log").write_text(out)
    (work / "repro_times.json").write_text(json.dumps({"total_s": total, "stages": stages}, indent=1))
    (work / "import_log.json").write_text(json.dumps([json.loads(f.read_text()) for f in import_log.glob("*.json")]))
    return work
