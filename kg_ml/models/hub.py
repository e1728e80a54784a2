"""The Hugging Face hub models a profile loads, read from params.yaml, for offline runs.

    python -m kg_ml.models.hub [--params params.yaml]   # one model id per line (full profile)
    python -m kg_ml.models.hub --download               # fill the Hugging Face cache (needs internet)
    python -m kg_ml.models.hub --check                  # are they all in the cache?

Then ``HF_HUB_OFFLINE=1 dvc exp run -S profile=full`` loads them from the cache (``HF_HOME``,
default ``~/.cache/huggingface``), which can be copied to an air-gapped machine as is.

The list is read from the validated params, not written down: every string of a model-reference
field (``encoder``, ``tokenizer``, ``model``, ``pretrained``) in every section, with a section's
``full:`` block merged (``for_profile``), that names a hub model: not ``package:NAME``, not a
local directory or path. Settings the profile does not use are skipped (the LM relevance model
of ``graphs.subgraph.lm`` unless ``graphs.subgraph.relevance`` is ``lm``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kg_ml.cli import run, stage_parser
from kg_ml.errors import KgMlError

MODEL_FIELDS = frozenset({"encoder", "tokenizer", "model", "pretrained"})
PACKAGE_PREFIX = "package:"  # as kg_ml.models.pretrained, which loads torch-free too
# Weights of other frameworks: from_pretrained (PyTorch) never reads them.
_IGNORE = ["*.h5", "*.msgpack", "*.ot", "*.onnx", "*.onnx_data", "*.tflite", "*.mlmodel",
           "onnx/*", "openvino/*", "coreml/*", "tf_model*", "flax_model*", "rust_model*"]


def is_hub_name(ref: str, *, root: Path | None = None) -> bool:
    """Whether a model reference names a hub model (``org/name`` or ``name``), as
    `kg_ml.models.pretrained.resolve_pretrained` reads it: not ``package:NAME``, not a local
    directory (absolute, ``./``/``~``-relative, or existing under ``root`` or the working
    directory), and at most one ``/``."""
    ref = ref.strip()
    if not ref or ref.startswith((PACKAGE_PREFIX, ".", "~", "/")) or ref.count("/") > 1 or "\\" in ref:
        return False
    return not any((base / ref).is_dir() for base in {Path.cwd(), root or Path.cwd()})


def _unused(section: BaseModel, field: str) -> bool:
    """Settings whose models the profile does not load."""
    from kg_ml.graphs.config import SubgraphConfig

    return isinstance(section, SubgraphConfig) and field == "lm" and section.relevance != "lm"


def _walk(obj: Any, where: str, profile: str) -> Iterator[tuple[str, str, str]]:
    """(field name, value, location) of every string leaf under ``obj``, profiles merged."""
    if isinstance(obj, BaseModel):
        if callable(getattr(obj, "for_profile", None)):
            obj = obj.for_profile(profile)
        for name, value in obj:
            if name == "full" or _unused(obj, name):  # merged above (or another profile's)
                continue
            loc = f"{where}.{name}" if where else name
            if isinstance(value, str):
                yield name, value, loc
            else:
                yield from _walk(value, loc, profile)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            if isinstance(value, BaseModel):
                yield from _walk(value, f"{where}.{key}", profile)
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            if isinstance(value, BaseModel):
                yield from _walk(value, f"{where}.{i}", profile)


def hub_models(params: BaseModel, profile: str = "full", *, root: Path | None = None) -> dict[str, list[str]]:
    """Hub model id -> the params settings that name it (sorted by id), under ``profile``."""
    found: dict[str, list[str]] = {}
    for name, value, loc in _walk(params, "", profile):
        if name in MODEL_FIELDS and is_hub_name(value, root=root):
            found.setdefault(value.strip(), []).append(loc)
    return dict(sorted(found.items()))


def missing_from_cache(models: list[str], cache_dir: str | None = None) -> list[str]:
    """The models of which the local Hugging Face cache holds no snapshot."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    missing = []
    for model in models:
        try:
            snapshot_download(model, cache_dir=cache_dir, local_files_only=True)
        except (LocalEntryNotFoundError, FileNotFoundError):
            missing.append(model)
    return missing


def download(models: list[str], cache_dir: str | None = None) -> dict[str, str]:
    """Fetch each model's PyTorch files into the Hugging Face cache (needs internet)."""
    from huggingface_hub import snapshot_download

    paths = {}
    for model in models:
        try:
            paths[model] = snapshot_download(model, cache_dir=cache_dir, ignore_patterns=_IGNORE)
        except Exception as e:  # noqa: BLE001 - any hub failure becomes one line naming the model
            why = " ".join(str(e).split())
            raise KgMlError(f"{model}: download failed: {type(e).__name__}: {why}") from None
    return paths


def main(args, params) -> None:
    models = hub_models(params, args.profile, root=Path(args.params).resolve().parent)
    if args.download:
        for model, path in download(list(models), args.cache_dir).items():
            print(f"{model}\t{path}")
        return
    if args.check:
        missing = missing_from_cache(list(models), args.cache_dir)
        cache = (args.cache_dir or os.environ.get("HF_HUB_CACHE") or os.environ.get("HF_HOME")
                 or "~/.cache/huggingface")
        if missing:
            raise KgMlError(f"not in the Hugging Face cache ({cache}): {', '.join(missing)}; fill it on a "
                            "machine with internet access with 'python -m kg_ml.models.hub --download' and "
                            "copy the cache")
        print(f"all {len(models)} hub models of the {args.profile} profile are in the cache ({cache})")
        return
    for model, where in models.items():
        print(f"{model}\t{', '.join(where)}" if args.where else model)


def parser():
    p = stage_parser(__doc__.split("\n\n")[0])
    p.prog = "python -m kg_ml.models.hub"
    p.add_argument("--profile", choices=["sample", "full"], default="full",
                   help="whose settings to read (default: %(default)s)")
    p.add_argument("--where", action="store_true",
                   help="also print the params settings that name each model")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--download", action="store_true",
                        help="download each model into the Hugging Face cache "
                             "(huggingface_hub.snapshot_download)")
    action.add_argument("--check", action="store_true",
                        help="exit 1 naming the models the local cache lacks (no network)")
    p.add_argument("--cache-dir",
                   help="Hugging Face cache directory (default: the hub's, HF_HUB_CACHE / HF_HOME)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
