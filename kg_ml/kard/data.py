"""Training examples of the student: teacher rationales (optionally verified), the passages
retrieved for each rationale, and the MedQA questions they explain."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from kg_ml.errors import InputError
from kg_ml.kard.answers import extract_answer
from kg_ml.kard.config import Variant
from kg_ml.kard.prompts import strip_conclusion, student_input, student_target

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    options: list[str]
    label: int


def _read(path: Path, columns: list[str], what: str):
    if not path.is_file():
        raise InputError(path, f"missing {what}")
    table = pq.read_table(path)
    for name in columns:
        if name not in table.column_names:
            raise InputError(path, "missing column", field=name)
        if table.column(name).null_count:
            row = table.column(name).to_pylist().index(None)
            raise InputError(path, "null value", line=row + 1, field=name)
    return table.select(columns).to_pylist()


def read_questions(path: Path) -> list[Question]:
    """A prepared multiple-choice split (`prepare@medqa` schema), in file order."""
    rows = _read(path, ["id", "question", "options", "label"], "questions table (run prepare first)")
    out = []
    for i, r in enumerate(rows):
        if not 0 <= r["label"] < len(r["options"]):
            raise InputError(path, f"label {r['label']} outside the {len(r['options'])} options", line=i + 1, field="label")
        out.append(Question(r["id"], r["question"], list(r["options"]), int(r["label"])))
    return out


def read_passages(path: Path) -> dict[str, str]:
    return {r["id"]: r["text"] for r in _read(path, ["id", "text"], "passages table (run prepare@knowledge_base)")}


def read_retrieved(path: Path, n: int) -> dict[tuple[str, int], list[str]]:
    """Top ``n`` passage ids per (question_id, rationale_id) of a `retrieve@<task>` table, by rank."""
    rows = _read(path, ["question_id", "rationale_id", "rank", "passage_id"], "retrieval results (run retrieve first)")
    ranked: dict[tuple[str, int], list[tuple[int, str]]] = defaultdict(list)
    for r in rows:
        ranked[(r["question_id"], int(r["rationale_id"]))].append((int(r["rank"]), r["passage_id"]))
    return {key: [p for _, p in sorted(hits)[:n]] for key, hits in ranked.items()}


def read_rationales(path: Path, split: str) -> dict[str, list[tuple[int, str]]]:
    """(rationale_id, text) per question id of one split, sorted by rationale id."""
    out: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for r in _read(path, ["question_id", "split", "rationale_id", "text"], "teacher rationales (run prepare@rationales)"):
        if r["split"] == split:
            out[r["question_id"]].append((int(r["rationale_id"]), r["text"]))
    return {q: sorted(v) for q, v in out.items()}


@dataclass(frozen=True)
class Example:
    question_id: str
    rationale_id: int  # -1: answer-only example
    source: str
    target: str


def training_examples(questions: list[Question], rationales: dict[str, list[tuple[int, str]]],
                      retrieved: dict[tuple[str, int], list[str]], passages: dict[str, str], variant: Variant,
                      *, verify: bool, retrieved_path: Path, per_question: int | None = None,
                      strip: bool = False) -> tuple[list[Example], dict[str, int]]:
    """The variant's examples in question order, and counts for the metrics.

    With ``verify`` (KARD's filter) a rationale is kept only if its own conclusion is the gold
    answer; a question left without rationales is dropped, and at most ``per_question`` of the kept
    ones are used. With ``strip`` the target keeps the rationale without its closing answer sentence
    (`strip_conclusion`; verification reads that sentence first). Plain finetuning needs no rationale.
    """
    examples: list[Example] = []
    stats = {"questions": len(questions), "rationales": 0, "rationales_rejected": 0, "questions_without_rationale": 0}
    for q in questions:
        if not variant.rationale:
            examples.append(Example(q.id, -1, student_input(q.question, q.options, None, rationale=False),
                                    student_target(None, q.label, q.options)))
            continue
        kept = []
        for rid, text in rationales.get(q.id, []):
            if verify and extract_answer(text, q.options) != q.label:
                stats["rationales_rejected"] += 1
            else:
                kept.append((rid, text))
        if not kept:
            stats["questions_without_rationale"] += 1
        kept = kept[:per_question]
        for rid, text in kept:
            knowledge = None
            if variant.knowledge:
                ids = retrieved.get((q.id, rid))
                if ids is None:
                    raise InputError(retrieved_path, f"no passages retrieved for rationale {rid} of {q.id}",
                                     field="question_id")
                knowledge = [passages[p] for p in ids]
            examples.append(Example(q.id, rid, student_input(q.question, q.options, knowledge, rationale=True),
                                    student_target(strip_conclusion(text) if strip else text, q.label, q.options)))
            stats["rationales"] += 1
    stats["examples"] = len(examples)
    log.info("student examples: %s", stats)
    return examples, stats
