"""ground@<task>: every statement of every split → grounded Parquet, plus coverage metrics."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

import pyarrow as pa
from tqdm import tqdm

from kg_ml.grounding.config import GroundTaskConfig
from kg_ml.grounding.ground import Grounder
from kg_ml.grounding.tasks import READERS, Question, split_files
from kg_ml.grounding.vocab import Vocabulary
from kg_ml.io import ParquetSink, atomic_dir

log = logging.getLogger(__name__)

GROUNDED_SCHEMA = pa.schema([
    ("statement_id", pa.string()), ("question_id", pa.string()), ("choice", pa.int8()),
    ("is_gold", pa.bool_()), ("kg", pa.string()), ("text", pa.string()),
    ("question_concepts", pa.list_(pa.int32())), ("answer_concepts", pa.list_(pa.int32())),
    ("gold_answer_concepts", pa.list_(pa.int32())),
])
QUESTIONS_PER_CHUNK = 512


def _chunks(questions: Iterable[Question], size: int) -> Iterator[list[Question]]:
    it = iter(questions)
    while chunk := list(islice(it, size)):
        yield chunk


class _Coverage:
    """Running counts behind metrics/ground_<task>.json."""

    def __init__(self) -> None:
        self.questions = self.statements = self.with_q = self.with_a = self.with_gold = 0
        self.sum_q = self.sum_a = 0

    def add(self, columns: dict[str, list]) -> None:
        self.questions += len(set(columns["question_id"]))
        self.statements += len(columns["statement_id"])
        for q, a, g in zip(columns["question_concepts"], columns["answer_concepts"],
                           columns["gold_answer_concepts"]):
            self.with_q += bool(q)
            self.with_a += bool(a)
            self.with_gold += bool(g)
            self.sum_q += len(q)
            self.sum_a += len(a)

    def metrics(self, multiple_choice: bool) -> dict:
        n = max(self.statements, 1)
        out = {"questions": self.questions, "statements": self.statements,
               "share_with_question_concept": round(self.with_q / n, 4),
               "share_with_gold_answer_concept": round(self.with_gold / n, 4),
               "mean_question_concepts": round(self.sum_q / n, 4)}
        if multiple_choice:  # extractive tasks have no answer text at question time
            out |= {"share_with_answer_concept": round(self.with_a / n, 4),
                    "mean_answer_concepts": round(self.sum_a / n, 4)}
        return out


def _rows(chunk: list[Question], grounder: Grounder, kg: str) -> dict[str, list]:
    statements = [s for q in chunk for s in q.statements]
    answers = [a for q in chunk for a in q.answers]
    grounded = iter(grounder.ground_pairs(statements, answers))
    extractive = [q for q in chunk if q.label is None]
    gold_texts = [a for q in extractive for a in q.gold_answers]
    gold_of_text = dict(zip(gold_texts, grounder.ground_answers(gold_texts)))
    cols: dict[str, list] = {name: [] for name in GROUNDED_SCHEMA.names}
    for q in chunk:
        per_choice = [next(grounded) for _ in q.statements]
        if q.label is None:
            gold = sorted({n for a in q.gold_answers for n in gold_of_text[a]})
        else:
            gold = per_choice[q.label][1]
        for choice, (text, (qc, ac)) in enumerate(zip(q.statements, per_choice)):
            for name, value in (("statement_id", f"{q.id}:{choice}"), ("question_id", q.id),
                                ("choice", choice), ("is_gold", q.label in (None, choice)), ("kg", kg),
                                ("text", text), ("question_concepts", qc), ("answer_concepts", ac),
                                ("gold_answer_concepts", gold)):
                cols[name].append(value)
    return cols


def ground_task(task: str, cfg: GroundTaskConfig, prepared_dir: Path, kg_dir: Path, out_dir: Path) -> dict:
    """Ground every split of ``task``; write ``<split>.parquet`` into ``out_dir`` atomically."""
    splits = split_files(Path(prepared_dir))
    vocab = Vocabulary.load(Path(kg_dir) / "vocab.parquet")
    grounder = Grounder(vocab, question_stopword_rule=cfg.question_stopword_rule,
                        abbreviations=cfg.abbreviations, batch_size=cfg.batch_size)
    coverage, metrics, multiple_choice = _Coverage(), {}, False
    with atomic_dir(out_dir) as tmp:
        for split, path in splits:
            log.info("ground@%s: %s -> %s (kg %s)", task, path, Path(out_dir) / f"{split}.parquet", cfg.kg)
            with ParquetSink(tmp / f"{split}.parquet", GROUNDED_SCHEMA) as sink:
                bar = tqdm(desc=f"ground {task}/{split}", unit=" questions", leave=False, disable=None)
                for chunk in _chunks(READERS[task](path), QUESTIONS_PER_CHUNK):
                    cols = _rows(chunk, grounder, cfg.kg)
                    sink.write(cols)
                    coverage.add(cols)
                    multiple_choice |= any(q.label is not None for q in chunk)
                    bar.update(len(chunk))
                bar.close()
            metrics[f"{split}_statements"] = sink.rows
    metrics |= coverage.metrics(multiple_choice)
    log.info("ground@%s: %s", task, metrics)
    return metrics

