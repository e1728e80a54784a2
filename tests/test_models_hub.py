"""python -m kg_ml.models.hub: the hub models of a profile, read from params.yaml (never downloaded here)."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import huggingface_hub
import pytest
import yaml

from kg_ml.config import Params
from kg_ml.errors import KgMlError
from kg_ml.models import hub

REPO = Path(__file__).resolve().parents[1]
RAW = yaml.safe_load((REPO / "params.yaml").read_text())


def _models(data: dict, profile: str = "full") -> dict[str, list[str]]:
    return hub.hub_models(Params.model_validate(data), profile, root=REPO)


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kg_ml.models.hub", "--params", str(REPO / "params.yaml"),
                           *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, **(env or {})})


def test_full_profile_lists_the_hub_models_of_params_yaml() -> None:
    models = _models(RAW)
    assert {"michiyasunaga/BioLinkBERT-large", "google/flan-t5-base", "michiyasunaga/LinkBERT-base"} <= set(models)
    assert models["michiyasunaga/BioLinkBERT-large"] == ["kg_lm.model.encoder"]
    assert models["google/flan-t5-base"] == ["kard.student.pretrained"]
    assert models["michiyasunaga/LinkBERT-base"] == ["text_kg.hotpotqa.encoder"]
    assert not any(m.startswith("package:") for m in models)
    assert _models(RAW, "sample") == {}  # the sample never touches the hub


def test_listing_follows_the_params_and_skips_local_references(tmp_path) -> None:
    data = copy.deepcopy(RAW)
    local = tmp_path / "my-encoder"
    local.mkdir()
    data["text_kg"]["hotpotqa"]["full"]["encoder"] = str(local)
    data["kard"]["full"]["student"]["pretrained"] = "./students/flan"
    data["retrieval"]["reranker"]["encoder"] = "sentence-transformers/all-MiniLM-L6-v2"
    data["graphs"]["subgraph"]["lm"]["model"] = "roberta-large"
    models = _models(data)
    assert set(models) == {"michiyasunaga/BioLinkBERT-large", "sentence-transformers/all-MiniLM-L6-v2"}
    assert models["sentence-transformers/all-MiniLM-L6-v2"] == ["retrieval.reranker.encoder"]
    # the LM relevance model only loads with relevance: lm
    data["graphs"]["subgraph"]["relevance"] = "lm"
    assert _models(data)["roberta-large"] == ["graphs.subgraph.lm.model"]


def test_cli_prints_one_model_id_per_line() -> None:
    res = _cli()
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == sorted(_models(RAW))
    where = _cli("--where")
    assert "michiyasunaga/BioLinkBERT-large\tkg_lm.model.encoder" in where.stdout.splitlines()
    assert _cli("--help").stdout.startswith("usage: python -m kg_ml.models.hub")


def _fake_snapshot(cache: Path, model: str) -> None:
    repo = cache / ("models--" + model.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    (repo / "snapshots" / ("0" * 40)).mkdir(parents=True)
    (repo / "snapshots" / ("0" * 40) / "config.json").write_text("{}")


def test_check_names_the_models_an_offline_cache_lacks(tmp_path) -> None:
    env = {"HF_HUB_CACHE": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    models = sorted(_models(RAW))
    _fake_snapshot(tmp_path, models[0])
    res = _cli("--check", env=env)
    assert res.returncode == 1
    line = res.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: not in the Hugging Face cache ({tmp_path}): {', '.join(models[1:])}; ")
    assert "python -m kg_ml.models.hub --download" in line
    for model in models[1:]:
        _fake_snapshot(tmp_path, model)
    res = _cli("--check", env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"all {len(models)} hub models of the full profile are in the cache")


def test_download_fetches_each_model_once(monkeypatch) -> None:
    calls = []

    def fake(repo_id, **kwargs):
        calls.append((repo_id, kwargs))
        return f"/cache/{repo_id}"

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake)
    assert hub.download(["a/b", "c"], "/hf") == {"a/b": "/cache/a/b", "c": "/cache/c"}
    assert [c[0] for c in calls] == ["a/b", "c"]
    assert all(c[1]["cache_dir"] == "/hf" and "*.h5" in c[1]["ignore_patterns"] for c in calls)

    def failing(repo_id, **kwargs):
        raise OSError("no\nnetwork")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", failing)
    with pytest.raises(KgMlError, match=r"^a/b: download failed: OSError: no network$"):
        hub.download(["a/b"])
