"""Fetch one file from an http(s) or file: URL: resumable, retried, checksummed, atomic.

The bytes land in ``<dest>.part`` and are renamed onto ``dest`` only after the whole body
arrived and (when given) its sha256 matched, so ``dest`` is either absent or complete.
A ``.part`` left by a transient failure is resumed with a ``Range`` request next time; a small
``<dest>.part.json`` sidecar remembers the URL and validator (ETag / Last-Modified) so a resume
never splices bytes of two different upstream versions (``If-Range``).
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests
import urllib3
from tqdm import tqdm

from kg_ml.errors import ConfigError, DownloadError
from kg_ml.io import write_json

log = logging.getLogger(__name__)

_RETRY_STATUSES = frozenset({408, 429})
_MAX_RETRY_AFTER_S = 60.0
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_HASH_CHUNK = 1 << 20
# Transport failures worth another attempt; raw-stream reads raise urllib3's own types.
_TRANSIENT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    urllib3.exceptions.HTTPError,
    ConnectionError,
    TimeoutError,
)


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def fetch(
    url: str,
    dest: str | Path,
    *,
    sha256: str | None = None,
    base_dir: Path | None = None,
    timeout: float = 60.0,
    retries: int = 5,
    backoff: float = 1.0,
    chunk_size: int = 1 << 20,
    progress: bool = True,
    session: requests.Session | None = None,
) -> Path:
    """Download ``url`` to ``dest`` and return ``dest``.

    ``url`` is ``http(s)://...``, ``file:///abs/path``, ``file:rel/path`` (against ``base_dir``,
    default the working directory) or a plain local path. HTTP failures that may be transient
    (connection errors, timeouts, short bodies, 5xx, 408, 429) are retried ``retries`` times
    with backoff ``backoff * 2**attempt``; other 4xx fail at once. Raises ``DownloadError``.
    """
    dest = Path(dest)
    expected = _normalise_sha256(url, sha256)
    local = _local_source(url, base_dir)
    if dest.is_dir():
        raise DownloadError(url, f"destination {dest} is a directory")
    if dest.exists():
        if local is not None and local.exists() and os.path.samefile(local, dest):
            # Never delete the source itself; just check it.
            _verify(url, dest, expected, delete=False)
            return dest
        if expected is None:
            log.info("%s already present, not downloading (no sha256 to check)", dest)
            return dest
        got = sha256_file(dest)
        if got == expected:
            log.info("%s already present with the expected sha256", dest)
            return dest
        log.warning("%s exists but its sha256 is %s, not %s: fetching again", dest, got, expected)
        dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    if local is not None:
        _copy_local(url, local, part, chunk_size=chunk_size, progress=progress)
    else:
        own = session is None
        sess = requests.Session() if own else session
        try:
            _HttpDownload(url, part, sess, expected, timeout, chunk_size, progress).run(retries, backoff)
        finally:
            if own:
                sess.close()
    _verify(url, part, expected, delete=True)
    os.replace(part, dest)
    _meta_path(part).unlink(missing_ok=True)
    log.info("fetched %s -> %s", url, dest)
    return dest


def _normalise_sha256(url: str, sha256: str | None) -> str | None:
    if sha256 is None:
        return None
    value = sha256.strip().lower()
    if not _SHA256_RE.match(value):
        raise ConfigError(f"sha256 for {url} must be 64 hex digits, got {sha256!r}")
    return value


def _verify(url: str, path: Path, expected: str | None, *, delete: bool) -> None:
    if expected is None:
        return
    got = sha256_file(path)
    if got != expected:
        if delete:
            path.unlink(missing_ok=True)
            _meta_path(path).unlink(missing_ok=True)
        raise DownloadError(url, f"sha256 mismatch: expected {expected}, got {got}")


def _local_source(url: str, base_dir: Path | None) -> Path | None:
    """The local path a file:/plain-path URL names, or None for http(s)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    if scheme in ("http", "https"):
        if not parts.netloc:
            raise DownloadError(url, "URL has no host")
        return None
    # A one-letter "scheme" is a Windows drive letter, i.e. a plain path.
    if scheme == "" or len(scheme) == 1:
        return base / url
    if scheme != "file":
        raise DownloadError(url, f"unsupported URL scheme '{parts.scheme}' (use http, https or file)")
    if parts.netloc not in ("", "localhost"):
        raise DownloadError(url, f"file: URL names a remote host '{parts.netloc}'")
    path = unquote(parts.path)
    if url[len("file:"):].startswith("/"):
        return Path(path)
    return base / path


def _copy_local(url: str, src: Path, part: Path, *, chunk_size: int, progress: bool) -> None:
    if not src.is_file():
        what = "not a regular file" if src.exists() else "no such file"
        raise DownloadError(url, f"{what}: {src}")
    try:
        with (
            open(src, "rb") as fin,
            open(part, "wb") as fout,
            _bar(src.stat().st_size, 0, part, progress) as bar,
        ):
            while chunk := fin.read(chunk_size):
                fout.write(chunk)
                bar.update(len(chunk))
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def _bar(total: int | None, initial: int, part: Path, progress: bool) -> tqdm:
    name = part.name.removesuffix(".part")
    return tqdm(
        total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024,
        desc=name, disable=not progress, leave=False,
    )


def _meta_path(part: Path) -> Path:
    return part.with_name(part.name + ".json")


