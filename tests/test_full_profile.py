"""Full-profile rehearsal: `dvc repro` with ``profile: full`` on a temporary copy of the repo, on a CPU.

Part of the extended tier (the default ``pytest`` leaves it out: pyproject's addopts
``-m "not extended"``); alone:

    pytest -m full_profile

What stands in for the outside world, so that the real full-profile code paths run offline:
- every upstream http(s) file of the full profile is served by a 127.0.0.1 HTTP server
  (tests/http_server.py) under the mirror layout ``<host>/<path>`` and fetched through
  ``download.mirror``; its bytes are the sample's file of the same source and path (the upstream
  formats). A full-profile file with a sha256 in params.yaml (a real upstream checksum) gets the
  served file's sha256 in the copy's params.yaml, per file: verification stays on;
- the licensed ``data/manual/<source>/`` files are the sample's files of the same path;
- every hub model that ``python -m kg_ml.models.hub`` lists is a tiny random-init twin with the
  same model_type and tokenizer class (tests/hub_twins.py) in a temporary Hugging Face cache
  (``HF_HOME``/``HF_HUB_CACHE``), with ``HF_HUB_OFFLINE=1``: the real ``from_pretrained(hub id)``;
- ``train_cap.max_steps`` caps every training stage (params.yaml, README "Full-profile rehearsal"),
  and ``REHEARSAL_PARAMS`` shrinks the evaluation sample counts that are sized for a GPU.
Every stage must complete and write its metrics.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from http_server import serve
from hub_twins import write_twins
from pipeline_copy import fresh_copy, sh

from kg_ml.download.mirror import mirror_path

pytestmark = [pytest.mark.full_profile, pytest.mark.extended]

REPO = Path(__file__).resolve().parents[1]
MAX_STEPS = 2
# Evaluation sizes of the full profile that only a GPU gets through (dotted params keys).
REHEARSAL_PARAMS = {
    "text_kg.kgt5.full.eval_queries": 20,
    "text_kg.kgt5.full.evaluate.num_samples": 8,
    "text_kg.kgt5.full.evaluate.max_triples": 10,
    "kard.full.inference.num_samples": 2,
    "kard.full.inference.max_new_tokens": 16,
}


def _set(raw: dict, dotted: str, value) -> None:
    *parents, leaf = dotted.split(".")
    node = raw
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value


def _sample_file(source: dict, path: str) -> Path:
    """The sample's file of ``source`` that lands at ``path``: it stands in for the full one."""
    sample = {f["path"]: REPO / f["url"].removeprefix("file:") for f in source["sample"]["files"]}
    return sample[path]


def stage_world(work: Path, raw: dict) -> dict[str, bytes]:
    """Place the manual files in ``work``, give real sha256s the served bytes' values in ``raw``,
    and return the mirror's files (URL path -> bytes) for every http(s) file of the full profile."""
    served = {}
    for name, source in raw["sources"].items():
        for f in source["full"]["files"]:
            body = _sample_file(source, f["path"]).read_bytes()
            if f["url"].startswith(("http://", "https://")):
                served["/" + "/".join(mirror_path(f["url"]))] = body
                if f.get("sha256"):
                    f["sha256"] = hashlib.sha256(body).hexdigest()
            elif f["url"].startswith("file:data/manual/"):
                target = work / f["url"].removeprefix("file:")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(body)
            else:
                raise AssertionError(f"{name}: full-profile file {f['url']} is neither http(s) nor manual")
    return served


def _hub_models(work: Path) -> list[str]:
    out = subprocess.run([sys.executable, "-m", "kg_ml.models.hub"], cwd=work, capture_output=True, text=True,
                         check=True).stdout
    return out.split()


def _texts() -> list[str]:
    """Tokenizer-training text for the twins: the sample's MedQA questions and options."""
    texts = []
    for line in (REPO / "data/sample/medqa/phrases_no_exclude_train.jsonl").read_text().splitlines():
        row = json.loads(line)
        texts += [row["question"], *row["options"].values()]
    return texts


def _metrics_files(work: Path) -> list[str]:
    """Every metrics file dvc.yaml declares, foreach stages expanded."""
    from dvc.repo import Repo

    repo = Repo(str(work))
    try:
        return sorted({m.def_path for s in repo.index.stages for m in s.metrics})
    finally:
        repo.close()


@pytest.fixture(scope="module")
def rehearsed(tmp_path_factory) -> Path:
    work = fresh_copy(tmp_path_factory.mktemp("repo"))
    hf = tmp_path_factory.mktemp("hf")
    raw = yaml.safe_load((work / "params.yaml").read_text())
    files = stage_world(work, raw)
    with serve(files) as server:
        raw["profile"] = "full"
        raw["download"]["mirror"] = server.base
        raw["train_cap"]["max_steps"] = MAX_STEPS
        for key, value in REHEARSAL_PARAMS.items():
            _set(raw, key, value)
        (work / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
        env = {"HF_HOME": str(hf), "HF_HUB_CACHE": str(hf / "hub"), "HF_HUB_OFFLINE": "1",
               "KG_ML_MIRROR": ""}
        write_twins(hf / "hub", _hub_models(work), _texts())
        start = time.perf_counter()
        res = sh(["dvc", "repro"], work, **env)
        took = time.perf_counter() - start
        (work / "repro.log").write_text(res.stdout + res.stderr + f"\ndvc repro: {took:.0f} s\n")
        print(f"full-profile rehearsal: dvc repro took {took:.0f} s ({work})")
        assert res.returncode == 0, res.stdout[-6000:] + res.stderr[-3000:]
        assert set(files) <= {r["path"] for r in server.state.requests}  # every upstream file came from it
    return work


def test_every_stage_ran_and_wrote_its_metrics(rehearsed: Path) -> None:
    status = sh(["dvc", "status", "--json"], rehearsed)
    assert status.returncode == 0 and json.loads(status.stdout or "{}") == {}, status.stdout
    for rel in _metrics_files(rehearsed):
        path = rehearsed / rel
        assert path.is_file() and json.loads(path.read_text()), rel


def test_downloads_came_through_the_mirror(rehearsed: Path) -> None:
    log = (rehearsed / "repro.log").read_text()
    assert "(mirror of https://s3.us-east-2.amazonaws.com/mrqa/release/v2/train/HotpotQA.jsonl.gz)" in log


def test_training_was_capped(rehearsed: Path) -> None:
    runs = [int(n) for n in re.findall(r"training (\d+) steps from step 0", (rehearsed / "repro.log").read_text())]
    assert runs and max(runs) <= MAX_STEPS, runs
