"""finetune_joint on tiny inputs: the stage trains a few mixed steps through the shared loop and writes
its own per-task test metrics (the report compares them with the single-task runs); adapter mode
trains adapters and heads only."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from safetensors.torch import load_file
from test_kg_lm_toy import one_thread, tiny_params, toy_world

from kg_ml.cli import run
from kg_ml.io import write_parquet
from kg_ml.multitask.config import JointParams
from kg_ml.pretraining.run import pretrain
from kg_ml.sources.hotpotqa import SCHEMA as HOTPOTQA_SCHEMA
from kg_ml.sources.kgqa import SCHEMA as KGQA_SCHEMA
from kg_ml.sources.wikidata5m import ENTITIES_SCHEMA, RELATIONS_SCHEMA, TRIPLES_SCHEMA

REPO = Path(__file__).resolve().parents[1]
PEOPLE = ["Ada Lund", "Finn Castell", "Bea Jansen", "Lars Nagel", "Eva Holm", "Ivan Moreau"]
PLACES = ["Irholm", "Sæstad", "Kesford"]
JOBS = ["physician", "singer"]


def _write(path: Path, rows: dict, schema: pa.Schema) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_parquet(pa.Table.from_pydict(rows, schema=schema), path)


def _kg_and_questions(root: Path) -> None:
    """A six-person KG (birthplace, occupation) and KGQA questions over it."""
    names = PEOPLE + PLACES + JOBS
    ents = {"id": [f"Q{i}" for i in range(len(names))], "name": names, "aliases": [[n] for n in names],
            "display_name": names}
    _write(root / "wikidata5m/entities.parquet", ents, ENTITIES_SCHEMA)
    _write(root / "wikidata5m/relations.parquet", {"id": ["P19", "P106"], "name": ["place of birth", "occupation"],
                                                   "aliases": [["born in"], ["job"]]}, RELATIONS_SCHEMA)
    born = {p: PLACES[i % 3] for i, p in enumerate(PEOPLE)}
    job = {p: JOBS[i % 2] for i, p in enumerate(PEOPLE)}
    q = {n: f"Q{i}" for i, n in enumerate(names)}
    triples = [(q[p], "P19", q[born[p]]) for p in PEOPLE] + [(q[p], "P106", q[job[p]]) for p in PEOPLE]
    for split, part in (("train", triples[:-2]), ("valid", triples[-2:-1]), ("test", triples[-1:])):
        _write(root / f"wikidata5m/triples_{split}.parquet",
               {c: [t[i] for t in part] for i, c in enumerate(TRIPLES_SCHEMA.names)}, TRIPLES_SCHEMA)
    rows = [(f"where was [{p}] born", p, [born[p]]) for p in PEOPLE] + \
           [(f"what is the occupation of [{p}]", p, [job[p]]) for p in PEOPLE]
    for split, part in (("train", rows[::2]), ("dev", rows[1::4]), ("test", rows[3::4])):
        _write(root / f"kgqa/{split}.parquet", {"id": [f"{split}-{i}" for i in range(len(part))],
                                                "question": [r[0] for r in part], "topic_entity": [r[1] for r in part],
                                                "answers": [r[2] for r in part], "split": [split] * len(part)}, KGQA_SCHEMA)


def _hotpotqa(root: Path) -> None:
    for split, people in (("train", PEOPLE), ("dev", PEOPLE[:2]), ("test", PEOPLE[2:4])):
        rows = {k: [] for k in HOTPOTQA_SCHEMA.names}
        for i, p in enumerate(people):
            place = PLACES[i % 3]
            context = f"[PAR] [TLE] {p} [SEP] {p} is a singer. {p} was born in {place} long ago."
            rows["id"].append(f"{split}{i}")
            rows["question"].append(f"Where was {p} born?")
            rows["context"].append(context)
            rows["answers"].append({"text": [place], "answer_start": [context.index(place)]})
            rows["gold_answers"].append([place])
            rows["split"].append(split)
        _write(root / f"hotpotqa/{split}.parquet", rows, HOTPOTQA_SCHEMA)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The toy MedQA world with a pretrained tiny KG-LM and tiny HotpotQA / KGQA data."""
    w = toy_world(tmp_path_factory.mktemp("joint"))
    params = tiny_params()
    with one_thread():
        pretrain(params, grounded_dir=w.grounded_corpus, graphs_dir=w.graphs_corpus, embeddings=w.embeddings,
                 out_dir=w.root / "pretrain")
    _kg_and_questions(w.root / "prepared")
    _hotpotqa(w.root / "prepared")
    return w


def _joint(**overrides) -> dict:
    joint = {"tasks": ["medqa", "hotpotqa", "kgqa"],
             "mixing": {"strategy": "round_robin", "batch_size": {"medqa": 4, "hotpotqa": 4, "kgqa": 2}},
             "hotpotqa": {"max_seq_length": 48, "doc_stride": 8, "max_query_length": 16},
             "kgqa": {"max_length": 16, "name_tokens": 4}, "eval_batch_size": 8,
             "train": {"max_steps": 4, "lr": 3e-3, "eval_every": 2, "metric_for_best": "score", "log_every": 2}}
    return joint | overrides


