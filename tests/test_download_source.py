"""download@<source>: the stage-level behaviour over the fetch and archive layers."""

from __future__ import annotations

import io
import tarfile

import pytest
from http_server import serve

from kg_ml.config import FileSpec, SourceProfile
from kg_ml.download.fetch import sha256_file
from kg_ml.download.source import download_source
from kg_ml.errors import DownloadError, ManualDownloadRequired


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_http_source_with_archive_lands_complete(tmp_path) -> None:
    archive = _tar_gz({"a_train.txt": b"Q1\tP1\tQ2\n", "a_test.txt": b"Q2\tP1\tQ1\n"})
    with serve({"/a.tar.gz": archive, "/names.txt": b"Q1\tone\n"}) as srv:
        spec = SourceProfile(files=[
            FileSpec(url=srv.url("/a.tar.gz"), path="a.tar.gz", extract=True),
            FileSpec(url=srv.url("/names.txt"), path="sub/names.txt"),
        ])
        files = download_source("toy", spec, tmp_path / "raw", cache_dir=tmp_path / "cache", progress=False)
    assert sorted(p.relative_to(tmp_path / "raw").as_posix() for p in files) == [
        "a_test.txt", "a_train.txt", "sub/names.txt"]
    assert (tmp_path / "raw" / "sub" / "names.txt").read_bytes() == b"Q1\tone\n"
    assert list((tmp_path / "cache").iterdir()) == []  # nothing left waiting to be resumed


def test_failure_on_a_later_file_leaves_no_output(tmp_path) -> None:
    with serve({"/ok.txt": b"fine\n"}) as srv:
        spec = SourceProfile(files=[FileSpec(url=srv.url("/ok.txt"), path="ok.txt"),
                                    FileSpec(url=srv.url("/missing.txt"), path="missing.txt")])
        with pytest.raises(DownloadError, match=r"/missing.txt: HTTP 404"):
            download_source("toy", spec, tmp_path / "raw", cache_dir=tmp_path / "cache", progress=False)
    assert not (tmp_path / "raw").exists()


def test_checksum_from_params_is_enforced(tmp_path) -> None:
    (tmp_path / "f.txt").write_text("data\n")
    good = sha256_file(tmp_path / "f.txt")
    spec = SourceProfile(files=[FileSpec(url="file:f.txt", path="f.txt", sha256="0" * 64)])
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        download_source("toy", spec, tmp_path / "raw", cache_dir=tmp_path / "c", base_dir=tmp_path,
                        progress=False)
    assert not (tmp_path / "raw").exists()
    spec = SourceProfile(files=[FileSpec(url="file:f.txt", path="f.txt", sha256=good)])
    download_source("toy", spec, tmp_path / "raw", cache_dir=tmp_path / "c", base_dir=tmp_path, progress=False)
    assert (tmp_path / "raw" / "f.txt").read_text() == "data\n"
    assert (tmp_path / "f.txt").exists()  # a file: source is copied, never moved


def test_manual_source_says_what_to_place_where(tmp_path) -> None:
    spec = SourceProfile(manual="get it from the licensed release",
                         files=[FileSpec(url="file:data/manual/x/q.jsonl", path="q.jsonl")])
    with pytest.raises(ManualDownloadRequired) as e:
        download_source("x", spec, tmp_path / "raw", cache_dir=tmp_path / "c", base_dir=tmp_path)
    msg = str(e.value)
    assert str(tmp_path / "data/manual/x/q.jsonl") in msg and "licensed release" in msg
    assert "\n" not in msg and not (tmp_path / "raw").exists()


def test_download_stage_reports_one_line_and_exits_1(tmp_path, run_stage, repo_root) -> None:
    res = run_stage("download", "--source", "medqa", "--profile", "full", "--out", str(tmp_path / "raw"),
                    "--params", str(repo_root / "params.yaml"), "--cache-dir", str(tmp_path / "c"),
                    cwd=tmp_path)
    assert res.returncode == 1
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("error: source 'medqa' needs a manual download: place the file at ")
    assert not (tmp_path / "raw").exists()
