"""fetch(): against a local HTTP server whose failures the tests script."""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import socket
from pathlib import Path

import pytest
import requests

from http_server import HALF, serve

from kg_ml.download import fetch, sha256_file
from kg_ml.errors import ConfigError, DownloadError

PAYLOAD = random.Random(0).randbytes(300_000)
FAST = {"backoff": 0.01, "timeout": 5.0, "progress": False, "chunk_size": 16 * 1024}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def server():
    with serve({"/data.bin": PAYLOAD}) as s:
        yield s


def leftovers(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.parent.iterdir())


def test_download_with_checksum(server, tmp_path):
    dest = tmp_path / "out" / "data.bin"
    got = fetch(server.url("/data.bin"), dest, sha256=sha(PAYLOAD), **FAST)
    assert got == dest
    assert dest.read_bytes() == PAYLOAD
    assert leftovers(dest) == ["data.bin"]
    assert [r["range"] for r in server.state.requests] == [None]


def test_resume_from_existing_part(server, tmp_path):
    dest = tmp_path / "data.bin"
    (tmp_path / "data.bin.part").write_bytes(PAYLOAD[:HALF])
    fetch(server.url("/data.bin"), dest, sha256=sha(PAYLOAD), **FAST)
    assert dest.read_bytes() == PAYLOAD
    assert [r["range"] for r in server.state.requests] == [f"bytes={HALF}-"]
    assert leftovers(dest) == ["data.bin"]


@pytest.mark.parametrize("status", [500, 503, 408, 429])
def test_retries_transient_status(server, tmp_path, status):
    server.state.fail_times, server.state.fail_status = 2, status
    dest = tmp_path / "data.bin"
    fetch(server.url("/data.bin"), dest, sha256=sha(PAYLOAD), retries=3, **FAST)
    assert dest.read_bytes() == PAYLOAD
    assert len(server.state.requests) == 3


def test_gives_up_after_retries(server, tmp_path):
    server.state.fail_times = 100
    dest = tmp_path / "data.bin"
    with pytest.raises(DownloadError) as err:
        fetch(server.url("/data.bin"), dest, retries=2, **FAST)
    assert err.value.status == 500
    msg = str(err.value)
    assert "\n" not in msg and server.url("/data.bin") in msg
    assert "HTTP 500" in msg and "3 attempts" in msg
    assert len(server.state.requests) == 3
    assert not dest.exists()


@pytest.mark.parametrize("status,phrase", [(404, "not found"), (403, "forbidden"), (401, "unauthorized")])
def test_client_error_fails_fast(server, tmp_path, status, phrase):
    server.state.fail_times, server.state.fail_status = 1, status
    dest = tmp_path / "data.bin"
    with pytest.raises(DownloadError) as err:
        fetch(server.url("/data.bin"), dest, retries=5, **FAST)
    assert err.value.status == status
    assert f"HTTP {status}: {phrase}" in str(err.value)
    assert len(server.state.requests) == 1
    assert leftovers(dest) == []


def test_missing_url_is_404(server, tmp_path):
    dest = tmp_path / "nope.bin"
    with pytest.raises(DownloadError, match="HTTP 404: not found"):
        fetch(server.url("/nope.bin"), dest, **FAST)
    assert not dest.exists()


def test_dropped_connection_resumes(server, tmp_path):
    server.state.drop_times = 1
    dest = tmp_path / "data.bin"
    fetch(server.url("/data.bin"), dest, sha256=sha(PAYLOAD), retries=2, **FAST)
    assert dest.read_bytes() == PAYLOAD
    first, second = server.state.requests
    assert first["range"] is None
    offset = int(re.fullmatch(r"bytes=(\d+)-", second["range"]).group(1))
    assert 0 < offset <= HALF


def test_dropped_connection_keeps_part_for_next_call(server, tmp_path):
    server.state.drop_times = 1
    dest = tmp_path / "data.bin"
    with pytest.raises(DownloadError, match="1 attempts"):
        fetch(server.url("/data.bin"), dest, retries=0, **FAST)
    part = tmp_path / "data.bin.part"
    size = part.stat().st_size
    assert not dest.exists() and 0 < size <= HALF
    fetch(server.url("/data.bin"), dest, sha256=sha(PAYLOAD), **FAST)
    assert dest.read_bytes() == PAYLOAD
    assert server.state.requests[-1]["range"] == f"bytes={size}-"
    assert leftovers(dest) == ["data.bin"]


