"""Every training stage of the sample under ``torchrun --nproc_per_node 2`` (extended tier: it needs
its own `dvc repro` of the sample and ~4 min on 2 cores; `pytest -m extended`, run by .ci/run)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest
import yaml
from pipeline_copy import sh
from test_training_ddp import _free_port

pytestmark = pytest.mark.extended

# Each training stage and the params section of its training loop.
TRAINING = {"pretrain": "kg_lm.pretrain.train", "finetune_medqa@kg": "kg_lm.medqa.train",
            "finetune_medqa@text": "kg_lm.medqa.train", "distill@medqa": "kard.train",
            "train_reranker": "retrieval.reranker.train", "train@kgt5": "text_kg.kgt5.train",
            "finetune@hotpotqa": "text_kg.hotpotqa.train", "finetune@kgqa": "text_kg.kgqa.train",
            "finetune_joint": "joint.train"}


def test_every_training_stage_runs_under_torchrun_and_rank_0_alone_writes(reproduced: Path, tmp_path: Path) -> None:
    """Each training stage of the sample, 2 steps under ``torchrun --nproc_per_node 2`` (gloo): it
    trains with 2 processes, only rank 0 writes files, and its metrics have the keys of the
    1-process run. (Equality with one process at the same global batch: tests/test_stage_torchrun.py.)"""
    params = yaml.safe_load((reproduced / "params.yaml").read_text())
    for section in set(TRAINING.values()):
        node = params
        for key in section.split("."):
            node = node[key]
        node.update(max_steps=2, eval_every=0)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    lock = yaml.safe_load((reproduced / "dvc.lock").read_text())["stages"]
    for name in TRAINING:
        outs = {o["path"] for o in lock[name]["outs"]}
        argv = [str(tmp_path / name / a) if a in outs else a for a in shlex.split(lock[name]["cmd"])[1:]]
        metrics = next(a for a in argv if a.endswith(".json"))
        port = _free_port()
        writes = tmp_path / f"{name}.writes"
        res = sh([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr",
                   "127.0.0.1", "--master_port", str(port), *argv, "--params", str(tmp_path / "params.yaml")],
                  reproduced, KG_ML_WRITE_LOG=str(writes))
        assert res.returncode == 0, f"{name}: {res.stderr[-3000:]}"
        assert "2 process(es)" in res.stderr + res.stdout, name
        ranks = {line.split("\t")[0] for line in writes.read_text().splitlines()}
        assert ranks == {"0"}, f"{name}: files written by ranks {sorted(ranks)}"
        one_process = json.loads((reproduced / next(o for o in outs if o.endswith(".json"))).read_text())
        assert set(json.loads(Path(metrics).read_text())) == set(one_process), name
