"""finetune_medqa@<variant> and evaluate_medqa@<variant>: train and score the MedQA multiple-choice model.

A variant (``kg_lm.medqa.variants``) says where the weights start (``init``: the pretrained
KG-LM, or ``kg_lm.model``'s encoder without KG pretraining) and whether the GNN is used
(``use_kg: false`` is the text-only baseline: the same encoder and scoring head, no graph).
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Any

import numpy as np
from transformers import AutoTokenizer

from kg_ml.errors import InputError
from kg_ml.graphs.dataset import SubgraphDataset, graph_shape
from kg_ml.io import atomic_dir, write_parquet
from kg_ml.io.metrics import rounded
from kg_ml.models.factory import finetune_config, multiple_choice_model, resume_key
from kg_ml.models.kg_lm import KGLMForMultipleChoice, is_lm_param
from kg_ml.models.params import KgLmParams
from kg_ml.tasks.medqa import MedqaCollator, MedqaDataset, dev_evaluator, loss_fn, predict, prediction_table
from kg_ml.training import train
from kg_ml.training.distributed import resolve_device
from kg_ml.training.step import autocast_for

log = logging.getLogger(__name__)

EVAL_SPLITS = ("dev", "test")


def _inputs(split: str, questions_dir: Path, graphs_dir: Path, embeddings: Path, use_kg: bool
            ) -> tuple[Path, SubgraphDataset | None]:
    questions = Path(questions_dir) / f"{split}.parquet"
    graphs = SubgraphDataset(Path(graphs_dir) / f"{split}.parquet", embeddings) if use_kg else None
    return questions, graphs


def finetune(params: KgLmParams, variant: str, *, questions_dir: Path, graphs_dir: Path, embeddings: Path,
             pretrained_dir: Path, out_dir: Path, checkpoint_dir: Path | None = None, log_dir: Path | None = None,
             offline: bool = True) -> dict[str, Any]:
    """Finetune one variant on the train split, selecting the best step by dev accuracy."""
    spec, medqa = params.medqa.variants[variant], params.medqa
    tokenizer, config = finetune_config(params.model, init=spec.init, pretrained_dir=pretrained_dir,
                                        use_kg=spec.use_kg, graph_shape=graph_shape(graphs_dir, embeddings),
                                        offline=offline)
    train_q, train_g = _inputs("train", questions_dir, graphs_dir, embeddings, spec.use_kg)
    dev_q, dev_g = _inputs("dev", questions_dir, graphs_dir, embeddings, spec.use_kg)
    train_set = MedqaDataset(train_q, tokenizer, params.model.max_length, train_g)
    dev_set = MedqaDataset(dev_q, tokenizer, params.model.max_length, dev_g)
    log.info("finetune_medqa@%s: %d train / %d dev questions, init %s, %s", variant, len(train_set), len(dev_set),
             spec.init, "with the KG" if spec.use_kg else "text only")

    model = multiple_choice_model(params.model, config, init=spec.init, pretrained_dir=pretrained_dir,
                                  seed=medqa.train.seed, offline=offline)
    inputs = [train_q, dev_q, *(p.path for p in (train_g, dev_g) if p is not None)]
    if spec.init == "pretrained":
        inputs.append(Path(pretrained_dir) / "model.safetensors")
    result = train(model, train_set, collate_fn=MedqaCollator(train_set.pad_token_id), loss_fn=loss_fn,
                   config=medqa.train, out_dir=out_dir, eval_fn=dev_evaluator(dev_set, medqa.eval_batch_size),
                   checkpoint_dir=checkpoint_dir, log_dir=log_dir, is_lm_param=is_lm_param,
                   save_extra=tokenizer.save_pretrained,
                   resume_key=resume_key(inputs, spec.model_dump_json()))
    return {"train_questions": len(train_set), "dev_questions": len(dev_set), "steps": result.global_step,
            "best_step": result.best_step,
            "best_dev_accuracy": rounded(result.best_metrics.get("accuracy", 0.0), 6),
            "train_loss": rounded(result.train_loss, 6)}


def evaluate(model_dir: Path, *, questions_dir: Path, graphs_dir: Path, embeddings: Path, predictions_dir: Path,
             plots_dir: Path, batch_size: int, device: str = "auto") -> dict[str, Any]:
    """Accuracy of a finetuned model on dev and test; predictions and plot data written atomically."""
    if not (Path(model_dir) / "config.json").is_file():
        raise InputError(model_dir, "no finetuned model here (run finetune_medqa first)")
    model = KGLMForMultipleChoice.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    target = resolve_device(device)
    model.to(target)
    metrics: dict[str, Any] = {}
    confusion: list[tuple[int, int]] = []
    with atomic_dir(predictions_dir) as tmp:
        for split in EVAL_SPLITS:
            questions, graphs = _inputs(split, questions_dir, graphs_dir, embeddings, model.config.use_kg)
            if not questions.is_file():
                log.warning("evaluate_medqa: no %s split at %s", split, questions)
                continue
            # the training length, saved with the tokenizer by finetune
            dataset = MedqaDataset(questions, tokenizer, tokenizer.model_max_length, graphs)
            with autocast_for("auto", target)():
                scores = predict(model, dataset, batch_size)
            table = prediction_table(dataset, scores, split)
            write_parquet(table, tmp / f"{split}.parquet")
            correct = np.asarray(table.column("correct").to_numpy(zero_copy_only=False), bool)
            metrics[f"{split}_accuracy"] = rounded(correct.mean() if len(correct) else 0.0, 6)
            metrics[f"{split}_questions"] = len(dataset)
            if split == "test":
                confusion = list(zip(table.column("label").to_pylist(), table.column("prediction").to_pylist()))
            log.info("evaluate_medqa: %s accuracy %.4f on %d questions", split, metrics[f"{split}_accuracy"],
                     len(dataset))
    _write_plots(Path(plots_dir), metrics, confusion)
    return metrics


def _write_plots(plots_dir: Path, metrics: dict[str, Any], confusion: list[tuple[int, int]]) -> None:
    """accuracy.csv (split, accuracy) and confusion.csv (actual, predicted choice per test question)."""
    letters = "ABCDEFGH"
    tables = {"accuracy.csv": [("split", "accuracy")] + [(s, metrics[f"{s}_accuracy"]) for s in EVAL_SPLITS
                                                         if f"{s}_accuracy" in metrics],
              "confusion.csv": [("actual", "predicted")] + [(letters[a], letters[p]) for a, p in confusion]}
    with atomic_dir(plots_dir) as tmp:
        for name, rows in tables.items():
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(rows)
            (tmp / name).write_text(buf.getvalue())