def test_read_timeout_is_retried(server, tmp_path):
    server.state.stall_times = 1
    dest = tmp_path / "data.bin"
    fetch(server.url("/data.bin"), dest, sha256=sha(PAYLOAD), retries=2,
          **{**FAST, "timeout": 0.3})
    assert dest.read_bytes() == PAYLOAD
    assert len(server.state.requests) == 2
    assert server.state.requests[1]["range"] is not None


def test_server_ignoring_range_restarts(server, tmp_path):
    server.state.ignore_range = True
    dest = tmp_path / "data.bin"
    (tmp_path / "data.bin.part").write_bytes(b"x" * HALF)  # would corrupt the file if appended to
    fetch(server.url("/data.bin"), dest, sha256=sha(PAYLOAD), **FAST)
    assert dest.read_bytes() == PAYLOAD
    assert server.state.requests[0]["range"] == f"bytes={HALF}-"


def test_416_with_complete_part(server, tmp_path):
    dest = tmp_path / "data.bin"
    (tmp_path / "data.bin.part").write_bytes(PAYLOAD)
    fetch(server.url("/data.bin"), dest, sha256=sha(PAYLOAD), **FAST)
    assert dest.read_bytes() == PAYLOAD
    assert len(server.state.requests) == 1
    assert leftovers(dest) == ["data.bin"]


def test_416_with_oversized_part_restarts(server, tmp_path):
    dest = tmp_path / "data.bin"
    (tmp_path / "data.bin.part").write_bytes(b"y" * (len(PAYLOAD) + 10))
    fetch(server.url("/data.bin"), dest, sha256=sha(PAYLOAD), **FAST)
    assert dest.read_bytes() == PAYLOAD
    assert [r["range"] for r in server.state.requests] == [f"bytes={len(PAYLOAD) + 10}-", None]


def test_changed_upstream_is_not_spliced(server, tmp_path):
    server.state.etag, server.state.drop_times = '"v1"', 1
    dest = tmp_path / "data.bin"
    with pytest.raises(DownloadError):
        fetch(server.url("/data.bin"), dest, retries=0, **FAST)
    assert json.loads((tmp_path / "data.bin.part.json").read_text())["validator"] == '"v1"'
    new = bytes(reversed(PAYLOAD))
    server.state.files["/data.bin"], server.state.etag = new, '"v2"'
    fetch(server.url("/data.bin"), dest, **FAST)
    assert dest.read_bytes() == new
    assert server.state.requests[-1]["if_range"] == '"v1"'
    assert leftovers(dest) == ["data.bin"]


def test_part_of_another_url_is_discarded(server, tmp_path):
    dest = tmp_path / "data.bin"
    (tmp_path / "data.bin.part").write_bytes(b"z" * HALF)
    meta = {"url": server.url("/old.bin"), "validator": None}
    (tmp_path / "data.bin.part.json").write_text(json.dumps(meta))
    fetch(server.url("/data.bin"), dest, **FAST)
    assert dest.read_bytes() == PAYLOAD
    assert server.state.requests[0]["range"] is None


def test_checksum_mismatch(server, tmp_path):
    dest = tmp_path / "data.bin"
    wrong = sha(b"something else")
    with pytest.raises(DownloadError, match=f"sha256 mismatch: expected {wrong}, got {sha(PAYLOAD)}"):
        fetch(server.url("/data.bin"), dest, sha256=wrong, **FAST)
    assert leftovers(dest) == []


def test_content_encoding_is_not_decoded(server, tmp_path):
    gz = gzip.compress(b"hello\n" * 1000, mtime=0)
    server.state.files["/x.jsonl.gz"] = gz
    server.state.content_encoding = "gzip"
    dest = tmp_path / "x.jsonl.gz"
    fetch(server.url("/x.jsonl.gz"), dest, sha256=sha(gz), **FAST)
    assert dest.read_bytes() == gz


def test_existing_dest_is_kept(server, tmp_path):
    dest = tmp_path / "data.bin"
    dest.write_bytes(PAYLOAD)
    assert fetch(server.url("/data.bin"), dest, sha256=sha(PAYLOAD), **FAST) == dest
    assert fetch(server.url("/data.bin"), dest, **FAST) == dest
    assert server.state.requests == []


def test_existing_dest_with_wrong_checksum_is_refetched(server, tmp_path):
    dest = tmp_path / "data.bin"
    dest.write_bytes(b"stale")
    fetch(server.url("/data.bin"), dest, sha256=sha(PAYLOAD), **FAST)
    assert dest.read_bytes() == PAYLOAD
    assert len(server.state.requests) == 1


