"""The sample's time budget: `dvc repro` from scratch in a fresh copy of the repo, timed per stage.

    python bench/sample_budget.py [--quick] [--budget-s 480] [--keep DIR]

Copies what git would check out (tracked and untracked, not ignored) into a scratch directory,
runs `dvc repro` there (``--quick``: only MedQA's download and prepare stages) and stamps each
"Running stage" line as it streams by, so a stage's time is the wall time until the next one
starts (DVC's own bookkeeping included). Prints the stages slowest first, then as the last stdout
line one JSON object: ``total_s``, ``cpu_s`` (user + system CPU seconds of every process the run
started: with ``total_s``, how busy it kept the cores), ``stages`` (name -> seconds), ``budget_s``, ``effects`` (each
system's effect over its baseline, `kg_ml.report.effects`; full runs only) and ``ok`` (the run
succeeded within the budget, with every effect).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kg_ml.report.effects import effects_json, sample_effects  # noqa: E402
from tests.pipeline_copy import fresh_copy, timed_repro  # noqa: E402  (the e2e tests' fresh clone and repro)


def children_cpu_s() -> float:
    """User + system CPU seconds of the finished child processes (and theirs) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="download@medqa and prepare@medqa only")
    ap.add_argument("--budget-s", type=float, default=480.0, help="target for the whole run (default: %(default)s)")
    ap.add_argument("--keep", type=Path, help="run in this (new) directory and keep it")
    args = ap.parse_args()
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="kg-ml-budget-"))
    scratch.mkdir(parents=True, exist_ok=True)
    effects = None
    try:
        work = fresh_copy(scratch)
        targets = ["prepare@medqa"] if args.quick else []
        cpu = children_cpu_s()
        rc, out, stages, total = timed_repro(work, targets, echo=True)
        if rc != 0:
            print(out[-4000:], file=sys.stderr)
        cpu = round(children_cpu_s() - cpu, 1)
        if rc == 0 and not args.quick:
            effects = effects_json(sample_effects(work / "metrics"))
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    for name, seconds in sorted(stages.items(), key=lambda kv: -kv[1]):
        print(f"{seconds:7.1f}s  {name}")
    budget = args.budget_s if not args.quick else None
    for name, e in (effects or {}).items():
        print(f"{'ok ' if e['ok'] else 'LOST'}  {name}: {e['value']:.4g} vs {e['bar']:.4g} ({e['rule']})")
    print(json.dumps({"total_s": total, "cpu_s": cpu, "stages": stages, "budget_s": budget, "effects": effects,
                      "returncode": rc,
                      "ok": rc == 0 and (budget is None or total <= budget)
                      and all(e["ok"] for e in (effects or {}).values())}))


if __name__ == "__main__":
    main()
