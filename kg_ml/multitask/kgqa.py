"""KGQA as entity classification: questions with their candidate entities and gold answers.

Answers resolve to entity positions as KGT5's KGQA does (`kg_ml.kgt5.kgqa.read_qa`). Candidates
("neighbours") are the entities linked to the topic entity by a triple of any split, each with
the id of the linking relation (``1 + r`` for topic -> entity, ``1 + R + r`` for entity -> topic;
0 = none, what "all" candidates carry). A question whose answers are all outside its candidates
cannot be answered by the head: it is left out of training and counts as a miss in evaluation.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch
from torch.utils.data import Dataset
from transformers import PreTrainedTokenizerBase

from kg_ml.errors import InputError
from kg_ml.kgt5.kg import KnowledgeGraph
from kg_ml.kgt5.kgqa import read_qa

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EntityQuestion:
    id: str
    input_ids: list[int]
    candidates: np.ndarray  # [C] entity positions
    relations: np.ndarray  # [C] relation ids (0 = none)
    gold: np.ndarray  # [C] bool


def num_relation_ids(kg: KnowledgeGraph) -> int:
    return 1 + 2 * len(kg.relation_ids)


def entity_names(kg: KnowledgeGraph, tokenizer: PreTrainedTokenizerBase, max_tokens: int
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids ``[N, max_tokens]`` of every entity's display name, and their mask."""
    enc = tokenizer(list(kg.entity_names), add_special_tokens=False, truncation=True, max_length=max_tokens)
    ids = torch.full((kg.num_entities, max_tokens), int(tokenizer.pad_token_id), dtype=torch.long)
    mask = torch.zeros((kg.num_entities, max_tokens), dtype=torch.bool)
    for i, toks in enumerate(enc["input_ids"]):
        ids[i, :len(toks)] = torch.tensor(toks, dtype=torch.long)
        mask[i, :len(toks)] = True
    return ids, mask


class _Neighbours:
    """Topic entity name -> (neighbour positions, linking relation ids), over every triple split."""

    def __init__(self, kg: KnowledgeGraph) -> None:
        self.kg, self.num_relations = kg, len(kg.relation_ids)
        self.by_display = kg.entity_index()
        self.by_name: dict[str, list[int]] = {}
        for i, name in enumerate(kg.plain_names):
            self.by_name.setdefault(name, []).append(i)
        t = kg.all_triples()
        # Both directions in one table: (entity, neighbour, relation id); the lowest id wins a tie.
        rows = np.concatenate([np.stack([t[:, 0], t[:, 2], 1 + t[:, 1]], 1),
                               np.stack([t[:, 2], t[:, 0], 1 + self.num_relations + t[:, 1]], 1)])
        rows = rows[np.lexsort((rows[:, 2], rows[:, 1], rows[:, 0]))]
        self.rows = rows
        self.start = np.searchsorted(rows[:, 0], np.arange(kg.num_entities + 1))

    def of(self, topic: str) -> tuple[np.ndarray, np.ndarray]:
        topics = [self.by_display[topic]] if topic in self.by_display else self.by_name.get(topic, [])
        found: dict[int, int] = {}
        for e in topics:
            for _, n, r in self.rows[self.start[e]:self.start[e + 1]].tolist():
                if n not in topics:
                    found.setdefault(n, r)
        ents = np.array(sorted(found), dtype=np.int64)
        return ents, np.array([found[e] for e in ents.tolist()], dtype=np.int64)


class KgqaDataset(Dataset):
    """One split of KGQA questions, tokenized, with candidates and gold flags."""

    def __init__(self, path: Path, kg: KnowledgeGraph, tokenizer: PreTrainedTokenizerBase, max_length: int,
                 candidates: str = "neighbours", *, answerable_only: bool = False) -> None:
        qa = read_qa(path, kg)
        topics = pq.read_table(path, columns=["topic_entity"]).column("topic_entity").to_pylist()
        if len(topics) != len(qa):
            raise InputError(path, "topic_entity column does not match the questions", field="topic_entity")
        enc = tokenizer(qa.questions, truncation=True, max_length=max_length)
        neighbours = _Neighbours(kg) if candidates == "neighbours" else None
        everything = np.arange(kg.num_entities, dtype=np.int64)
        self.questions: list[EntityQuestion] = []
        self.total, self.unanswerable = len(qa), 0
        for i, (qid, answers, topic) in enumerate(zip(qa.ids, qa.answers, topics)):
            if neighbours is not None:
                ents, rels = neighbours.of(topic)
            else:
                ents, rels = everything, np.zeros_like(everything)
            gold = np.isin(ents, np.asarray(answers, dtype=np.int64))
            if not gold.any():
                self.unanswerable += 1
                if answerable_only or len(ents) == 0:
                    continue
            self.questions.append(EntityQuestion(qid, enc["input_ids"][i], ents, rels, gold))
        if self.unanswerable:
            log.info("%s: %d of %d questions have no answer among their candidates", path, self.unanswerable,
                     self.total)
        self.pad_token_id = int(tokenizer.pad_token_id)

    def __len__(self) -> int:
        return len(self.questions)

    def __getitem__(self, i: int) -> EntityQuestion:
        return self.questions[i]

    def mean_candidates(self) -> float:
        return float(np.mean([len(q.candidates) for q in self.questions])) if self.questions else 0.0

    def random_candidate_hits(self) -> float:
        """hits@1 of a uniformly random candidate, over all questions (unanswerable ones score 0)."""
        return float(sum(q.gold.mean() for q in self.questions) / self.total) if self.total else 0.0


class KgqaCollator:
    """Questions -> padded text, candidates ``[B, C]`` (padded with entity 0, masked) and gold flags."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, questions: Sequence[EntityQuestion]) -> dict[str, torch.Tensor]:
        b, length = len(questions), max(len(q.input_ids) for q in questions)
        c = max(len(q.candidates) for q in questions)
        input_ids = torch.full((b, length), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((b, length), dtype=torch.long)
        entities = torch.zeros((b, c), dtype=torch.long)
        relations = torch.zeros((b, c), dtype=torch.long)
        candidate_mask = torch.zeros((b, c), dtype=torch.bool)
        gold = torch.zeros((b, c), dtype=torch.bool)
        for i, q in enumerate(questions):
            input_ids[i, :len(q.input_ids)] = torch.tensor(q.input_ids)
            attention_mask[i, :len(q.input_ids)] = 1
            n = len(q.candidates)
            entities[i, :n] = torch.from_numpy(q.candidates)
            relations[i, :n] = torch.from_numpy(q.relations)
            candidate_mask[i, :n] = True
            gold[i, :n] = torch.from_numpy(q.gold)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "entities": entities,
                "relations": relations, "candidate_mask": candidate_mask, "gold": gold}


@torch.no_grad()
def hits_at_1(model: torch.nn.Module, dataset: KgqaDataset, batch_size: int) -> float:
    """Share of all questions of the split whose top-scored candidate is a gold answer."""
    device = next(model.parameters()).device
    collate = KgqaCollator(dataset.pad_token_id)
    hits = 0
    for lo in range(0, len(dataset), batch_size):
        batch = collate([dataset[i] for i in range(lo, min(lo + batch_size, len(dataset)))])
        batch = {k: v.to(device) for k, v in batch.items()}
        gold = batch.pop("gold")
        top = model(**batch).logits.argmax(-1, keepdim=True)
        hits += int(gold.gather(1, top).sum())
    return hits / dataset.total if dataset.total else 0.0