def test_connection_refused_is_retried_then_fails(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/data.bin"
    with pytest.raises(DownloadError, match="2 attempts") as err:
        fetch(url, tmp_path / "data.bin", retries=1, **FAST)
    assert err.value.status is None and url in str(err.value)
    assert leftovers(tmp_path / "data.bin") == []


# file: and plain-path sources ------------------------------------------------------------------


@pytest.fixture
def sample(tmp_path) -> Path:
    src = tmp_path / "repo" / "data" / "sample" / "a.txt"
    src.parent.mkdir(parents=True)
    src.write_bytes(PAYLOAD)
    return src


def test_file_relative_url(sample, tmp_path):
    dest = tmp_path / "raw" / "a.txt"
    fetch("file:data/sample/a.txt", dest, sha256=sha(PAYLOAD), base_dir=tmp_path / "repo", progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert leftovers(dest) == ["a.txt"]


def test_file_relative_url_defaults_to_cwd(sample, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path / "repo")
    dest = tmp_path / "raw" / "a.txt"
    fetch("file:data/sample/a.txt", dest, progress=False)
    assert dest.read_bytes() == PAYLOAD


def test_file_absolute_url_and_plain_path(sample, tmp_path):
    dest = tmp_path / "raw" / "a.txt"
    fetch(sample.as_uri(), dest, sha256=sha(PAYLOAD), progress=False)
    assert dest.read_bytes() == PAYLOAD
    dest2 = tmp_path / "raw" / "b.txt"
    fetch(str(sample), dest2, progress=False)
    assert dest2.read_bytes() == PAYLOAD


def test_file_missing(tmp_path):
    dest = tmp_path / "raw" / "a.txt"
    with pytest.raises(DownloadError) as err:
        fetch("file:data/sample/missing.txt", dest, base_dir=tmp_path, progress=False)
    assert f"no such file: {tmp_path / 'data/sample/missing.txt'}" in str(err.value)
    assert not dest.exists()


def test_file_checksum_mismatch(sample, tmp_path):
    dest = tmp_path / "raw" / "a.txt"
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        fetch(sample.as_uri(), dest, sha256=sha(b"other"), progress=False)
    assert leftovers(dest) == []


def test_file_source_is_dest(sample):
    assert fetch(sample.as_uri(), sample, sha256=sha(PAYLOAD), progress=False) == sample
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        fetch(sample.as_uri(), sample, sha256=sha(b"other"), progress=False)
    assert sample.read_bytes() == PAYLOAD  # never deletes its own source


@pytest.mark.parametrize("url", ["ftp://example.org/x", "s3://bucket/x", "http:///nohost"])
def test_unsupported_urls(url, tmp_path):
    with pytest.raises(DownloadError):
        fetch(url, tmp_path / "x", progress=False)


def test_bad_sha256_value(sample, tmp_path):
    with pytest.raises(ConfigError, match="64 hex digits"):
        fetch(sample.as_uri(), tmp_path / "x", sha256="abc", progress=False)


def test_sha256_file(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(PAYLOAD)
    assert sha256_file(p) == sha(PAYLOAD)


class _StubRaw:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, amt: int, decode_content: bool = True):
        yield from (self.data[i:i + amt] for i in range(0, len(self.data), amt))

    def close(self) -> None:
        pass


class _ShortBodySession:
    """First response ends early without any transport error (urllib3 < 2 did not enforce
    Content-Length); the resume then gets the rest."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def get(self, url, *, headers, stream, timeout):
        self.calls.append(dict(headers))
        resp = requests.Response()
        resp.url = url
        if "Range" not in headers:
            resp.status_code, resp.raw = 200, _StubRaw(PAYLOAD[:HALF])
            resp.headers["Content-Length"] = str(len(PAYLOAD))
        else:
            start = int(headers["Range"].removeprefix("bytes=").rstrip("-"))
            resp.status_code, resp.raw = 206, _StubRaw(PAYLOAD[start:])
            resp.headers["Content-Length"] = str(len(PAYLOAD) - start)
            resp.headers["Content-Range"] = f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}"
        return resp


def test_short_body_is_resumed(tmp_path):
    session = _ShortBodySession()
    dest = tmp_path / "data.bin"
    fetch("http://example.invalid/data.bin", dest, sha256=sha(PAYLOAD), session=session, **FAST)
    assert dest.read_bytes() == PAYLOAD
    assert [c.get("Range") for c in session.calls] == [None, f"bytes={HALF}-"]
