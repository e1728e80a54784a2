"""The HotpotQA stage CLIs: --help, defaults, and a one-line failure on a missing model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kg_ml.cli import run

REPO = Path(__file__).resolve().parents[1]


def load_stage(name: str):
    spec = importlib.util.spec_from_file_location(f"stage_{name}", REPO / "stages" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name, default_model", [("finetune_hotpotqa", "out"), ("evaluate_hotpotqa", "model")])
def test_help_and_defaults(name: str, default_model: str, capsys) -> None:
    stage = load_stage(name)
    with pytest.raises(SystemExit):
        stage.parser().parse_args(["--help"])
    assert "--params" in capsys.readouterr().out
    assert str(getattr(stage.parser().parse_args([]), default_model)) == "models/hotpotqa"


def test_missing_model_is_one_line_error(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    # A one-row prepared table of our own: a clean checkout has no data/prepared/ before `dvc repro`.
    table = tmp_path / "test.parquet"
    pq.write_table(pa.table({
        "id": ["q1"], "question": ["Who?"], "context": ["Ann Lee was born in Oslo."],
        "answers": pa.array([{"text": ["Ann Lee"], "answer_start": [0]}],
                            pa.struct([("text", pa.list_(pa.string())), ("answer_start", pa.list_(pa.int32()))])),
        "gold_answers": [["Ann Lee"]]}), table)
    stage = load_stage("evaluate_hotpotqa")
    code = run(stage.main, stage.parser(), ["--model", str(tmp_path / "none"), "--metrics", "-",
                                            "--table", str(table), "--predictions", str(tmp_path / "p.parquet")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and err == [f"error: {tmp_path / 'none'}: no config.json here (run finetune@hotpotqa first)"]