def _run_stage(world, tmp_path: Path, joint: dict) -> tuple[int, Path]:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["kg_lm"] = tiny_params().model_dump(mode="json", exclude={"full"})
    params["joint"] = joint
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    spec = importlib.util.spec_from_file_location("stage_finetune_joint", REPO / "stages" / "finetune_joint.py")
    stage = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stage)
    r, p = world.root, world.root / "prepared"
    code = run(stage.main, stage.parser(), [
        "--params", str(tmp_path / "params.yaml"), "--medqa", str(world.questions), "--graphs", str(world.graphs),
        "--embeddings", str(world.embeddings), "--hotpotqa", str(p / "hotpotqa"), "--kgqa", str(p / "kgqa"),
        "--kg", str(p / "wikidata5m"), "--pretrained", str(r / "pretrain"), "--out", str(tmp_path / "model"),
        "--checkpoints", str(tmp_path / "ckpt"), "--plots", str(tmp_path / "plots"),
        "--metrics", str(tmp_path / "joint.json")])
    return code, tmp_path


def test_joint_stage_trains_mixed_steps_and_writes_its_own_metrics(world, tmp_path):
    code, out = _run_stage(world, tmp_path, _joint())
    assert code == 0
    metrics = json.loads((out / "joint.json").read_text())
    assert set(metrics) == {"joint", "baselines", "dev", "train"}  # single-task numbers: the report's job
    joint = metrics["joint"]
    assert set(joint) == {"medqa", "hotpotqa", "kgqa"}
    assert 0 <= joint["medqa"]["test_accuracy"] <= 1 and 0 <= joint["kgqa"]["hits@1"] <= 1
    assert 0 <= joint["hotpotqa"]["exact_match"] <= joint["hotpotqa"]["f1"] <= 100
    train = metrics["train"]
    assert train["steps"] == 4 and train["adapters"] == 0 and train["trainable_share"] == 1.0
    # Round-robin over three tasks: every task got a micro-batch, four in all.
    assert sum(train[f"micro_batches_{t}"] for t in joint) == 4 and all(train[f"micro_batches_{t}"] for t in joint)
    assert 0 < metrics["baselines"]["kgqa"]["random_candidate_hits@1"] <= 1
    assert {"medqa_accuracy", "hotpotqa_f1", "kgqa_hits@1", "score"} <= set(metrics["dev"])
    assert (out / "model/model.safetensors").is_file() and (out / "model/tokenizer.json").is_file()
    assert (out / "plots/plots/metrics/train/loss.tsv").is_file()
    assert (out / "plots/plots/metrics/eval/score.tsv").is_file()


def _unwrapped(name: str) -> str:
    """An encoder weight's name before `add_adapters` wrapped its layer (``layer.0.layer.x`` -> ``layer.0.x``)."""
    return re.sub(r"(layer\.\d+)\.layer\.", r"\1.", name)


def test_adapter_mode_trains_adapters_and_heads_only(world, tmp_path):
    code, out = _run_stage(world, tmp_path, _joint(adapters={"enabled": True, "default_bottleneck": 4,
                                                             "bottleneck": {"medqa": 2}}))
    assert code == 0
    train = json.loads((out / "joint.json").read_text())["train"]
    assert train["adapters"] == 1 and 0 < train["trainable_share"] < 0.10
    saved = load_file(str(out / "model/model.safetensors"))
    pretrained = load_file(str(world.root / "pretrain/model.safetensors"))
    adapters = [k for k in saved if k.startswith("task_adapters.")]
    assert {k.split(".")[2] for k in adapters if k.startswith("task_adapters.adapters.")} == {"medqa", "hotpotqa", "kgqa"}
    assert saved["task_adapters.adapters.medqa.0.down.weight"].shape[0] == 2
    # Adapters moved away from their identity init; every backbone weight is the pretrained one.
    assert any(saved[k].abs().sum() > 0 for k in adapters if ".up." in k)
    backbone = [k for k in saved if k.startswith("kg_lm.")]
    assert backbone
    for k in backbone:
        assert (saved[k] == pretrained[_unwrapped(k)]).all(), k


def test_train_kg_unfreezes_the_graph_side_only():
    from kg_ml.models.factory import encoder_config, kg_lm_config, load_tokenizer
    from kg_ml.models.kg_lm import KGLMForMultipleChoice
    from kg_ml.multitask.config import AdapterParams
    from kg_ml.multitask.model import JointModel

    model_params = tiny_params().model
    encoder = encoder_config(model_params, load_tokenizer(model_params))
    mc = KGLMForMultipleChoice(kg_lm_config(model_params, encoder, use_kg=True, node_feature_dim=8, num_edge_types=8))
    model = JointModel.from_multiple_choice(mc, ["medqa", "kgqa"], num_relation_ids=5)
    model.add_adapters(AdapterParams(enabled=True, default_bottleneck=4), train_kg=True)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert {n.split(".")[1] for n in trainable if n.startswith("kg_lm.")} == {"node_encoder", "gnn", "fusion",
                                                                              "pool_query", "pool_key"}
    assert not any(n.startswith("kg_lm.encoder.") for n in trainable)
    assert any(n.startswith("task_adapters.") for n in trainable) and any(n.startswith("heads.kgqa.") for n in trainable)


def test_windows_longer_than_the_encoder_fail_in_one_line(world, tmp_path, capsys):
    code, _ = _run_stage(world, tmp_path, _joint(hotpotqa={"max_seq_length": 96, "doc_stride": 8}))
    assert code == 1
    assert "joint.hotpotqa.max_seq_length: 96 exceeds the encoder's 64 positions" in capsys.readouterr().err
    assert not (tmp_path / "joint.json").exists()


def test_joint_params_are_checked():
    with pytest.raises(ValueError, match="per-task micro-batch"):
        JointParams.model_validate(_joint(train={"batch_size": 8}))
    with pytest.raises(ValueError, match="unknown task"):
        JointParams.model_validate(_joint(mixing={"batch_size": {"squad": 4}}))
    with pytest.raises(ValueError, match="doc_stride"):
        JointParams.model_validate(_joint(hotpotqa={"max_seq_length": 32, "doc_stride": 20, "max_query_length": 16}))
