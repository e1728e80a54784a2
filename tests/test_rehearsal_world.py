"""The full-profile rehearsal's stand-ins (tests/test_full_profile.py), checked in the default suite:
hub twins load by hub id from an offline cache with the upstream model_type and tokenizer class,
and the staged world serves every upstream file, places the manual ones and keeps sha256s checked."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import yaml
from hub_twins import write_twins
from test_full_profile import stage_world

REPO = Path(__file__).resolve().parents[1]
UPSTREAM_CLASSES = {"bert-base-uncased": ("bert", "BertTokenizer"),
                    "roberta-large": ("roberta", "RobertaTokenizer"),
                    "google/flan-t5-base": ("t5", "T5Tokenizer")}


def test_twins_load_by_hub_id_offline_like_the_upstream_models(tmp_path: Path) -> None:
    texts = ["The patient has a fever and a cough.", "Which drug treats the infection?"] * 20
    write_twins(tmp_path / "hub", UPSTREAM_CLASSES, texts)
    code = """
import json, sys
from transformers import AutoConfig, AutoTokenizer
out = {}
for model in sys.argv[1:]:
    tok = AutoTokenizer.from_pretrained(model)
    out[model] = [AutoConfig.from_pretrained(model).model_type, type(tok).__name__,
                  tok.convert_ids_to_tokens(tok("a fever").input_ids)[-1], len(tok)]
print(json.dumps(out))
"""
    env = {"HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    res = subprocess.run([sys.executable, "-c", code, *UPSTREAM_CLASSES], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout.splitlines()[-1])
    for model, (model_type, tokenizer) in UPSTREAM_CLASSES.items():
        assert got[model][:2] == [model_type, tokenizer], model
    assert got["bert-base-uncased"][2] == "[SEP]" and got["roberta-large"][2] == "</s>"
    assert got["google/flan-t5-base"][2] == "</s>"


def test_world_serves_upstream_files_places_manual_ones_and_swaps_real_checksums(tmp_path: Path) -> None:
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    upstream = raw["sources"]["hotpotqa"]["full"]["files"][0]
    upstream["sha256"] = "0" * 64  # a real upstream checksum stands here
    before = copy.deepcopy(raw)
    served = stage_world(tmp_path, raw)
    key = "/s3.us-east-2.amazonaws.com/mrqa/release/v2/train/HotpotQA.jsonl.gz"
    assert served[key] == (REPO / "data/sample/hotpotqa/train/HotpotQA.jsonl.gz").read_bytes()
    assert upstream["sha256"] == hashlib.sha256(served[key]).hexdigest()
    assert "/www.dropbox.com/s/6sbhm0rwo4l73jq/wikidata5m_transductive.tar.gz" in served  # query dropped
    for name, source in before["sources"].items():
        for old, new in zip(source["full"]["files"], raw["sources"][name]["full"]["files"]):
            if old["url"].startswith("file:data/manual/"):
                assert (tmp_path / old["url"].removeprefix("file:")).is_file(), old["url"]
            assert bool(new.get("sha256")) == bool(old.get("sha256")), old["url"]  # unknown stays unchecked
