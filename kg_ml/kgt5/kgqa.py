"""KGQA question sets (`kg_ml.sources.kgqa.SCHEMA`) mapped onto the KG's entities.

Answers are entity names. A name is an entity's display name, else its canonical name; a canonical
name shared by several entities is narrowed to those adjacent to the topic entity in the KG (a
1-hop question's answers are its neighbours). Names that match no entity are counted, not fatal:
real question sets mention entities outside Wikidata5M.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from kg_ml.errors import InputError
from kg_ml.kgt5.kg import KnowledgeGraph

log = logging.getLogger(__name__)

_TOPIC = re.compile(r"\[[^\[\]]*\]")


@dataclass(frozen=True)
class QASet:
    """One row per question; ``answers``: resolved entity positions (sorted, possibly empty);
    ``topics``: the topic entity's position, -1 when its name matches no entity or several."""

    ids: list[str]
    questions: list[str]
    answers: list[list[int]]
    unresolved: int  # answer names that matched no entity
    topics: list[int]

    def __len__(self) -> int:
        return len(self.ids)


def template(question: str) -> str:
    """The question with its bracketed topic entity blanked: ``who founded [Acme]`` -> ``who founded []``."""
    return _TOPIC.sub("[]", question)


class _Resolver:
    def __init__(self, kg: KnowledgeGraph) -> None:
        self.kg = kg
        self.by_display = kg.entity_index()
        self.by_name: dict[str, list[int]] = {}
        for i, name in enumerate(kg.plain_names):
            self.by_name.setdefault(name, []).append(i)
        self._all = kg.all_triples()

    def candidates(self, name: str) -> list[int]:
        return [self.by_display[name]] if name in self.by_display else self.by_name.get(name, [])

    def neighbours(self, entities: list[int]) -> set[int]:
        t = self._all
        ents = np.asarray(entities)
        out = set(t[np.isin(t[:, 0], ents), 2].tolist()) | set(t[np.isin(t[:, 2], ents), 0].tolist())
        return out

    def resolve(self, topic: str, names: list[str]) -> tuple[list[int], int]:
        found, missing, near = set(), 0, None
        for name in names:
            cands = self.candidates(name)
            if len(cands) > 1:
                near = self.neighbours(self.candidates(topic)) if near is None else near
                cands = [c for c in cands if c in near] or cands
            found.update(cands)
            missing += not cands
        return sorted(found), missing


def read_qa(path: str | Path, kg: KnowledgeGraph) -> QASet:
    """A prepared KGQA split with answers resolved to entity positions of ``kg``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file (run prepare@kgqa first)")
    table = pq.read_table(path)
    for name in ("id", "question", "topic_entity", "answers"):
        if name not in table.column_names:
            raise InputError(path, "missing column (expected the prepare@kgqa schema)", field=name)
    cols = table.select(["id", "question", "topic_entity", "answers"]).to_pydict()
    resolver = _Resolver(kg)
    answers, topics, unresolved = [], [], 0
    for topic, names in zip(cols["topic_entity"], cols["answers"]):
        ids, missing = resolver.resolve(topic, list(names or []))
        answers.append(ids)
        unresolved += missing
        cands = resolver.candidates(topic)
        topics.append(cands[0] if len(cands) == 1 else -1)
    if unresolved:
        log.warning("%s: %d answer names match no entity of the KG", path, unresolved)
    return QASet(cols["id"], cols["question"], answers, unresolved, topics)


def most_frequent_answers(train: QASet) -> dict[str, int]:
    """Question template -> its most frequent training answer (ties: the lower entity position)."""
    counts: dict[str, Counter] = {}
    for q, answers in zip(train.questions, train.answers):
        counts.setdefault(template(q), Counter()).update(answers)
    return {t: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for t, c in counts.items() if c}
