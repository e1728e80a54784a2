"""finetune_joint: MedQA, HotpotQA and KGQA heads on one KG-LM encoder, trained by the shared loop
on a mixed schedule, then scored per task on the test splits (the report sets these beside the
single-task numbers)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from kg_ml.errors import ConfigError
from kg_ml.graphs.dataset import SubgraphDataset, graph_shape
from kg_ml.io.metrics import rounded, rounded_all
from kg_ml.kgt5.kg import load_kg
from kg_ml.models.factory import finetune_config, multiple_choice_model, resume_key
from kg_ml.models.params import ModelParams
from kg_ml.multitask.config import JointParams
from kg_ml.multitask.evaluate import SpanSplit, Split, evaluate_split, first_entity_scores, score
from kg_ml.multitask.kgqa import KgqaCollator, KgqaDataset, entity_names, num_relation_ids
from kg_ml.multitask.mixing import TaskMixer
from kg_ml.multitask.model import JointModel, parameter_counts
from kg_ml.multitask.steps import JointCollate, MixedSteps, planned_steps, weighted_loss
from kg_ml.qa.data import read_examples
from kg_ml.qa.features import Windows, eval_features, train_features
from kg_ml.qa.model import SpanCollate
from kg_ml.tasks.medqa import MedqaCollator, MedqaDataset
from kg_ml.training import train

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class JointInputs:
    """Where the tasks' prepared data, the MedQA subgraphs with their concept embeddings and the
    pretrained KG-LM are (the stage passes every path)."""

    medqa: Path
    medqa_graphs: Path
    embeddings: Path
    hotpotqa: Path
    kgqa: Path
    kg: Path
    pretrained: Path


def _build_model(joint: JointParams, model: ModelParams, inputs: JointInputs, num_rel: int, offline: bool):
    """The shared encoder (pretrained KG-LM or fresh), its tokenizer and the heads."""
    use_kg = joint.use_kg and "medqa" in joint.tasks
    shape = graph_shape(inputs.medqa_graphs, inputs.embeddings) if use_kg else (1, 1)
    tokenizer, config = finetune_config(model, init=joint.init, pretrained_dir=inputs.pretrained,
                                        use_kg=use_kg, graph_shape=shape, offline=offline, init_key="joint.init")
    positions = config.encoder.get("max_position_embeddings") or config.encoder.get("n_positions")
    if "hotpotqa" in joint.tasks and positions and joint.hotpotqa.max_seq_length > positions:
        raise ConfigError(f"joint.hotpotqa.max_seq_length: {joint.hotpotqa.max_seq_length} exceeds the encoder's "
                          f"{positions} positions")
    # the fresh heads (and the encoder with init: encoder) are drawn from joint.train.seed
    mc = multiple_choice_model(model, config, init=joint.init, pretrained_dir=inputs.pretrained,
                               seed=joint.train.seed, offline=offline)
    return JointModel.from_multiple_choice(mc, list(joint.tasks), num_rel), tokenizer, use_kg


def _medqa_split(split: str, inputs: JointInputs, tokenizer, max_length: int, use_kg: bool) -> MedqaDataset:
    graphs = SubgraphDataset(inputs.medqa_graphs / f"{split}.parquet", inputs.embeddings) if use_kg else None
    return MedqaDataset(inputs.medqa / f"{split}.parquet", tokenizer, max_length, graphs)


def _span_split(split: str, inputs: JointInputs, tokenizer, windows: Windows) -> SpanSplit:
    rows = read_examples(inputs.hotpotqa / f"{split}.parquet")
    return SpanSplit(rows, eval_features(tokenizer, rows.questions, rows.contexts, windows))


def _kgqa_split(split: str, inputs: JointInputs, kg, tokenizer, joint: JointParams, *,
                answerable_only: bool = False) -> KgqaDataset:
    return KgqaDataset(inputs.kgqa / f"{split}.parquet", kg, tokenizer, joint.kgqa.max_length,
                       joint.kgqa.candidates, answerable_only=answerable_only)


def finetune_joint(joint: JointParams, model_params: ModelParams, *, inputs: JointInputs, out_dir: Path,
                   checkpoint_dir: Path | None = None, log_dir: Path | None = None,
                   offline: bool = True) -> dict[str, Any]:
    """Train the joint model (best step by the mean dev score), evaluate it on test, return metrics."""
    tasks = list(joint.tasks)
    kg = load_kg(inputs.kg) if "kgqa" in tasks else None
    model, tokenizer, use_kg = _build_model(joint, model_params, inputs, num_relation_ids(kg) if kg else 1, offline)
    windows = Windows(joint.hotpotqa.max_seq_length, joint.hotpotqa.doc_stride, joint.hotpotqa.max_query_length)
    max_length = model_params.max_length

    train_sets: dict[str, tuple[Any, Any]] = {}
    dev, test = Split(), Split()
    files: list[Path] = []
    if "medqa" in tasks:
        train_sets["medqa"] = (ds := _medqa_split("train", inputs, tokenizer, max_length, use_kg),
                               MedqaCollator(ds.pad_token_id))
        dev.medqa, test.medqa = (_medqa_split(s, inputs, tokenizer, max_length, use_kg) for s in ("dev", "test"))
        files += [inputs.medqa / "train.parquet"] + ([inputs.medqa_graphs / "train.parquet"] if use_kg else [])
    if "hotpotqa" in tasks:
        rows = read_examples(inputs.hotpotqa / "train.parquet")
        starts, texts = rows.first_answers(inputs.hotpotqa / "train.parquet")
        feats = train_features(tokenizer, rows.questions, rows.contexts, starts, texts, windows)
        train_sets["hotpotqa"] = (feats, SpanCollate(tokenizer))
        dev.hotpotqa, test.hotpotqa = (_span_split(s, inputs, tokenizer, windows) for s in ("dev", "test"))
        files.append(inputs.hotpotqa / "train.parquet")
    if "kgqa" in tasks:
        ids, mask = entity_names(kg, tokenizer, joint.kgqa.name_tokens)
        model.heads["kgqa"].set_entities(ids, mask)
        ds = _kgqa_split("train", inputs, kg, tokenizer, joint, answerable_only=True)
        train_sets["kgqa"] = (ds, KgqaCollator(ds.pad_token_id))
        dev.kgqa, test.kgqa = (_kgqa_split(s, inputs, kg, tokenizer, joint) for s in ("dev", "test"))
        files += [inputs.kgqa / "train.parquet", inputs.kg / "entities.parquet"]
    if joint.init == "pretrained":
        files.append(inputs.pretrained / "model.safetensors")
    if joint.adapters.enabled:
        model.add_adapters(joint.adapters, train_kg=joint.adapters.train_kg)
    counts = parameter_counts(model)

    mixer = TaskMixer({t: len(d) for t, (d, _) in train_sets.items()}, joint.mixing)
    steps = planned_steps(mixer, joint.train.epochs, joint.train.max_steps)
    schedule = MixedSteps(mixer, steps * joint.train.grad_accum)
    log.info("joint: %d steps, micro-batches per task %s, train sizes %s, %s of %s parameters trainable",
             steps, schedule.task_counts(), mixer.sizes, counts["trainable_parameters"], counts["parameters"])
    # The loop sees one epoch of scheduled micro-batches, one per item.
    config = joint.train.model_copy(update={"batch_size": 1, "epochs": 1, "max_steps": None})
    span = joint.hotpotqa

    def eval_fn(m: JointModel) -> dict[str, float]:
        metrics = evaluate_split(m, dev, tokenizer=tokenizer, span=span, batch_size=joint.eval_batch_size)
        flat = {f"{t}_{k}": v for t, group in metrics.items() for k, v in group.items()}
        return flat | {"score": score(metrics)}

    result = train(model, schedule, collate_fn=JointCollate(train_sets),
                   loss_fn=weighted_loss({t: mixer.loss_weight(t) for t in tasks}), config=config,
                   out_dir=out_dir, eval_fn=eval_fn, checkpoint_dir=checkpoint_dir, log_dir=log_dir,
                   is_lm_param=model.is_lm_param, save_extra=tokenizer.save_pretrained,
                   resume_key=resume_key(files, joint.model_dump_json() + model_params.model_dump_json()))

    model.eval()
    with torch.no_grad():
        tested = evaluate_split(model, test, tokenizer=tokenizer, span=span, batch_size=joint.eval_batch_size)
    return _metrics(joint, tested, result, counts, schedule, test, train_sets)


def _metrics(joint: JointParams, tested, result, counts, schedule: MixedSteps, test: Split,
             train_sets) -> dict[str, Any]:
    ours: dict[str, dict[str, float]] = {}
    if "medqa" in tested:
        ours["medqa"] = {"test_accuracy": rounded(tested["medqa"]["accuracy"])}
    if "hotpotqa" in tested:
        ours["hotpotqa"] = {k: rounded(tested["hotpotqa"][k]) for k in ("exact_match", "f1")}
    if "kgqa" in tested:
        ours["kgqa"] = {"hits@1": rounded(tested["kgqa"]["hits@1"])}
    baselines: dict[str, dict[str, float]] = {}
    if test.hotpotqa is not None:
        first = first_entity_scores(test.hotpotqa.rows)
        baselines["hotpotqa"] = rounded_all(first, prefix="first_entity_")
    if test.kgqa is not None:
        baselines["kgqa"] = {"random_candidate_hits@1": rounded(test.kgqa.random_candidate_hits()),
                             "mean_candidates": rounded(test.kgqa.mean_candidates(), 2)}
    dev = rounded_all(result.best_metrics)
    training = {"adapters": int(joint.adapters.enabled), **counts,
                "trainable_share": rounded(counts["trainable_parameters"] / counts["parameters"], 6),
                "steps": result.global_step, "best_step": result.best_step,
                **{f"micro_batches_{t}": n for t, n in schedule.task_counts().items()},
                **{f"train_examples_{t}": len(d) for t, (d, _) in sorted(train_sets.items())},
                "train_loss": rounded(result.train_loss, 6)}
    log.info("joint test: %s", ours)
    return {"joint": ours, "baselines": baselines, "dev": dev, "train": training}
