"""safe_extract(): happy paths, hostile members, corrupt archives, all-or-nothing."""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from kg_ml.download import safe_extract
from kg_ml.errors import InputError

BIG = bytes(range(256)) * 400  # ~100 KB, so truncation lands inside member data

# Entries: ("file", name, data) | ("dir", name) | ("sym", name, target) | ("hard", name, target)
# | ("fifo", name)
GOOD = [
    ("dir", "./ds"),
    ("file", "./ds/train.txt", b"Q1\tP1\tQ2\n"),
    ("file", "./ds/sub/valid.txt", b"Q3\tP2\tQ4\n"),
    ("file", "./big.bin", BIG),
]


def make_tar(path: Path, entries: list[tuple], *, gz: bool | None = None) -> Path:
    gz = path.name.endswith((".tar.gz", ".tgz")) if gz is None else gz
    with tarfile.open(path, "w:gz" if gz else "w") as tf:
        for kind, name, *rest in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(rest[0])
                tf.addfile(info, io.BytesIO(rest[0]))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE,
                         "fifo": tarfile.FIFOTYPE}[kind]
            if rest:
                info.linkname = rest[0]
            tf.addfile(info)
    return path


def make_zip(path: Path, entries: list[tuple]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for kind, name, *rest in entries:
            if kind == "file":
                zf.writestr(name, rest[0])
            elif kind == "dir":
                zf.writestr(name.rstrip("/") + "/", b"")
            elif kind == "sym":
                info = zipfile.ZipInfo(name)
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                zf.writestr(info, rest[0])
    return path


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def dest(tmp_path) -> Path:
    """An extraction target that already holds another download, which must survive."""
    d = tmp_path / "raw" / "src"
    d.mkdir(parents=True)
    (d / "other.txt").write_text("keep me")
    return d


def assert_untouched(dest: Path) -> None:
    assert files_under(dest) == {"other.txt": b"keep me"}
    assert sorted(p.name for p in dest.parent.iterdir()) == [dest.name]  # no temp dir left


EXPECTED = {"ds/train.txt": b"Q1\tP1\tQ2\n", "ds/sub/valid.txt": b"Q3\tP2\tQ4\n", "big.bin": BIG}


@pytest.mark.parametrize("name", ["a.tar.gz", "a.tgz", "a.tar"])
def test_tar_happy_path(tmp_path, dest, name):
    out = safe_extract(make_tar(tmp_path / name, GOOD), dest, progress=False)
    assert out == sorted(dest / n for n in EXPECTED)
    assert files_under(dest) == {**EXPECTED, "other.txt": b"keep me"}
    assert sorted(p.name for p in dest.parent.iterdir()) == [dest.name]


def test_zip_happy_path(tmp_path, dest):
    out = safe_extract(make_zip(tmp_path / "a.zip", GOOD), dest, progress=False)
    assert out == sorted(dest / n for n in EXPECTED)
    assert files_under(dest) == {**EXPECTED, "other.txt": b"keep me"}


def test_gz_happy_path(tmp_path, dest):
    src = tmp_path / "wikidata5m_text.txt.gz"
    src.write_bytes(gzip.compress(BIG))
    assert safe_extract(src, dest, progress=False) == [dest / "wikidata5m_text.txt"]
    assert (dest / "wikidata5m_text.txt").read_bytes() == BIG


def test_creates_missing_dest_and_overwrites_previous_extraction(tmp_path):
    archive = make_tar(tmp_path / "a.tar.gz", GOOD)
    dest = tmp_path / "new" / "dir"
    safe_extract(archive, dest, progress=False)
    (dest / "big.bin").write_bytes(b"edited")
    safe_extract(archive, dest, progress=False)
    assert files_under(dest) == EXPECTED


def test_members_filter(tmp_path, dest):
    archive = make_tar(tmp_path / "a.tar.gz", GOOD)
    out = safe_extract(archive, dest, members=["ds/train.txt", "./big.bin"], progress=False)
    assert out == [dest / "big.bin", dest / "ds" / "train.txt"]
    assert not (dest / "ds" / "sub").exists()


def test_members_directory_prefix(tmp_path, dest):
    out = safe_extract(make_zip(tmp_path / "a.zip", GOOD), dest, members=["ds"], progress=False)
    assert out == [dest / "ds" / "sub" / "valid.txt", dest / "ds" / "train.txt"]


@pytest.mark.parametrize("maker,name", [(make_tar, "a.tar.gz"), (make_zip, "a.zip")])
def test_missing_member(tmp_path, dest, maker, name):
    archive = maker(tmp_path / name, GOOD)
    with pytest.raises(InputError) as err:
        safe_extract(archive, dest, members=["ds/train.txt", "ds/test.txt"], progress=False)
    assert str(err.value) == f"{archive}: member 'ds/test.txt' not found"
    assert_untouched(dest)


def test_gz_missing_member(tmp_path, dest):
    src = tmp_path / "x.txt.gz"
    src.write_bytes(gzip.compress(b"x"))
    with pytest.raises(InputError, match="member 'y.txt' not found"):
        safe_extract(src, dest, members=["y.txt"], progress=False)
    assert_untouched(dest)


@pytest.mark.parametrize("evil,why", [
    ("../evil.txt", "'..' component"),
    ("ds/../../evil.txt", "'..' component"),
    ("ds/../inside.txt", "'..' component"),
    ("/tmp/evil.txt", "absolute path"),
    ("C:/evil.txt", "drive letter"),
    ("..\\evil.txt", "'..' component"),
])
@pytest.mark.parametrize("maker,name", [(make_tar, "a.tar.gz"), (make_zip, "a.zip")])
def test_escaping_member_refused_and_nothing_extracted(tmp_path, dest, maker, name, evil, why):
    # Good members come first: they must not appear in dest when a later member is refused.
    archive = maker(tmp_path / name, [*GOOD, ("file", evil, b"pwned")])
    with pytest.raises(InputError) as err:
        safe_extract(archive, dest, progress=False)
    assert str(err.value) == f"{archive}: member '{evil}' escapes the extraction directory ({why})"
    assert_untouched(dest)
    assert not (tmp_path / "raw" / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()


@pytest.mark.parametrize("target", ["../../outside.txt", "/etc/passwd", "sub/../../../outside.txt"])
@pytest.mark.parametrize("maker,name", [(make_tar, "a.tar"), (make_zip, "a.zip")])
def test_symlink_outside_refused(tmp_path, dest, maker, name, target):
    archive = maker(tmp_path / name, [*GOOD, ("sym", "ds/link", target)])
    with pytest.raises(InputError, match="member 'ds/link' escapes the extraction directory"):
        safe_extract(archive, dest, progress=False)
    assert_untouched(dest)


def test_symlink_chain_escape_refused(tmp_path, dest):
    # Each link looks inside on its own; together "x" resolves to the parent of dest.
    archive = make_tar(tmp_path / "a.tar", [("sym", "sub/up", ".."), ("sym", "x", "sub/up/..")])
    with pytest.raises(InputError, match="member 'x' escapes the extraction directory"):
        safe_extract(archive, dest, progress=False)
    assert_untouched(dest)


def test_member_through_symlink_refused(tmp_path, dest):
    archive = make_tar(tmp_path / "a.tar", [("dir", "real"), ("sym", "d", "real"), ("file", "d/f.txt", b"x")])
    with pytest.raises(InputError, match="member 'd/f.txt' is inside symlink member 'd'"):
        safe_extract(archive, dest, progress=False)
    assert_untouched(dest)


def test_links_inside_are_kept(tmp_path, dest):
    archive = make_tar(tmp_path / "a.tar.gz", [*GOOD, ("sym", "ds/alias.txt", "train.txt"),
                                                ("hard", "copy.bin", "./big.bin")])
    out = safe_extract(archive, dest, progress=False)
    assert dest / "ds" / "alias.txt" in out and dest / "copy.bin" in out
    assert os.readlink(dest / "ds" / "alias.txt") == "train.txt"
    assert (dest / "ds" / "alias.txt").read_bytes() == EXPECTED["ds/train.txt"]
    assert (dest / "copy.bin").read_bytes() == BIG and not (dest / "copy.bin").is_symlink()


def test_zip_symlink_inside_is_kept(tmp_path, dest):
    archive = make_zip(tmp_path / "a.zip", [*GOOD, ("sym", "ds/alias.txt", "train.txt")])
    safe_extract(archive, dest, progress=False)
    assert (dest / "ds" / "alias.txt").is_symlink()
    assert (dest / "ds" / "alias.txt").read_bytes() == EXPECTED["ds/train.txt"]


def test_hardlink_to_filtered_member_is_read_from_archive(tmp_path, dest):
    archive = make_tar(tmp_path / "a.tar.gz", [*GOOD, ("hard", "copy.bin", "./big.bin")])
    assert safe_extract(archive, dest, members=["copy.bin"], progress=False) == [dest / "copy.bin"]
    assert (dest / "copy.bin").read_bytes() == BIG


def test_hardlink_outside_refused(tmp_path, dest):
    archive = make_tar(tmp_path / "a.tar", [*GOOD, ("hard", "h", "../../etc/passwd")])
    with pytest.raises(InputError, match="member 'h' escapes the extraction directory"):
        safe_extract(archive, dest, progress=False)
    assert_untouched(dest)


def test_fifo_refused(tmp_path, dest):
    archive = make_tar(tmp_path / "a.tar", [*GOOD, ("fifo", "pipe")])
    with pytest.raises(InputError, match="member 'pipe' is a device or fifo"):
        safe_extract(archive, dest, progress=False)
    assert_untouched(dest)


def corrupt(path: Path, *, cut: int | None = None, flip_at: int | None = None) -> Path:
    data = bytearray(path.read_bytes())
    if flip_at is not None:
        data[flip_at] ^= 0xFF
    if cut is not None:
        data = data[:cut]
    path.write_bytes(bytes(data))
    return path


def tar_offsets(archive: Path) -> dict[str, int]:
    """Header offset of each member, and of the end-of-archive marker ("end")."""
    with tarfile.open(archive) as tf:
        offsets = {m.name: m.offset for m in tf}
        offsets["end"] = tf.offset
    return offsets


def _tar_gz(tmp_path):
    return make_tar(tmp_path / "a.tar.gz", GOOD)


def _gz(tmp_path):
    p = tmp_path / "a.txt.gz"
    p.write_bytes(gzip.compress(BIG, mtime=0))
    return p


@pytest.mark.parametrize("case", [
    "tar.gz cut in half",
    "tar.gz without trailer",
    "gz cut in half",
    "gz bad crc",
    "tar cut in member data",
    "tar cut at a header boundary",
    "tar bad header",
    "zip bad crc",
    "zip cut",
    "not an archive",
])
def test_truncated_or_corrupt(tmp_path, dest, case):
    if case == "tar.gz cut in half":
        archive = corrupt(_tar_gz(tmp_path), cut=_tar_gz(tmp_path).stat().st_size // 2)
    elif case == "tar.gz without trailer":
        archive = corrupt(_tar_gz(tmp_path), cut=_tar_gz(tmp_path).stat().st_size - 4)
    elif case == "gz cut in half":
        archive = corrupt(_gz(tmp_path), cut=_gz(tmp_path).stat().st_size // 2)
    elif case == "gz bad crc":
        archive = corrupt(_gz(tmp_path), flip_at=_gz(tmp_path).stat().st_size - 6)
    elif case == "tar cut in member data":
        archive = make_tar(tmp_path / "a.tar", GOOD)
        archive = corrupt(archive, cut=tar_offsets(archive)["./big.bin"] + 512 + 1000)
    elif case == "tar cut at a header boundary":
        archive = make_tar(tmp_path / "a.tar", GOOD)
        archive = corrupt(archive, cut=tar_offsets(archive)["./big.bin"])
    elif case == "tar bad header":
        archive = make_tar(tmp_path / "a.tar", GOOD)
        # Byte 150 is inside the header checksum field: tarfile alone would stop quietly here.
        archive = corrupt(archive, flip_at=tar_offsets(archive)["./ds/sub/valid.txt"] + 150)
    elif case == "zip bad crc":
        archive = make_zip(tmp_path / "a.zip", [("file", "big.bin", BIG)])
        with zipfile.ZipFile(archive) as zf:
            start = zf.infolist()[0].header_offset + 30 + len("big.bin")
        archive = corrupt(archive, flip_at=start + 50)
    elif case == "zip cut":
        archive = make_zip(tmp_path / "a.zip", GOOD)
        archive = corrupt(archive, cut=archive.stat().st_size - 30)
    else:
        archive = tmp_path / "a.zip"
        archive.write_text("this is not a zip file\n")
    with pytest.raises(InputError) as err:
        safe_extract(archive, dest, progress=False)
    msg = str(err.value)
    assert msg.startswith(f"{archive}: truncated or corrupt archive: ") and "\n" not in msg
    assert_untouched(dest)


def test_tar_missing_only_the_last_zero_block_is_fine(tmp_path, dest):
    archive = make_tar(tmp_path / "a.tar", GOOD)
    safe_extract(corrupt(archive, cut=tar_offsets(archive)["end"] + 512), dest, progress=False)
    assert files_under(dest) == {**EXPECTED, "other.txt": b"keep me"}


def test_clash_with_existing_directory_moves_nothing(tmp_path, dest):
    (dest / "big.bin").mkdir()
    with pytest.raises(InputError, match="member 'big.bin'.*is in the way"):
        safe_extract(make_tar(tmp_path / "a.tar.gz", GOOD), dest, progress=False)
    assert not (dest / "ds").exists()


def test_unsupported_and_missing_archives(tmp_path, dest):
    rar = tmp_path / "a.rar"
    rar.write_bytes(b"x")
    with pytest.raises(InputError, match="unsupported archive type"):
        safe_extract(rar, dest, progress=False)
    with pytest.raises(InputError, match="no such file"):
        safe_extract(tmp_path / "missing.tar.gz", dest, progress=False)
    assert_untouched(dest)
