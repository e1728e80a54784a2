"""download@<source>: fetch a source's files into data/raw/<source>/, all or nothing."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from kg_ml.config import FileSpec, SourceProfile
from kg_ml.download.archive import safe_extract
from kg_ml.download.fetch import fetch
from kg_ml.download.mirror import fetch_via_mirror, is_http
from kg_ml.errors import ManualDownloadRequired
from kg_ml.io import atomic_dir

log = logging.getLogger(__name__)


def _local_target(url: str, base_dir: Path) -> Path | None:
    if url.startswith("file://"):
        return Path(url[len("file://"):])
    if url.startswith("file:"):
        return base_dir / url[len("file:"):]
    return None


def _cache_path(cache_dir: Path, f: FileSpec) -> Path:
    # one cache name per URL, so a changed URL never resumes another file's bytes
    key = hashlib.sha256(f.url.encode()).hexdigest()[:16]
    return cache_dir / f"{key}-{Path(f.path).name}"


def download_source(name: str, spec: SourceProfile, out_dir: Path, *, cache_dir: Path,
                    base_dir: Path | None = None, progress: bool = True,
                    mirror: str | None = None) -> list[Path]:
    """Fetch every file of ``spec`` and extract archives; ``out_dir`` appears only on success.

    Partial downloads live in ``cache_dir`` (outside any DVC output, which DVC deletes before
    a rerun) so that a retried stage resumes them with HTTP Range requests. ``mirror``: fetch
    the http(s) files from ``<mirror>/<host>/<path>`` instead (`kg_ml.download.mirror`).
    """
    base_dir = base_dir or Path.cwd()
    if spec.manual:
        for f in spec.files:
            local = _local_target(f.url, base_dir)
            if local is not None and not local.exists():
                raise ManualDownloadRequired(
                    f"source '{name}' needs a manual download: place the file at {local} "
                    f"({spec.manual})")
    cache_dir.mkdir(parents=True, exist_ok=True)
    with atomic_dir(out_dir) as tmp:
        for f in spec.files:
            if mirror and is_http(f.url):
                cached = fetch_via_mirror(name, f.url, mirror, _cache_path(cache_dir, f), sha256=f.sha256,
                                          base_dir=base_dir, progress=progress)
            else:
                cached = fetch(f.url, _cache_path(cache_dir, f), sha256=f.sha256, base_dir=base_dir,
                               progress=progress)
            if f.extract:
                log.info("%s: extracting %s", name, f.path)
                safe_extract(cached, tmp / Path(f.path).parent, members=f.members, progress=progress)
            else:
                dest = tmp / f.path
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(cached, dest)
        files = sorted(p.relative_to(tmp) for p in tmp.rglob("*") if p.is_file())
    for f in spec.files:
        if f.extract:  # the archive is only needed until its members are in place
            _cache_path(cache_dir, f).unlink(missing_ok=True)
    log.info("%s: %d files in %s", name, len(files), out_dir)
    return [out_dir / p for p in files]
