"""MedQA multiple choice for the KG-LM: examples, collate, loss, evaluation and predictions.

Each choice is one sequence ``[CLS] question [SEP] option [SEP]`` (DRAGON's MedQA input; the
question is truncated first) paired with the subgraph of its statement; the model scores every
(sequence, subgraph) and a question's scores go through a softmax over its choices. Without a
KG (``graphs=None``) the same examples carry text only: the text-only baseline.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from torch.utils.data import Dataset
from transformers import PreTrainedTokenizerBase

from kg_ml.errors import InputError
from kg_ml.graphs.dataset import QuestionGraphs, SubgraphDataset, collate as collate_graphs
from kg_ml.training.data import to_device

log = logging.getLogger(__name__)

PREDICTIONS_SCHEMA = pa.schema([
    ("question_id", pa.string()), ("split", pa.string()), ("label", pa.int8()), ("prediction", pa.int8()),
    ("correct", pa.bool_()), ("scores", pa.list_(pa.float32())),
])


@dataclass(frozen=True)
class Question:
    id: str
    input_ids: list[list[int]]  # one sequence per choice
    token_type_ids: list[list[int]] | None
    label: int
    graphs: QuestionGraphs | None


def read_questions(path: Path) -> pa.Table:
    """The prepared MedQA split (id, question, options, label), checked."""
    if not path.is_file():
        raise InputError(path, "missing file (run prepare@medqa first)")
    table = pq.read_table(path)
    if missing := [c for c in ("id", "question", "options", "label") if c not in table.column_names]:
        raise InputError(path, f"missing column(s) {missing}")
    counts = {len(o) for o in table.column("options").to_pylist()}
    if len(counts) > 1:
        raise InputError(path, f"questions have different option counts {sorted(counts)}", field="options")
    return table


class MedqaDataset(Dataset):
    """The questions of one split, tokenized; with ``graphs`` each also carries its choices' subgraphs."""

    def __init__(self, questions: Path, tokenizer: PreTrainedTokenizerBase, max_length: int,
                 graphs: SubgraphDataset | None = None) -> None:
        table = read_questions(Path(questions))
        ids, labels = table.column("id").to_pylist(), table.column("label").to_pylist()
        options = table.column("options").to_pylist()
        firsts = [q for q, opts in zip(table.column("question").to_pylist(), options) for _ in opts]
        seconds = [o for opts in options for o in opts]
        enc = tokenizer(firsts, seconds, truncation="only_first", max_length=max_length)
        per = len(options[0]) if options else 0
        types = enc.get("token_type_ids")
        by_id = self._graphs_by_question(graphs, Path(questions), ids, labels, per) if graphs is not None else None
        self.questions = [
            Question(qid, enc["input_ids"][i * per:(i + 1) * per],
                     types[i * per:(i + 1) * per] if types is not None else None, label,
                     by_id[qid] if by_id is not None else None)
            for i, (qid, label) in enumerate(zip(ids, labels))]
        self.num_choices = per
        self.pad_token_id = int(tokenizer.pad_token_id)

    @staticmethod
    def _graphs_by_question(graphs: SubgraphDataset, questions: Path, ids: list[str], labels: list[int],
                            per: int) -> dict[str, QuestionGraphs]:
        items = {g.question_id: g for g in (graphs[i] for i in range(len(graphs)))}
        for row, (qid, label) in enumerate(zip(ids, labels)):
            g = items.get(qid)
            if g is None:
                raise InputError(graphs.path, f"no subgraphs for question {qid} of {questions} (rerun subgraph@medqa)",
                                 field="question_id")
            if len(g.graphs) != per or g.label != label:
                raise InputError(graphs.path, f"question {qid}: {len(g.graphs)} subgraphs / gold {g.label}, "
                                 f"but {questions} row {row} has {per} options / label {label}", field="choice")
        return items

    def __len__(self) -> int:
        return len(self.questions)

    def __getitem__(self, i: int) -> Question:
        return self.questions[i]


class MedqaCollator:
    """Questions -> one batch of ``questions x choices`` sequences (question-major) and subgraphs."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, questions: Sequence[Question]) -> dict[str, Any]:
        seqs = [s for q in questions for s in q.input_ids]
        length = max(len(s) for s in seqs)
        input_ids = torch.full((len(seqs), length), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(seqs), length), dtype=torch.long)
        for i, s in enumerate(seqs):
            input_ids[i, :len(s)] = torch.tensor(s)
            attention_mask[i, :len(s)] = 1
        batch = {"input_ids": input_ids, "attention_mask": attention_mask,
                 "num_choices": len(questions[0].input_ids),
                 "labels": torch.tensor([q.label for q in questions], dtype=torch.long),
                 "num_tokens": attention_mask.sum()}
        if questions[0].token_type_ids is not None:
            token_types = torch.zeros_like(input_ids)
            for i, t in enumerate(t for q in questions for t in q.token_type_ids):
                token_types[i, :len(t)] = torch.tensor(t)
            batch["token_type_ids"] = token_types
        if questions[0].graphs is not None:
            batch["graph"] = collate_graphs([q.graphs for q in questions]).graphs
        return batch


def _forward_args(batch: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in batch.items() if k != "num_tokens"}


def loss_fn(model: torch.nn.Module, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Cross-entropy over each question's choices; training accuracy as an extra (no host sync)."""
    out = model(**_forward_args(batch))
    return out.loss, {"accuracy": (out.logits.argmax(-1) == batch["labels"]).float().mean().detach()}


@torch.no_grad()
def predict(model: torch.nn.Module, dataset: MedqaDataset, batch_size: int) -> np.ndarray:
    """Scores [questions, choices] (float32) in dataset order; the model is left in eval mode."""
    device = next(model.parameters()).device
    collate = MedqaCollator(dataset.pad_token_id)
    model.eval()
    scores = []
    for lo in range(0, len(dataset), batch_size):
        batch = to_device(collate([dataset[i] for i in range(lo, min(lo + batch_size, len(dataset)))]), device)
        batch.pop("labels")
        scores.append(model(**_forward_args(batch)).logits.float().cpu())
    return torch.cat(scores).numpy() if scores else np.zeros((0, dataset.num_choices), np.float32)


def labels_of(dataset: MedqaDataset) -> np.ndarray:
    return np.array([q.label for q in dataset.questions], np.int64)


def dev_evaluator(dataset: MedqaDataset, batch_size: int):
    """The eval_fn of finetuning: dev accuracy and loss."""
    labels = torch.from_numpy(labels_of(dataset))

    def evaluate(model: torch.nn.Module) -> dict[str, float]:
        scores = torch.from_numpy(predict(model, dataset, batch_size))
        loss = torch.nn.functional.cross_entropy(scores, labels).item() if len(labels) else 0.0
        return {"accuracy": float((scores.argmax(-1) == labels).float().mean()) if len(labels) else 0.0,
                "loss": loss}

    return evaluate


def prediction_table(dataset: MedqaDataset, scores: np.ndarray, split: str) -> pa.Table:
    labels = labels_of(dataset)
    predictions = scores.argmax(-1) if len(scores) else np.zeros(0, np.int64)
    return pa.table({
        "question_id": [q.id for q in dataset.questions], "split": [split] * len(dataset),
        "label": labels.astype(np.int8), "prediction": predictions.astype(np.int8),
        "correct": predictions == labels, "scores": [row.astype(np.float32).tolist() for row in scores],
    }, schema=PREDICTIONS_SCHEMA)
