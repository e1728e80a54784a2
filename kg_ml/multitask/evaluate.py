"""Per-task evaluation of a `JointModel` with each task's single-task metric code: MedQA accuracy,
HotpotQA EM/F1 (n-best spans, official SQuAD/MRQA normalisation), KGQA hits@1."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from transformers import PreTrainedTokenizerFast

from kg_ml.multitask.config import SpanParams
from kg_ml.multitask.kgqa import KgqaDataset, hits_at_1
from kg_ml.multitask.model import JointModel, TaskView
from kg_ml.qa.baseline import first_entity
from kg_ml.qa.data import QAExamples
from kg_ml.qa.features import EvalFeatures
from kg_ml.qa.model import window_logits
from kg_ml.qa.postprocess import predict_answers
from kg_ml.qa.squad import squad_scores
from kg_ml.tasks.medqa import MedqaDataset, labels_of, predict

# The metric of each task that selects the best step (as a [0, 1] share for the mean "score").
MAIN = {"medqa": ("accuracy", 1.0), "hotpotqa": ("f1", 0.01), "kgqa": ("hits@1", 1.0)}


@dataclass
class SpanSplit:
    rows: QAExamples
    features: EvalFeatures


@dataclass
class Split:
    """One evaluation split of every task in the run (None: task not trained)."""

    medqa: MedqaDataset | None = None
    hotpotqa: SpanSplit | None = None
    kgqa: KgqaDataset | None = None


def evaluate_split(model: JointModel, split: Split, *, tokenizer: PreTrainedTokenizerFast, span: SpanParams,
                   batch_size: int) -> dict[str, dict[str, float]]:
    """``{task: {metric: value}}`` for the tasks of ``split``; call under no_grad in eval mode."""
    out: dict[str, dict[str, float]] = {}
    if split.medqa is not None and len(split.medqa):
        scores = predict(TaskView(model, "medqa"), split.medqa, batch_size)
        out["medqa"] = {"accuracy": float((scores.argmax(-1) == labels_of(split.medqa)).mean())}
    if split.hotpotqa is not None and len(split.hotpotqa.rows):
        f, rows = split.hotpotqa.features, split.hotpotqa.rows
        starts, ends = window_logits(TaskView(model, "hotpotqa"), tokenizer, f, batch_size)
        preds = predict_answers(rows.contexts, f.example, f.offsets, starts, ends, n_best=span.n_best,
                                max_answer_length=span.max_answer_length)
        out["hotpotqa"] = squad_scores([p.text for p in preds], rows.gold)
    if split.kgqa is not None and split.kgqa.total:
        out["kgqa"] = {"hits@1": hits_at_1(TaskView(model, "kgqa"), split.kgqa, batch_size)}
    return out


def score(metrics: dict[str, dict[str, float]]) -> float:
    """Mean over tasks of the main metric as a share in [0, 1] (model selection)."""
    values = [metrics[t][name] * scale for t, (name, scale) in MAIN.items() if t in metrics]
    return float(np.mean(values)) if values else 0.0


def first_entity_scores(rows: QAExamples) -> dict[str, float]:
    """HotpotQA's first-entity-in-context baseline by the same evaluator."""
    return squad_scores([first_entity(c) for c in rows.contexts], rows.gold)