class _Retry(Exception):
    """A transient failure: try again (after ``delay`` seconds when given, else backoff)."""

    def __init__(self, reason: str, *, status: int | None = None, delay: float | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.delay = delay


@dataclass
class _HttpDownload:
    url: str
    part: Path
    session: requests.Session
    sha256: str | None
    timeout: float
    chunk_size: int
    progress: bool

    def run(self, retries: int, backoff: float) -> None:
        """Attempt up to ``retries + 1`` times; return once ``part`` holds the whole body."""
        attempts = max(0, retries) + 1
        last: _Retry | None = None
        for attempt in range(attempts):
            if last is not None:
                delay = backoff * 2 ** (attempt - 1) if last.delay is None else last.delay
                log.warning("%s: %s; attempt %d/%d in %.2fs", self.url, last, attempt + 1, attempts, delay)
                time.sleep(delay)
            try:
                self._attempt()
                return
            except _Retry as e:
                last = e
        assert last is not None
        raise DownloadError(
            self.url, f"giving up after {attempts} attempts: {last}", status=last.status
        )

    def _attempt(self) -> None:
        offset = self._resumable_offset()
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            validator = self._load_meta().get("validator")
            if validator:
                headers["If-Range"] = validator
        try:
            resp = self.session.get(
                self.url, headers=headers, stream=True, timeout=(self.timeout, self.timeout)
            )
        except requests.exceptions.SSLError as e:
            raise DownloadError(self.url, _describe(e)) from e
        except _TRANSIENT as e:
            raise _Retry(_describe(e)) from e
        except requests.RequestException as e:
            raise DownloadError(self.url, _describe(e)) from e
        with resp:
            self._handle(resp, offset)

    def _handle(self, resp: requests.Response, offset: int) -> None:
        status = resp.status_code
        if status == 416 and offset:
            self._range_not_satisfiable(resp, offset)
            return
        if status >= 500 or status in _RETRY_STATUSES:
            raise _Retry(_reason(status), status=status, delay=_retry_after(resp))
        if status not in (200, 206):
            self._discard()
            raise DownloadError(self.url, _reason(status), status=status)
        if status == 206:
            start, total = _content_range(resp.headers.get("Content-Range", ""))
            if start != offset:
                self._discard()
                raise _Retry(f"server resumed at byte {start}, expected {offset}", delay=0.0)
            length = _int_header(resp, "Content-Length")
            total = total if total is not None else (offset + length if length is not None else None)
            mode = "ab"
        else:
            if offset:
                log.info("%s: server ignored the range request; restarting from byte 0", self.url)
            offset = 0
            total = _int_header(resp, "Content-Length")
            mode = "wb"
            self._save_meta(resp)
        self._stream(resp, mode, offset, total)

    def _stream(self, resp: requests.Response, mode: str, offset: int, total: int | None) -> None:
        received = offset
        with open(self.part, mode) as out, _bar(total, offset, self.part, self.progress) as bar:
            try:
                # Raw bytes: a server that labels a .gz "Content-Encoding: gzip" must not get
                # it silently decompressed, and Range offsets count the raw bytes.
                for chunk in resp.raw.stream(self.chunk_size, decode_content=False):
                    out.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            except _TRANSIENT as e:
                raise _Retry(f"connection lost after {received} bytes: {_describe(e)}") from e
        if total is not None and received < total:
            raise _Retry(f"short body: got {received} of {total} bytes")

    def _range_not_satisfiable(self, resp: requests.Response, offset: int) -> None:
        """416 on a resume: the part may already be whole; keep it if we can tell, else restart."""
        _, total = _content_range(resp.headers.get("Content-Range", ""))
        if total is not None and offset == total:
            return
        if total is None and self.sha256 is not None and sha256_file(self.part) == self.sha256:
            return
        self._discard()
        raise _Retry("range not satisfiable; restarting from byte 0", status=416, delay=0.0)

    def _resumable_offset(self) -> int:
        if not self.part.exists():
            return 0
        meta = self._load_meta()
        if meta.get("url", self.url) != self.url:
            log.info("%s: discarding a partial download of %s", self.part, meta.get("url"))
            self._discard()
            return 0
        return self.part.stat().st_size

    def _load_meta(self) -> dict:
        try:
            meta = json.loads(_meta_path(self.part).read_text())
        except (OSError, ValueError):
            return {}
        return meta if isinstance(meta, dict) else {}

    def _save_meta(self, resp: requests.Response) -> None:
        etag = resp.headers.get("ETag")
        # Weak ETags may not be used with If-Range (RFC 9110 13.1.5).
        validator = etag if etag and not etag.startswith("W/") else resp.headers.get("Last-Modified")
        write_json(_meta_path(self.part), {"url": self.url, "validator": validator})

    def _discard(self) -> None:
        self.part.unlink(missing_ok=True)
        _meta_path(self.part).unlink(missing_ok=True)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return "unexpected status"


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _int_header(resp: requests.Response, name: str) -> int | None:
    value = resp.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _content_range(value: str) -> tuple[int | None, int | None]:
    """(first byte, total size) of ``bytes a-b/total`` or ``bytes */total``; None where unknown."""
    m = re.match(r"\s*bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)\s*$", value)
    if not m:
        return None, None
    start = int(m.group(1)) if m.group(1) is not None else None
    total = int(m.group(2)) if m.group(2) != "*" else None
    return start, total


def _retry_after(resp: requests.Response) -> float | None:
    """Seconds a 429/503 asks us to wait (capped), or None to use the backoff."""
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER_S)
