"""The KGT5 / KGQA stage CLIs: --help, defaults, and a one-line failure on a missing input."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from kg_ml.cli import run

REPO = Path(__file__).resolve().parents[1]
STAGES = ("train_tokenizer", "train_kgt5", "evaluate_kgt5", "finetune_kgqa", "evaluate_kgqa")


def load_stage(name: str):
    spec = importlib.util.spec_from_file_location(f"stage_{name}", REPO / "stages" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", STAGES)
def test_help_and_defaults(name: str, capsys) -> None:
    stage = load_stage(name)
    with pytest.raises(SystemExit) as exit_:
        stage.parser().parse_args(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "--params" in out and "default" in out
    args = stage.parser().parse_args([])
    assert args.params == "params.yaml"


def test_missing_model_is_one_line_error(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(REPO)  # the repository's params.yaml
    stage = load_stage("evaluate_kgt5")
    code = run(stage.main, stage.parser(), ["--model", str(tmp_path / "none"), "--metrics", "-",
                                            "--predictions", str(tmp_path / "p.parquet")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith("error: ")
    assert not (tmp_path / "p.parquet").exists()
