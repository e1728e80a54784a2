"""Inference-time knowledge: the passages `retrieve@<task>` ranked for each dev/test question
(question + options as the query), read from its tables instead of retrieving a second time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow.parquet as pq

from kg_ml.errors import ConfigError, InputError
from kg_ml.kard.data import Question, read_retrieved
from kg_ml.kard.infer import Retrieve

QUESTION_QUERY = -1  # rationale_id of a question-side query in retrieve@<task>'s tables


def retrieved_knowledge(retrieved_dir: Path, retriever: str, n: int) -> Retrieve:
    """The top ``n`` passage ids per question from ``<retrieved_dir>/<split>.parquet``, which must be
    ranked by ``retriever`` (kard.inference.retriever) and hold every question asked for."""

    def retrieve(split: str, questions: Sequence[Question]) -> list[list[str]]:
        path = Path(retrieved_dir) / f"{split}.parquet"
        if path.is_file():
            found = set(pq.read_table(path, columns=["retriever"]).column("retriever").unique().to_pylist())
            if found != {retriever}:
                raise ConfigError(f"{path}: ranked by {sorted(found)}, but kard.inference.retriever is "
                                  f"{retriever!r}: set retrieval.retrieve.retriever to {retriever!r} (or the reverse)")
        ranked = read_retrieved(path, n)
        out = []
        for i, q in enumerate(questions):
            ids = ranked.get((q.id, QUESTION_QUERY))
            if ids is None:
                raise InputError(path, f"no ranking for question {q.id} (question {i + 1} of the {split} split; "
                                       "rerun retrieve)", field="question_id")
            out.append(ids)
        return out

    return retrieve
