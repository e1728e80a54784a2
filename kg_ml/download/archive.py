"""Extract .tar, .tar.gz/.tgz, .zip and plain .gz archives safely and all-or-nothing.

Members are written by this module (never ``extractall``), into a temporary directory beside
``dest_dir``; only when every member was read in full (so gzip/zip CRCs and the tar end marker
were checked) are the files moved into ``dest_dir``, leaving its other contents alone.

Links: a symlink is kept when its target stays inside the extraction directory, a tar hardlink
to another member becomes a copy of that member's bytes; anything pointing outside is refused,
as are absolute names, ``..`` components, drive letters and device/fifo members.
"""

from __future__ import annotations

import gzip
import logging
import os
import posixpath
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO, Callable, Literal

from tqdm import tqdm

from kg_ml.errors import InputError

log = logging.getLogger(__name__)

_Kind = Literal["file", "link", "dir"]
_COPY_CHUNK = 1 << 20
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_TAR_BLOCK = 512
# Errors that mean the archive bytes are bad (as opposed to, say, a full disk).
_CORRUPT = (tarfile.TarError, zipfile.BadZipFile, gzip.BadGzipFile, EOFError, zlib.error)


def safe_extract(
    archive: str | Path,
    dest_dir: str | Path,
    *,
    members: list[str] | None = None,
    progress: bool = True,
) -> list[Path]:
    """Extract ``archive`` into ``dest_dir`` and return the extracted file paths, sorted.

    ``members`` restricts extraction to these names (a directory name takes everything under
    it). Unsafe members, a corrupt or truncated archive, or a listed member that is absent raise
    ``InputError`` and leave ``dest_dir`` untouched.
    """
    archive, dest_dir = Path(archive), Path(dest_dir)
    if not archive.is_file():
        raise InputError(archive, "no such file")
    extractor = _extractor_for(archive)
    wanted = _Wanted(archive, members)
    # Beside the real target so the final moves are renames on the same filesystem.
    parent = dest_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest_dir.name}.extract-", dir=parent))
    try:
        log.info("extracting %s into %s", archive, dest_dir)
        with tqdm(unit="B", unit_scale=True, unit_divisor=1024, desc=archive.name,
                  disable=not progress, leave=False) as bar:
            tree = _Tree(archive, tmp, bar)
            try:
                extractor(archive, tree, wanted)
            except _CORRUPT as e:
                raise InputError(archive, f"truncated or corrupt archive: {_describe(e)}") from None
        wanted.check_all_found()
        tree.check_links()
        extracted = tree.move_into(dest_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("extracted %d files from %s", len(extracted), archive.name)
    return extracted


def _extractor_for(archive: Path) -> Callable[[Path, "_Tree", "_Wanted"], None]:
    name = archive.name.lower()
    if name.endswith((".tar.gz", ".tgz")):
        return lambda a, t, w: _extract_tar(a, t, w, gzipped=True)
    if name.endswith(".tar"):
        return lambda a, t, w: _extract_tar(a, t, w, gzipped=False)
    if name.endswith(".zip"):
        return _extract_zip
    if name.endswith(".gz"):
        return _extract_gz
    raise InputError(archive, "unsupported archive type (expected .tar, .tar.gz, .tgz, .zip or .gz)")


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _escapes(archive: Path, name: str, why: str) -> InputError:
    return InputError(archive, f"member '{name}' escapes the extraction directory ({why})")


def _clean_name(archive: Path, raw: str) -> str | None:
    """Archive member name as a safe relative POSIX path; None for the archive root itself."""
    name = raw.replace("\\", "/")
    if name.startswith("/"):
        raise _escapes(archive, raw, "absolute path")
    if _DRIVE_RE.match(name):
        raise _escapes(archive, raw, "drive letter")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _escapes(archive, raw, "'..' component")
    return "/".join(parts) or None


def _plain(name: str) -> str:
    """A requested member name in the form ``_clean_name`` gives (no ``./``, no trailing ``/``)."""
    return "/".join(p for p in name.replace("\\", "/").split("/") if p not in ("", "."))


class _Wanted:
    """The ``members`` filter; remembers which requested names were seen."""

    def __init__(self, archive: Path, members: list[str] | None) -> None:
        self.archive = archive
        self.names = None if members is None else {m: _plain(m) for m in members}
        self.found: set[str] = set()

    def match(self, name: str) -> bool:
        if self.names is None:
            return True
        hit = False
        for raw, clean in self.names.items():
            if name == clean or name.startswith(clean + "/"):
                self.found.add(raw)
                hit = True
        return hit

    def check_all_found(self) -> None:
        if self.names is None:
            return
        for raw in self.names:
            if raw not in self.found:
                raise InputError(self.archive, f"member '{raw}' not found")


class _Tree:
    """The temporary extraction root and what has been written into it."""

    def __init__(self, archive: Path, root: Path, bar: tqdm) -> None:
        self.archive = archive
        self.root = root
        self.bar = bar
        self.entries: dict[str, _Kind] = {}

    def add_dir(self, name: str) -> None:
        self._prepare_parents(name)
        if self.entries.get(name, "dir") != "dir":
            raise InputError(self.archive, f"member '{name}' is both a directory and a file")
        (self.root / name).mkdir(exist_ok=True)
        self.entries[name] = "dir"

    def add_file(self, name: str, src: BinaryIO) -> None:
        path = self._prepare_leaf(name)
        with open(path, "wb") as out:
            while chunk := src.read(_COPY_CHUNK):
                out.write(chunk)
                self.bar.update(len(chunk))
        self.entries[name] = "file"

    def add_copy(self, name: str, of: str) -> None:
        path = self._prepare_leaf(name)
        shutil.copyfile(self.root / of, path)
        self.entries[name] = "file"

    def add_symlink(self, name: str, target: str) -> None:
        target = target.replace("\\", "/")
        if not target:
            raise InputError(self.archive, f"member '{name}' is a symlink with an empty target")
        if target.startswith("/") or _DRIVE_RE.match(target):
            raise _escapes(self.archive, name, f"symlink to absolute path '{target}'")
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
        if resolved == ".." or resolved.startswith("../"):
            raise _escapes(self.archive, name, f"symlink to '{target}'")
        path = self._prepare_leaf(name)
        os.symlink(target, path)
        self.entries[name] = "link"

    def is_file(self, name: str) -> bool:
        return self.entries.get(name) == "file"

    def _prepare_parents(self, name: str) -> None:
        parts = name.split("/")
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            kind = self.entries.get(prefix)
            if kind == "link":
                raise InputError(self.archive, f"member '{name}' is inside symlink member '{prefix}'")
            if kind == "file":
                raise InputError(self.archive, f"member '{name}' is inside file member '{prefix}'")
            if kind is None:
                (self.root / prefix).mkdir(exist_ok=True)
                self.entries[prefix] = "dir"

    def _prepare_leaf(self, name: str) -> Path:
        self._prepare_parents(name)
        kind = self.entries.get(name)
        if kind == "dir":
            raise InputError(self.archive, f"member '{name}' is both a directory and a file")
        path = self.root / name
        if kind is not None:
            # A later member of the same name wins (tar semantics); never write through a link.
            path.unlink()
        return path

    def check_links(self) -> None:
        """Refuse symlinks that escape once resolved together (a chain of individually fine links)."""
        root = os.path.realpath(self.root)
        for name, kind in self.entries.items():
            if kind == "link":
                real = os.path.realpath(self.root / name)
                if os.path.commonpath([root, real]) != root:
                    raise _escapes(self.archive, name, f"symlink to '{os.readlink(self.root / name)}'")

    def move_into(self, dest_dir: Path) -> list[Path]:
        """Move everything into ``dest_dir`` (checked first, so a clash moves nothing)."""
        for name, kind in sorted(self.entries.items()):
            target = dest_dir / name
            for parent in list(Path(name).parents)[:-1]:
                p = dest_dir / parent
                if p.is_symlink() or (p.exists() and not p.is_dir()):
                    raise InputError(self.archive, f"cannot extract member '{name}': {p} is not a directory")
            if kind == "dir":
                clash = target.is_symlink() or (target.exists() and not target.is_dir())
            else:
                clash = target.is_dir() and not target.is_symlink()
            if clash:
                raise InputError(self.archive, f"cannot extract member '{name}': {target} is in the way")
        dest_dir.mkdir(parents=True, exist_ok=True)
        extracted = []
        for name, kind in sorted(self.entries.items()):
            target = dest_dir / name
            if kind == "dir":
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            # A rename when on one filesystem; shutil.move copies across filesystems.
            shutil.move(self.root / name, target)
            extracted.append(target)
        return sorted(extracted)


class _LastRead:
    """File wrapper that remembers the bytes of the latest read (tarfile's final header block)."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self.last = b""
        self.last_pos = -1

    def read(self, n: int = -1) -> bytes:
        self.last_pos = self._f.tell()
        self.last = self._f.read(n)
        return self.last

    def seek(self, *args: int) -> int:
        return self._f.seek(*args)

    def tell(self) -> int:
        return self._f.tell()


def _extract_tar(archive: Path, tree: _Tree, wanted: _Wanted, *, gzipped: bool) -> None:
    with open(archive, "rb") as raw, (gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw) as stream:
        rec = _LastRead(stream)
        with tarfile.open(fileobj=rec, mode="r:") as tf:
            skipped: dict[str, tarfile.TarInfo] = {}
            for info in tf:
                _tar_member(archive, tf, info, tree, wanted, skipped)
            # tarfile ends quietly at a bad or missing header; a real end is a block of zeros.
            if rec.last_pos != tf.offset or rec.last != bytes(_TAR_BLOCK):
                what = "archive ends without the end-of-archive marker" if len(rec.last) < _TAR_BLOCK \
                    else "bad tar header"
                raise tarfile.ReadError(f"{what} at byte {tf.offset}")
        # Read to the end so gzip checks its CRC and length trailer.
        while stream.read(_COPY_CHUNK):
            pass


def _tar_member(
    archive: Path,
    tf: tarfile.TarFile,
    info: tarfile.TarInfo,
    tree: _Tree,
    wanted: _Wanted,
    skipped: dict[str, tarfile.TarInfo],
) -> None:
    """Extract one tar member; ``skipped`` collects filtered-out files a later hardlink may need."""
    # Hostile names are refused even when filtered out: such an archive is not to be trusted.
    name = _clean_name(archive, info.name)
    if name is None:
        return
    if not wanted.match(name):
        if info.isreg():
            skipped[name] = info
        return
    if info.isdir():
        tree.add_dir(name)
    elif info.isreg():
        src = tf.extractfile(info)
        assert src is not None
        tree.add_file(name, src)
    elif info.issym():
        tree.add_symlink(name, info.linkname)
    elif info.islnk():
        try:
            target = _clean_name(archive, info.linkname)
        except InputError:
            target = None
        if target is None:
            raise _escapes(archive, info.name, f"hardlink to '{info.linkname}'")
        if tree.is_file(target):
            tree.add_copy(name, target)
        elif target in skipped:
            # Not tf.extractfile(info): resolving a link makes tarfile read ahead to the end.
            src = tf.extractfile(skipped[target])
            assert src is not None
            tree.add_file(name, src)
        else:
            raise InputError(archive, f"member '{name}' is a hardlink to '{target}', not an earlier file")
    elif info.ischr() or info.isblk() or info.isfifo():
        raise InputError(archive, f"member '{name}' is a device or fifo, which is not allowed")
    else:
        raise InputError(archive, f"member '{name}' has unsupported tar type {info.type!r}")


def _extract_zip(archive: Path, tree: _Tree, wanted: _Wanted) -> None:
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = _clean_name(archive, info.filename)
            if name is None or not wanted.match(name):
                continue
            mode = info.external_attr >> 16
            try:
                if info.is_dir() or stat.S_ISDIR(mode):
                    tree.add_dir(name)
                elif stat.S_ISLNK(mode):
                    tree.add_symlink(name, zf.read(info).decode("utf-8", "replace"))
                elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
                    raise InputError(archive, f"member '{name}' is a device or fifo, which is not allowed")
                else:
                    with zf.open(info) as src:
                        tree.add_file(name, src)
            except (RuntimeError, NotImplementedError) as e:  # encrypted / unknown compression
                raise InputError(archive, f"member '{name}' cannot be read: {_describe(e)}") from None


def _extract_gz(archive: Path, tree: _Tree, wanted: _Wanted) -> None:
    name = archive.name[: -len(".gz")]
    if not wanted.match(name):
        return
    with gzip.open(archive, "rb") as src:
        tree.add_file(name, src)
