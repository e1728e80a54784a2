"""Read the prepared HotpotQA tables (schema: docs/DATA.md, `kg_ml.sources.hotpotqa.SCHEMA`) into plain lists."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from kg_ml.errors import InputError

COLUMNS = ("id", "question", "context", "answers", "gold_answers")


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
    for name in COLUMNS:
        if name not in table.column_names:
            raise InputError(path, "missing column (expected the prepare@hotpotqa schema)", field=name)
    answers = table.schema.field("answers").type
    if not (pa.types.is_struct(answers) and {answers.field(i).name for i in range(answers.num_fields)}
            >= {"text", "answer_start"}):
        raise InputError(path, f"type {answers}, expected struct<text, answer_start>", field="answers")
    cols = table.select(list(COLUMNS)).to_pydict()
    return QAExamples(cols["id"], cols["question"], cols["context"], cols["answers"],
                      [list(g or []) for g in cols["gold_answers"]])
