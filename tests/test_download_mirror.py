"""Download mirrors: ``<mirror>/<host>/<path>`` for every upstream http(s) file, filled by
``python -m kg_ml.download --mirror-to DIR`` and read through ``KG_ML_MIRROR`` or params
``download.mirror``. A fake upstream and the mirrors are tests/http_server.py on 127.0.0.1."""

from __future__ import annotations

import copy
import hashlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from http_server import serve

from kg_ml.config import load_params
from kg_ml.download.mirror import active_mirror, mirror_url
from kg_ml.download.source import download_source
from kg_ml.errors import ConfigError, DownloadError

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
RAW_PARAMS = yaml.safe_load((REPO / "params.yaml").read_text())


def _upstream_files() -> dict[str, Path]:
    """Upstream path (with query) of every http(s) file of the full profile -> the sample file of
    the same source and path, which stands in for it (the real formats)."""
    files = {}
    for source in RAW_PARAMS["sources"].values():
        sample = {f["path"]: REPO / f["url"].removeprefix("file:") for f in source["sample"]["files"]}
        for f in source["full"]["files"]:
            if f["url"].startswith("http"):
                files["/" + f["url"].split("/", 3)[3]] = sample[f["path"]]
    return files


UPSTREAM = _upstream_files()
MANUAL = [n for n, s in RAW_PARAMS["sources"].items() if s["full"].get("manual")]


def _mirror_key(upstream_path: str) -> str:
    """The path under a mirror of ``http://127.0.0.1:<port><upstream_path>``."""
    return "127.0.0.1" + upstream_path.split("?")[0]


@pytest.fixture(autouse=True)
def _no_env_mirror(monkeypatch) -> None:
    monkeypatch.delenv("KG_ML_MIRROR", raising=False)


@pytest.fixture(scope="module")
def upstream_bytes() -> dict[str, bytes]:
    return {path: file.read_bytes() for path, file in UPSTREAM.items()}


def _params(tmp_path: Path, base: str, *, sha256: bool = True, mirror: str | None = None,
            name: str = "params.yaml") -> Path:
    """params.yaml whose full-profile http(s) URLs all point at the fake upstream ``base``."""
    data = copy.deepcopy(RAW_PARAMS)
    for source in data["sources"].values():
        for f in source["full"]["files"]:
            if f["url"].startswith("http"):
                path = "/" + f["url"].split("/", 3)[3]
                f["url"] = base + path
                f["sha256"] = hashlib.sha256(UPSTREAM[path].read_bytes()).hexdigest() if sha256 else None
    data["download"] = {"mirror": mirror}
    text = yaml.safe_dump(data)
    assert "https://" not in text  # never the real internet
    p = tmp_path / name
    p.write_text(text)
    return p


def _fill(params: Path, mirror_dir: Path, *sources: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kg_ml.download", "--mirror-to", str(mirror_dir),
                           "--params", str(params), "--no-progress",
                           *(("--source", *sources) if sources else ())],
                          cwd=params.parent, capture_output=True, text=True)


@dataclass
class Filled:
    mirror_dir: Path
    params: Path  # full-profile URLs of hotpotqa and wikidata5m on the (stopped) upstream
    upstream: str
    first: subprocess.CompletedProcess
    again: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def filled(tmp_path_factory, upstream_bytes):
    """A mirror directory filled from the fake upstream (which is gone afterwards)."""
    tmp = tmp_path_factory.mktemp("mirror")
    with serve(upstream_bytes) as upstream:
        params = _params(tmp, upstream.base)
        res = _fill(params, tmp / "mirror")
        first_requests = len(upstream.state.requests)
        again = _fill(params, tmp / "mirror", "hotpotqa")
        assert len(upstream.state.requests) == first_requests  # checked copies are kept
    return Filled(tmp / "mirror", params, upstream.base, res, again)


def test_mirror_layout_is_host_then_upstream_path(tmp_path) -> None:
    url = "https://s3.us-east-2.amazonaws.com/mrqa/release/v2/train/HotpotQA.jsonl.gz"
    assert mirror_url(url, "https://mirror.example.org/kg") == \
        "https://mirror.example.org/kg/s3.us-east-2.amazonaws.com/mrqa/release/v2/train/HotpotQA.jsonl.gz"
    assert mirror_url("https://www.dropbox.com/s/7jp/wikidata5m_text.txt.gz?dl=1", "http://m:8080") == \
        "http://m:8080/www.dropbox.com/s/7jp/wikidata5m_text.txt.gz"
    local = (tmp_path / "www.dropbox.com/s/7jp/a b.gz").as_uri()
    assert mirror_url("https://www.dropbox.com/s/7jp/a%20b.gz?dl=1", str(tmp_path)) == local
    assert mirror_url("https://www.dropbox.com/s/7jp/a%20b.gz", tmp_path.as_uri()) == local
    assert mirror_url("https://www.dropbox.com/s/7jp/a%20b.gz", "file:m", tmp_path.parent) == \
        (tmp_path.parent / "m/www.dropbox.com/s/7jp/a b.gz").as_uri()
    assert mirror_url("file:data/manual/medqa/x.jsonl", str(tmp_path)) is None  # never rewritten
    with pytest.raises(ConfigError, match="cannot be mirrored"):
        mirror_url("https://example.org/a/../b", str(tmp_path))


