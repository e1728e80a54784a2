"""Download mirrors: every upstream http(s) URL of every source, fetched from a copy instead.

Layout: ``<mirror>/<host>/<path>``, the upstream URL's host name (no port, no user) and path; its
query and fragment are dropped (Dropbox's ``?dl=1``). So
``https://s3.us-east-2.amazonaws.com/mrqa/release/v2/train/HotpotQA.jsonl.gz`` is found at
``<mirror>/s3.us-east-2.amazonaws.com/mrqa/release/v2/train/HotpotQA.jsonl.gz``. A mirror is an
http(s) base URL or a local directory (a ``file:`` URL or a path, relative ones against the repo
root). ``file:`` sources (the sample, ``data/manual/``) are never rewritten, and a source's sha256
from params.yaml is checked on the mirrored bytes as on the upstream ones.

The mirror is params ``download.mirror``, overridden by the environment variable ``KG_ML_MIRROR``;
``python -m kg_ml.download --mirror-to DIR`` fills a directory mirror from the upstream URLs.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from kg_ml.config import MIRROR_ENV, Params, Profile, check_mirror
from kg_ml.download.fetch import fetch
from kg_ml.errors import ConfigError, DownloadError

log = logging.getLogger(__name__)

FILL_COMMAND = "python -m kg_ml.download --mirror-to DIR"


def active_mirror(param: str | None) -> str | None:
    """The mirror in effect: ``$KG_ML_MIRROR`` when set and not empty, else params' value."""
    env = os.environ.get(MIRROR_ENV, "").strip()
    if not env:
        return param
    try:
        return check_mirror(env)
    except ValueError as e:
        raise ConfigError(f"{MIRROR_ENV}: {e}") from None


def is_http(url: str) -> bool:
    return urlsplit(url).scheme.lower() in ("http", "https")


def mirror_path(url: str) -> list[str]:
    """The path segments, ``[host, *path]`` (percent-encoded as in ``url``), of an http(s) URL
    under a mirror."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    bad = [s for s in segments if unquote(s) in (".", "..") or "/" in unquote(s)]
    if not parts.hostname or not segments or parts.path.endswith("/") or bad:
        raise ConfigError(f"{url}: cannot be mirrored: a mirror keeps files at <mirror>/<host>/<path>, "
                          "which needs a host and a file path without '.' or '..' segments")
    return [parts.hostname.lower(), *segments]


def _local_dir(mirror: str, base_dir: Path) -> Path | None:
    """The directory of a local mirror (None for an http(s) one)."""
    if is_http(mirror):
        return None
    if mirror.lower().startswith("file:"):
        rest = mirror[len("file:"):]
        path = Path(unquote(urlsplit(mirror).path)) if rest.startswith("/") else Path(unquote(rest))
    else:
        path = Path(mirror).expanduser()
    return (base_dir / path).absolute()


def mirror_file(directory: Path, url: str) -> Path:
    """Where a directory mirror keeps the file of upstream ``url``."""
    return directory.joinpath(*(unquote(s) for s in mirror_path(url)))


def mirror_url(url: str, mirror: str, base_dir: Path | None = None) -> str | None:
    """The URL that stands for upstream ``url`` in ``mirror`` (None: ``url`` is not http(s))."""
    if not is_http(url):
        return None
    directory = _local_dir(mirror, base_dir or Path.cwd())
    if directory is None:
        return "/".join([mirror, *mirror_path(url)])
    return mirror_file(directory, url).as_uri()


def fetch_via_mirror(source: str, url: str, mirror: str, dest: Path, *, sha256: str | None,
                     base_dir: Path | None = None, progress: bool = True) -> Path:
    """``fetch`` of upstream ``url`` from ``mirror``; failures name the mirror URL, the upstream
    URL it stands for, and how to fill the mirror."""
    murl = mirror_url(url, mirror, base_dir)
    assert murl is not None, url
    log.info("%s: fetching %s (mirror of %s)", source, murl, url)
    directory = _local_dir(mirror, base_dir or Path.cwd())
    where = str(directory) if directory is not None else "DIR"
    fill = (f"fill the mirror on a machine with internet access: {FILL_COMMAND.replace('DIR', where)} "
            f"--source {source}")
    if directory is None:
        fill += " (DIR: the directory the mirror serves)"
    unset = f"or unset {MIRROR_ENV} and download.mirror to fetch from upstream"
    if directory is not None and not mirror_file(directory, url).is_file():
        raise DownloadError(murl, f"the mirror has no copy of {url}; {fill}, {unset}")
    try:
        return fetch(murl, dest, sha256=sha256, base_dir=base_dir, progress=progress)
    except DownloadError as e:
        if e.status == 404:
            raise DownloadError(murl, f"the mirror has no copy of {url}; {fill}, {unset}",
                                status=404) from None
        what = str(e).removeprefix(f"{e.url}: ").removeprefix(f"HTTP {e.status}: ")
        raise DownloadError(murl, f"{what} (the mirror's copy of {url}; to refill it, {fill})",
                            status=e.status) from None


@dataclass
class FillReport:
    """What ``fill_mirror`` did, file by file."""

    written: list[tuple[str, Path]] = field(default_factory=list)
    present: list[tuple[str, Path]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    manual: dict[str, str] = field(default_factory=dict)
    local: list[str] = field(default_factory=list)


def fill_mirror(directory: Path, params: Params, profile: Profile, sources: list[str], *,
                progress: bool = True, echo=print) -> FillReport:
    """Download every http(s) file of ``sources`` in ``profile`` from upstream into ``directory``
    under the mirror layout (resumable: ``.part`` files wait beside their target; checksummed where
    params.yaml gives a sha256; files already there are kept). ``echo`` gets one line per file."""
    report = FillReport()
    for name in sources:
        spec = params.source(name, profile)
        if spec.manual:
            report.manual[name] = spec.manual
            echo(f"manual   {name}: not downloadable by a script, place its files under data/manual/{name}/ "
                 f"where the pipeline runs ({spec.manual})")
        for f in spec.files:
            if not is_http(f.url):
                if not spec.manual:
                    report.local.append(f.url)
                continue
            target = mirror_file(directory, f.url)
            before = _identity(target)
            try:
                fetch(f.url, target, sha256=f.sha256, progress=progress)
            except DownloadError as e:
                report.failed.append((f.url, str(e)))
                echo(f"failed   {name}: {e}")
                continue
            kept = before is not None and before == _identity(target)
            (report.present if kept else report.written).append((f.url, target))
            checked = "sha256 checked" if f.sha256 else "no sha256 in params"
            echo(f"{'present' if kept else 'wrote  '}  {name}: {target} ({target.stat().st_size:,} bytes, "
                 f"{checked}) <- {f.url}")
    return report


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


__all__ = ["FILL_COMMAND", "FillReport", "active_mirror", "fetch_via_mirror", "fill_mirror",
           "mirror_file", "mirror_path", "mirror_url"]
