"""The committed sample metrics keep every system's effect (kg_ml.report.effects); the e2e test
checks that a fresh `dvc repro` reproduces those metrics byte for byte."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from kg_ml.report.effects import sample_effects

REPO = Path(__file__).resolve().parents[1]


def test_committed_sample_metrics_show_every_effect() -> None:
    failed = [e for e in sample_effects(REPO / "metrics") if not e.ok]
    assert failed == []


def test_a_lost_effect_is_reported(tmp_path: Path) -> None:
    shutil.copytree(REPO / "metrics", tmp_path, dirs_exist_ok=True)
    kard = json.loads((tmp_path / "kard.json").read_text())
    kard["medqa"]["test_accuracy"] = kard["medqa_no_knowledge"]["test_accuracy"]  # a tie is no effect
    (tmp_path / "kard.json").write_text(json.dumps(kard))
    assert [e.name for e in sample_effects(tmp_path) if not e.ok] == ["kard_vs_no_knowledge"]