def test_environment_overrides_the_param(monkeypatch) -> None:
    assert active_mirror("/srv/param") == "/srv/param"
    monkeypatch.setenv("KG_ML_MIRROR", "https://mirror.example.org/")
    assert active_mirror("/srv/param") == "https://mirror.example.org"
    monkeypatch.setenv("KG_ML_MIRROR", "ftp://mirror.example.org")
    with pytest.raises(ConfigError, match="KG_ML_MIRROR: must be an http"):
        active_mirror(None)


@pytest.mark.parametrize("value", ["ftp://mirror.example.org", "https://", "https://m.org/x?a=1", ""])
def test_bad_mirror_param_fails_in_one_line(tmp_path, value) -> None:
    data = yaml.safe_load((REPO / "params.yaml").read_text())
    assert data["download"] == {"mirror": None}
    data["download"]["mirror"] = value
    p = tmp_path / "params.yaml"
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"field 'download.mirror'") as e:
        load_params(p)
    assert "\n" not in str(e.value)


def test_mirror_to_writes_every_http_file_under_the_layout(filled, upstream_bytes) -> None:
    mirror_dir, res, again = filled.mirror_dir, filled.first, filled.again
    assert res.returncode == 0, res.stderr
    for path, body in upstream_bytes.items():
        assert (mirror_dir / _mirror_key(path)).read_bytes() == body
    assert not list(mirror_dir.rglob("*.part*"))
    assert sorted(p.relative_to(mirror_dir).as_posix() for p in mirror_dir.rglob("*") if p.is_file()) == \
        sorted(_mirror_key(p) for p in UPSTREAM)
    out = res.stdout
    assert out.count("wrote") == len(UPSTREAM)
    assert f"{len(UPSTREAM)} files written, 0 already present, 0 failed" in out
    assert f"need a manual download (not mirrored): {', '.join(MANUAL)}\n" in out and MANUAL
    assert again.returncode == 0 and "0 files written, 2 already present" in again.stdout


def test_download_source_reads_the_filled_mirror(filled, tmp_path) -> None:
    mirror_dir, params_path = filled.mirror_dir, filled.params
    params = load_params(params_path)  # its upstream server is gone: only the mirror can answer
    files = download_source("wikidata5m", params.source("wikidata5m", "full"), tmp_path / "raw",
                            cache_dir=tmp_path / "cache", progress=False, mirror=str(mirror_dir))
    names = {p.name for p in files}
    assert {"wikidata5m_transductive_train.txt", "wikidata5m_entity.txt", "wikidata5m_text.txt.gz"} <= names
    assert (tmp_path / "raw/wikidata5m_text.txt.gz").read_bytes() == \
        (SAMPLE / "wikidata5m/wikidata5m_text.txt.gz").read_bytes()


def test_download_source_reads_an_http_mirror(filled, tmp_path, upstream_bytes) -> None:
    params = load_params(filled.params)
    with serve({"/kg/" + _mirror_key(p): b for p, b in upstream_bytes.items()}) as mirror:
        files = download_source("hotpotqa", params.source("hotpotqa", "full"), tmp_path / "raw",
                                cache_dir=tmp_path / "cache", progress=False, mirror=mirror.url("/kg"))
        served = sorted(r["path"] for r in mirror.state.requests)
    assert served == sorted("/kg/" + _mirror_key(p) for p in UPSTREAM if "mrqa" in p)
    assert sorted(p.relative_to(tmp_path / "raw").as_posix() for p in files) == \
        ["dev/HotpotQA.jsonl.gz", "train/HotpotQA.jsonl.gz"]


@pytest.mark.parametrize("how", ["env", "param"])
def test_download_stage_fetches_through_the_mirror(filled, tmp_path, run_stage, monkeypatch, how) -> None:
    mirror_dir = filled.mirror_dir
    if how == "env":
        monkeypatch.setenv("KG_ML_MIRROR", str(mirror_dir))
        params = filled.params
    else:
        params = _params(tmp_path, filled.upstream, mirror=str(mirror_dir), name="mirrored.yaml")
    res = run_stage("download", "--source", "hotpotqa", "--profile", "full", "--params", str(params),
                    "--out", str(tmp_path / "raw"), "--cache-dir", str(tmp_path / "c"), "--no-progress",
                    cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "raw/train/HotpotQA.jsonl.gz").read_bytes() == \
        (SAMPLE / "hotpotqa/train/HotpotQA.jsonl.gz").read_bytes()
    dev = mirror_dir / "127.0.0.1/mrqa/release/v2/dev/HotpotQA.jsonl.gz"
    assert f"fetching {dev.as_uri()}" in res.stderr


