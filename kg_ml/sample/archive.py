"""Byte-reproducible file writers: gzip, tar.gz and plain text with fixed metadata."""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Iterable
from pathlib import Path


def gzip_bytes(data: bytes) -> bytes:
    """Gzip ``data`` with mtime 0 and no file name in the header, so output depends on data only."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_lines(path: Path, lines: Iterable[str], *, compress: bool = False) -> None:
    """Write ``lines`` joined by ``\\n`` with a final newline, UTF-8, optionally gzipped."""
    data = "".join(f"{line}\n" for line in lines).encode("utf-8")
    write_bytes(path, gzip_bytes(data) if compress else data)


def write_tar_gz(path: Path, members: Iterable[tuple[str, bytes]]) -> None:
    """Write a gzipped tar of regular files, sorted by name, with zeroed ownership and times."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in sorted(members, key=lambda m: m[0]):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    write_bytes(path, gzip_bytes(buf.getvalue()))
