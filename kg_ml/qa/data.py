"""Read the prepared HotpotQA tables (`kg_ml.sources.hotpotqa.SCHEMA`) into plain lists."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from kg_ml.errors import InputError
from kg_ml.sources.hotpotqa import SCHEMA


@dataclass(frozen=True)
class QAExamples:
    """One row per question; ``answers``: the SQuAD-style occurrences, ``gold``: MRQA's answer set."""

    ids: list[str]
    questions: list[str]
    contexts: list[str]
    answers: list[dict]
    gold: list[list[str]]

    def __len__(self) -> int:
        return len(self.ids)

    def first_answers(self, path: Path | str) -> tuple[list[int], list[str]]:
        """(char start, text) of each row's first answer occurrence, the training target."""
        starts, texts = [], []
        for row, ans in enumerate(self.answers):
            if not ans["text"]:
                raise InputError(path, "a training question without an answer span", line=row + 1,
                                 field="answers")
            starts.append(int(ans["answer_start"][0]))
            texts.append(ans["text"][0])
        return starts, texts


def read_examples(path: str | Path) -> QAExamples:
    """A prepared ``<split>.parquet``; missing columns are a one-line InputError."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file (run prepare@hotpotqa first)")
    table = pq.read_table(path)
    for name in ("id", "question", "context", "answers", "gold_answers"):
        if name not in table.column_names:
            raise InputError(path, "missing column (expected the prepare@hotpotqa schema)", field=name)
        if not table.schema.field(name).type.equals(SCHEMA.field(name).type):
            raise InputError(path, f"type {table.schema.field(name).type}, expected {SCHEMA.field(name).type}",
                             field=name)
    cols = table.select(["id", "question", "context", "answers", "gold_answers"]).to_pydict()
    return QAExamples(cols["id"], cols["question"], cols["context"], cols["answers"],
                      [list(g or []) for g in cols["gold_answers"]])