def test_mirror_404_is_one_line_naming_both_urls(filled, tmp_path, run_stage, upstream_bytes,
                                                 monkeypatch) -> None:
    params_path = filled.params
    files = yaml.safe_load(params_path.read_text())["sources"]["hotpotqa"]["full"]["files"]
    upstream_dev = next(f["url"] for f in files if "/dev/" in f["url"])
    train_only = {"/" + _mirror_key(p): b for p, b in upstream_bytes.items() if "train/Hotpot" in p}
    with serve(train_only) as mirror:
        monkeypatch.setenv("KG_ML_MIRROR", mirror.base)
        res = run_stage("download", "--source", "hotpotqa", "--profile", "full",
                        "--params", str(params_path), "--out", str(tmp_path / "raw"),
                        "--cache-dir", str(tmp_path / "c"), "--no-progress", cwd=tmp_path)
    assert res.returncode == 1
    lines = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and lines[0] == res.stderr.strip().splitlines()[-1]
    line = lines[0]
    dev_in_mirror = mirror.url("/" + _mirror_key("/mrqa/release/v2/dev/HotpotQA.jsonl.gz"))
    assert line.startswith(f"error: {dev_in_mirror}: HTTP 404: the mirror has no copy of ")
    assert upstream_dev in line and "python -m kg_ml.download --mirror-to DIR --source hotpotqa" in line
    assert not (tmp_path / "raw").exists()


def test_missing_file_in_a_directory_mirror_names_it(filled, tmp_path) -> None:
    spec = load_params(filled.params).source("hotpotqa", "full")
    with pytest.raises(DownloadError, match="the mirror has no copy of http://127.0.0.1:") as e:
        download_source("hotpotqa", spec, tmp_path / "raw", cache_dir=tmp_path / "c", progress=False,
                        mirror=str(tmp_path / "empty"))
    assert f"--mirror-to {tmp_path / 'empty'} --source hotpotqa" in str(e.value)
    assert str(e.value).startswith((tmp_path / "empty/127.0.0.1/mrqa/release/v2/train").as_uri())


def test_checksum_mismatch_from_a_mirror_fails(filled, tmp_path, upstream_bytes) -> None:
    spec = load_params(filled.params).source("hotpotqa", "full")
    tampered = {"/" + _mirror_key(p): b + b"x" for p, b in upstream_bytes.items()}
    with serve(tampered) as mirror, pytest.raises(DownloadError, match="sha256 mismatch") as e:
        download_source("hotpotqa", spec, tmp_path / "raw", cache_dir=tmp_path / "c", progress=False,
                        mirror=mirror.base)
    assert "the mirror's copy of http://127.0.0.1:" in str(e.value)
    assert not (tmp_path / "raw").exists() and not list((tmp_path / "c").iterdir())


def test_mirror_to_checks_sha256_and_keeps_going(tmp_path, upstream_bytes) -> None:
    broken = {p: (b + b"x" if "dev/Hotpot" in p else b) for p, b in upstream_bytes.items()}
    with serve(broken) as upstream:
        res = _fill(_params(tmp_path, upstream.base), tmp_path / "mirror", "hotpotqa", "kgqa")
    assert res.returncode == 1
    assert "failed   hotpotqa: " in res.stdout and "sha256 mismatch" in res.stdout
    assert "1 files written, 0 already present, 1 failed" in res.stdout
    assert "need a manual download (not mirrored): kgqa" in res.stdout
    assert res.stderr.strip().splitlines()[-1] == \
        "error: 1 of 2 files failed (listed above); run the command again to resume them"
    assert not (tmp_path / "mirror" / _mirror_key("/mrqa/release/v2/dev/HotpotQA.jsonl.gz")).exists()


def test_mirror_to_help() -> None:
    res = subprocess.run([sys.executable, "-m", "kg_ml.download", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "--mirror-to DIR" in res.stdout and "--source" in res.stdout


def test_params_without_a_download_section_default_to_no_mirror(tmp_path) -> None:
    data = copy.deepcopy(yaml.safe_load((REPO / "params.yaml").read_text()))
    del data["download"]
    p = tmp_path / "params.yaml"
    p.write_text(yaml.safe_dump(data))
    assert load_params(p).download.mirror is None
