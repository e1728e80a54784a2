"""params.yaml validation: the committed file is valid, bad overrides fail in one clear line."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kg_ml.config import SOURCE_NAMES, load_params
from kg_ml.errors import ConfigError


@pytest.fixture
def raw_params(repo_root: Path) -> dict:
    return yaml.safe_load((repo_root / "params.yaml").read_text())


def _write(tmp_path: Path, data: dict) -> Path:
    p = tmp_path / "params.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_committed_params_are_valid(repo_root: Path) -> None:
    params = load_params(repo_root / "params.yaml")
    assert params.profile == "sample"
    for name in SOURCE_NAMES:
        sample = params.source(name, "sample")
        assert all(f.url.startswith("file:data/sample/") for f in sample.files), name
        full = params.source(name, "full")
        # a full-profile file is either a real URL or a manual placement with instructions
        assert all(f.url.startswith("https://") or full.manual for f in full.files), name


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(profile="huge"), "field 'profile'"),
        (lambda d: d["sources"].update(nosuch=d["sources"]["medqa"]), "unknown source(s) ['nosuch']"),
        (lambda d: d["sources"].pop("medqa"), "missing source(s) ['medqa']"),
        (lambda d: d["prepare"]["medqa"].update(strict="sometimes"), "field 'prepare.medqa.strict'"),
        (lambda d: d["prepare"]["medqa"].update(strcit=True), "field 'prepare.medqa.strcit'"),
        (lambda d: d["sources"]["medqa"]["sample"]["files"][0].update(path="../../etc/passwd"),
         "must be a relative path"),
        (lambda d: d["sources"]["medqa"]["sample"]["files"][0].update(sha256="abc"), "64 lowercase hex"),
        (lambda d: d["kard"]["inference"].update(retriever="bm25"),
         "kard.inference.retriever is 'bm25' (sample profile) but retrieval.retrieve.retriever is 'reranked'"),
    ],
)
def test_bad_params_fail_in_one_line(tmp_path, raw_params, edit, message) -> None:
    data = copy.deepcopy(raw_params)
    edit(data)
    with pytest.raises(ConfigError) as e:
        load_params(_write(tmp_path, data))
    text = str(e.value)
    assert message in text
    assert "\n" not in text and text.startswith(str(tmp_path / "params.yaml"))


def test_invalid_yaml_names_the_line(tmp_path) -> None:
    p = tmp_path / "params.yaml"
    p.write_text("profile: sample\nsources: [unclosed\n")
    with pytest.raises(ConfigError, match=r"params.yaml:\d+: invalid YAML"):
        load_params(p)


def test_unknown_source_on_the_command_line_is_rejected(run_stage) -> None:
    res = run_stage("download", "--source", "nosuch")
    assert res.returncode != 0
    assert "invalid choice: 'nosuch'" in res.stderr


def test_bad_override_fails_the_stage_with_one_line(tmp_path, raw_params, run_stage) -> None:
    data = copy.deepcopy(raw_params)
    data["prepare"]["medqa"]["strict"] = "abc"
    p = _write(tmp_path, data)
    res = run_stage("prepare", "--source", "medqa", "--params", str(p), "--output", str(tmp_path / "out"))
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "field 'prepare.medqa.strict'" in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("stage", ["download", "prepare"])
def test_every_stage_has_help(run_stage, stage) -> None:
    res = run_stage(stage, "--help")
    assert res.returncode == 0 and "--source" in res.stdout


def test_prepare_cli_converts_a_single_file_and_names_it_in_errors(tmp_path, run_stage) -> None:
    good = tmp_path / "phrases_no_exclude_test.jsonl"
    good.write_text('{"question": "Q?", "answer": "b", "options": {"A": "a", "B": "b", "C": "c", "D": "d"},'
                    ' "meta_info": "step1", "answer_idx": "B"}\n')
    res = run_stage("prepare", "--source", "medqa", "--input", str(good), "--output", str(tmp_path / "out"),
                    "--metrics", str(tmp_path / "m.json"))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "out" / "test.parquet").exists()
    good.write_text(good.read_text() + '{"question": "Q?"}\n')
    res = run_stage("prepare", "--source", "medqa", "--input", str(good), "--output", str(tmp_path / "bad"))
    assert res.returncode == 1
    assert res.stderr.strip().splitlines()[-1] == f"error: {good}:2: field 'answer': missing"
    assert not (tmp_path / "bad").exists()


def test_params_validation_does_not_import_torch(repo_root) -> None:
    """Every stage validates params.yaml first; that must not cost the seconds torch, transformers
    and PyG take to import (the data stages never need them)."""
    code = ("import sys; from kg_ml.config import load_params; load_params('params.yaml'); "
            "heavy = sorted(m for m in ('torch', 'transformers', 'torch_geometric') if m in sys.modules); "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], cwd=repo_root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_train_cap_caps_every_training_section_of_both_profiles(raw_params: dict, tmp_path: Path) -> None:
    off = load_params(_write(tmp_path, raw_params))
    data = copy.deepcopy(raw_params)
    data["train_cap"] = {"max_steps": 3}
    capped = load_params(_write(tmp_path, data))
    sections = {
        "kg_lm.pretrain": lambda p, prof: p.kg_lm.for_profile(prof).pretrain.train,
        "kg_lm.medqa": lambda p, prof: p.kg_lm.for_profile(prof).medqa.train,
        "kard": lambda p, prof: p.kard.for_profile(prof).train,
        "hotpotqa": lambda p, prof: p.text_kg.hotpotqa.for_profile(prof).train,
        "kgt5": lambda p, prof: p.text_kg.kgt5.for_profile(prof).train,
        "kgqa": lambda p, prof: p.text_kg.kgqa.for_profile(prof).train,
        "joint": lambda p, prof: p.joint.for_profile(prof).train,
        "reranker": lambda p, prof: p.retrieval.reranker.train,
    }
    for name, get in sections.items():
        for profile in ("sample", "full"):
            assert get(capped, profile).max_steps == min(get(off, profile).max_steps or 3, 3), (name, profile)
            # nothing else moves
            assert get(capped, profile).model_copy(update={"max_steps": None}) == \
                get(off, profile).model_copy(update={"max_steps": None}), (name, profile)
    assert off.kard.train.max_steps == raw_params["kard"]["train"]["max_steps"]  # off: the params as written
    data["train_cap"] = {"max_steps": 0}
    with pytest.raises(ConfigError, match="train_cap.max_steps"):
        load_params(_write(tmp_path, data))


def test_only_the_sample_turns_off_attention_dropout(repo_root: Path) -> None:
    """On CPU, attention-probability dropout made torch's attention 7.6x slower, so the
    sample's encoders train without it; the full profile keeps BERT's 0.1 (its published recipes)."""
    params = load_params(repo_root / "params.yaml")
    for section in (params.text_kg.hotpotqa, params.kg_lm):
        sample, full = section.for_profile("sample"), section.for_profile("full")
        sample, full = getattr(sample, "model", sample), getattr(full, "model", full)
        assert sample.encoder_overrides == {"attention_probs_dropout_prob": 0.0}
        assert full.encoder_overrides == {"attention_probs_dropout_prob": 0.1}
