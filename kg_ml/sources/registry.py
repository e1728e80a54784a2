"""The source registry and the one entry point the prepare stage calls."""

from __future__ import annotations

import inspect
import logging
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from kg_ml.errors import ConfigError, InputError
from kg_ml.io import atomic_dir
from kg_ml.sources import (
    conceptnet,
    hotpotqa,
    kgqa,
    knowledge_base,
    medical_kg,
    medqa,
    rationales,
    wikidata5m,
)
from kg_ml.sources.common import BadRows, stand_in_name

log = logging.getLogger(__name__)

# name -> prepare(raw_dir, out_dir, bad_rows, **options) -> metrics
SOURCES: dict[str, Callable[..., dict]] = {
    "hotpotqa": hotpotqa.prepare,
    "wikidata5m": wikidata5m.prepare,
    "kgqa": kgqa.prepare,
    "medqa": medqa.prepare,
    "conceptnet": conceptnet.prepare,
    "medical_kg": medical_kg.prepare,
    "knowledge_base": knowledge_base.prepare,
    "rationales": rationales.prepare,
}

# name -> the raw file a single input file stands in for: one name, or one per split (the
# sources not listed need several files, so a single one keeps its own name)
SINGLE_FILES: dict[str, str | Mapping[str, str]] = {
    "hotpotqa": hotpotqa.FILES,
    "kgqa": kgqa.FILES,
    "medqa": medqa.FILES,
    "conceptnet": conceptnet.FILE,
    "knowledge_base": knowledge_base.FILE,
    "rationales": rationales.ARCHIVE,
}


def source_options(name: str) -> list[str]:
    """The keyword options a source accepts (besides ``strict``)."""
    params = inspect.signature(SOURCES[name]).parameters.values()
    return [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]


def prepare_source(name: str, raw: Path, out_dir: Path, *, strict: bool = True,
                   split: str | None = None, **options) -> dict:
    """Parse source ``name`` from ``raw`` into Parquet tables in ``out_dir`` (atomically).

    ``raw`` is the raw directory, or a single raw file (see `SINGLE_FILES`); ``split`` names
    the split such a file holds, for sources with a file per split (default: the split its
    name names). Returns flat metrics: row counts per table plus source-specific counts, and
    with ``strict=False`` ``skipped_rows`` (total) and ``skipped_rows.<file>``.
    """
    if name not in SOURCES:
        raise ConfigError(f"unknown source {name!r}; known: {', '.join(SOURCES)}")
    if unknown := sorted(set(options) - set(source_options(name))):
        raise ConfigError(f"prepare.{name}.options: unknown option(s) {unknown}; "
                          f"accepted: {source_options(name) or 'none'}")
    raw, out_dir = Path(raw), Path(out_dir)
    log.info("prepare@%s: %s -> %s (strict=%s)", name, raw, out_dir, strict)
    if raw.is_file():
        return _prepare_file(name, raw, out_dir, strict, split, options)
    if split is not None:
        raise ConfigError(f"--split {split}: only for a single input file, and {raw} is a directory")
    return _prepare(name, raw, out_dir, BadRows(strict, raw), options)


def _prepare(name: str, raw_dir: Path, out_dir: Path, bad: BadRows, options: dict) -> dict:
    """Run the source's parser into a temporary directory that becomes ``out_dir`` on success."""
    with atomic_dir(out_dir) as tmp:
        metrics = SOURCES[name](raw_dir, tmp, bad, **options)
    metrics.update(bad.metrics())
    if not bad.strict and metrics["skipped_rows"]:
        log.warning("prepare@%s: skipped %d bad rows", name, metrics["skipped_rows"])
    return metrics


def _prepare_file(name: str, path: Path, out_dir: Path, strict: bool, split: str | None,
                  options: dict) -> dict:
    """Prepare a single raw file by linking it, under the name the source looks for, into a
    directory of its own; errors and metrics keep naming the user's file."""
    link_name = stand_in_name(path, SINGLE_FILES.get(name, path.name), split)
    with tempfile.TemporaryDirectory() as tmp:
        link = Path(tmp) / link_name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(path.resolve())
        bad = BadRows(strict, Path(tmp), stand_in=(link, path))
        try:
            return _prepare(name, Path(tmp), out_dir, bad, options)
        except InputError as e:
            raise bad.shown(e) from None
