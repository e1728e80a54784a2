"""The source registry and the one entry point the prepare stage calls."""

from __future__ import annotations

import inspect
import logging
import tempfile
from collections.abc import Callable
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
from kg_ml.sources.common import BadRows

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


def source_options(name: str) -> list[str]:
    """The keyword options a source accepts (besides ``strict``)."""
    params = inspect.signature(SOURCES[name]).parameters.values()
    return [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]


def prepare_source(name: str, raw_dir: Path, out_dir: Path, *, strict: bool = True, **options) -> dict:
    """Parse source ``name`` from ``raw_dir`` into Parquet tables in ``out_dir`` (atomically).

    Returns flat metrics: row counts per table plus source-specific counts, and with
    ``strict=False`` ``skipped_rows`` (total) and ``skipped_rows.<file>``.
    """
    if name not in SOURCES:
        raise ConfigError(f"unknown source {name!r}; known: {', '.join(SOURCES)}")
    if unknown := sorted(set(options) - set(source_options(name))):
        raise ConfigError(f"prepare.{name}.options: unknown option(s) {unknown}; "
                          f"accepted: {source_options(name) or 'none'}")
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    if raw_dir.is_file():
        return _prepare_file(name, raw_dir, out_dir, strict=strict, **options)
    bad = BadRows(strict, raw_dir)
    log.info("prepare@%s: %s -> %s (strict=%s)", name, raw_dir, out_dir, strict)
    with atomic_dir(out_dir) as tmp:
        metrics = SOURCES[name](raw_dir, tmp, bad, **options)
    metrics.update(bad.metrics())
    if not strict and metrics["skipped_rows"]:
        log.warning("prepare@%s: skipped %d bad rows", name, metrics["skipped_rows"])
    return metrics


def _prepare_file(name: str, path: Path, out_dir: Path, **kwargs) -> dict:
    """Prepare a single raw file by standing it in a directory of its own; errors keep naming
    the user's file, not the temporary directory."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / path.name).symlink_to(path.resolve())
        try:
            return prepare_source(name, Path(tmp), out_dir, **kwargs)
        except InputError as e:
            shown = e.path.replace(tmp, str(path.parent), 1)
            raise InputError(shown, e.message, line=e.line, field=e.field) from None
