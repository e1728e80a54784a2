"""evaluate_kard: decoding (greedy or self-consistency) with the question's retrieved knowledge,
answer extraction and accuracy, for every student variant; generations kept for inspection."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch

from kg_ml.kard.answers import extract_answer, majority_vote
from kg_ml.kard.config import KardParams
from kg_ml.kard.data import Question, read_passages, read_questions
from kg_ml.kard.prompts import student_input, student_target
from kg_ml.kard.student import encode_inputs, load_student
from kg_ml.kgt5.generate import greedy, sample, sequence_log_probs

log = logging.getLogger(__name__)

# data/kard/generations.parquet, sorted by (variant, split, question order)
GENERATIONS_SCHEMA = pa.schema([
    ("variant", pa.string()),
    ("split", pa.string()),
    ("question_id", pa.string()),
    ("passage_ids", pa.list_(pa.string())),   # knowledge given to the student (empty without)
    ("generations", pa.list_(pa.string())),   # 1 (greedy) or num_samples texts; none for an
                                              # answer-only student under answer: score
    ("option_scores", pa.list_(pa.float32())),  # answer: score, the options' log-likelihoods
                                              # after the first generation (empty: extract)
    ("prediction", pa.int8()),                # voted option index, -1 = no answer found
    ("label", pa.int8()),
    ("correct", pa.bool_()),
])

# (split, questions) -> top passage ids per question; the stage binds it to retrieve@<task>'s
# question-query rankings (kg_ml.kard.knowledge)
Retrieve = Callable[[str, Sequence[Question]], list[list[str]]]


def decode(model, tokenizer, inputs: list[list[int]], params: KardParams) -> list[list[str]]:
    """One greedy text, or ``num_samples`` sampled texts, per input."""
    inf = params.inference
    if inf.decoding == "greedy":
        return [[t] for t in greedy(model, tokenizer, inputs, batch_size=inf.batch_size,
                                    max_new_tokens=inf.max_new_tokens)]
    return sample(model, tokenizer, inputs, num_samples=inf.num_samples, temperature=inf.temperature, top_k=None,
                  batch_size=inf.batch_size, max_new_tokens=inf.max_new_tokens, seed=inf.seed)


def predict(texts: Sequence[Sequence[str]], questions: Sequence[Question]) -> list[int | None]:
    """The voted answer of each question's generations (a single greedy text votes alone)."""
    return [majority_vote([extract_answer(t, q.options) for t in group]) for group, q in zip(texts, questions)]


def rationale_of(text: str) -> str:
    """A generation without its answer: the text before its last ``Answer:`` (all of it when the
    student never got there)."""
    cut = text.rfind("Answer:")
    return text if cut < 0 else text[:cut]


def option_scores(model, tokenizer, inputs: Sequence[list[int]], texts: Sequence[Sequence[str]] | None,
                  questions: Sequence[Question], batch_size: int) -> list[list[np.ndarray]]:
    """Per question and generation, the student's log-likelihood of each option's target
    (`student_target`: ``<rationale> Answer: (X) <option>``) after the generation's own rationale;
    ``texts`` None scores the answer-only target ``<option> (X)`` once. The rationale tokens are
    shared by the options, so the scores differ only by the answer's likelihood."""
    rows, cands, owner = [], [], []
    for qi, (ids, q) in enumerate(zip(inputs, questions)):
        group = [None] if texts is None else [rationale_of(t) for t in texts[qi]]
        for rationale in group:
            rows.append(ids)
            cands.append(tokenizer([student_target(rationale, i, q.options) for i in range(len(q.options))]).input_ids)
            owner.append(qi)
    out: list[list[np.ndarray]] = [[] for _ in questions]
    for qi, scores in zip(owner, sequence_log_probs(model, tokenizer, rows, cands, batch_size=batch_size)):
        out[qi].append(scores)
    return out


def predict_by_score(scores: Sequence[Sequence[np.ndarray]]) -> list[int]:
    """Each generation votes for its most likely option; the majority wins (`majority_vote`)."""
    return [majority_vote([int(np.argmax(s)) for s in group]) for group in scores]


def evaluate_split(variant_name: str, split: str, model, tokenizer, questions: list[Question],
                   knowledge: list[list[str]] | None, passages: Mapping[str, str], params: KardParams) -> tuple[dict, pa.Table]:
    variant = params.variants[variant_name]
    sources = [student_input(q.question, q.options, None if knowledge is None else [passages[p] for p in knowledge[i]],
                             rationale=variant.rationale) for i, q in enumerate(questions)]
    inputs, _ = encode_inputs(tokenizer, sources, params.max_input_length,
                              "Explanation:" if variant.rationale else "Answer:")
    scoring = params.inference.answer == "score"
    # Scoring an answer-only student needs no generation: its whole target is the answer.
    texts = decode(model, tokenizer, inputs, params) if variant.rationale or not scoring else [[] for _ in questions]
    if scoring:
        scores = option_scores(model, tokenizer, inputs, texts if variant.rationale else None, questions,
                               params.inference.batch_size)
        preds = predict_by_score(scores)
        first = [s[0].astype(np.float32).tolist() for s in scores]
    else:
        preds, first = predict(texts, questions), [[] for _ in questions]
    correct = [p == q.label for p, q in zip(preds, questions)]
    n = max(len(questions), 1)
    metrics = {f"{split}_accuracy": round(sum(correct) / n, 4),
               f"{split}_answered": round(sum(p is not None for p in preds) / n, 4)}
    table = pa.table({
        "variant": [variant_name] * len(questions), "split": [split] * len(questions),
        "question_id": [q.id for q in questions],
        "passage_ids": knowledge if knowledge is not None else [[] for _ in questions],
        "generations": texts, "option_scores": first, "prediction": [-1 if p is None else p for p in preds],
        "label": [q.label for q in questions], "correct": correct,
    }, schema=GENERATIONS_SCHEMA)
    log.info("%s %s: %s", variant_name, split, metrics)
    return metrics, table


def evaluate_kard(params: KardParams, model_dirs: Mapping[str, Path], questions_dir: Path, passages_path: Path,
                  retrieve: Retrieve) -> tuple[dict, pa.Table]:
    """Metrics per variant (``{variant: {<split>_accuracy, ...}}``) and all generations."""
    torch.manual_seed(params.inference.seed)
    passages = read_passages(passages_path)
    splits = {s: read_questions(questions_dir / f"{s}.parquet") for s in params.inference.splits}
    needs_knowledge = any(params.variants[v].knowledge for v in model_dirs)
    # Retrieval is shared by every variant with knowledge: one lookup per split.
    knowledge = {s: retrieve(s, qs) if needs_knowledge else None for s, qs in splits.items()}
    metrics: dict[str, dict] = {}
    tables = []
    for name in sorted(model_dirs):
        model, tokenizer = load_student(model_dirs[name])
        metrics[name] = {}
        for split, qs in splits.items():
            k = knowledge[split] if params.variants[name].knowledge else None
            m, t = evaluate_split(name, split, model, tokenizer, qs, k, passages, params)
            metrics[name].update(m)
            tables.append(t)
    return metrics, pa.concat_tables(tables)
