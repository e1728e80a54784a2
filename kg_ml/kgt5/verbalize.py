"""KGT5's verbalisation: ``predict tail: <head> | <relation>`` -> ``<tail>``, the head-prediction
mirror ``predict head: <tail> | <relation>`` -> ``<head>``, and ``predict answer: <question>``.

With a `kg_ml.kgt5.context.Neighbourhood` (KGT5-context) the query entity's edges follow, each as
``<out> <relation> | <entity>`` (outgoing) or ``<in> <relation> | <entity>`` (incoming), as many
whole edges as fit in ``max_input_length``:
``predict tail: Maja Lund | spouse <out> place of birth | Valton <in> father | Anna Lund``.

Token ids are built by concatenating the tokenisation of each part (prefix, entity, separator,
relation), each entity and relation tokenised once: exact for the tokenizers of
`kg_ml.kgt5.tokenizer` (prefixes and separator are added tokens) and cheap at Wikidata5M scale.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
from tqdm.auto import tqdm

if TYPE_CHECKING:
    from kg_ml.kgt5.context import Edge, Neighbourhood

TAIL_PREFIX = "predict tail:"
HEAD_PREFIX = "predict head:"
ANSWER_PREFIX = "predict answer:"
PREFIXES = (TAIL_PREFIX, HEAD_PREFIX, ANSWER_PREFIX)
SEPARATOR = "|"
SEPARATOR_TOKEN = f" {SEPARATOR} "  # one token of the KGT5 tokenizer, spaces included
OUT_EDGE, IN_EDGE = " <out> ", " <in> "  # context edge marks, one token each as the separator
TAIL, HEAD = 0, 1  # query directions: predict the tail / the head of a triple
_TOPIC = re.compile(r"\[([^\[\]]*)\]")  # a KGQA question's topic entity: "who founded [Acme]"


def query_text(direction: int, entity: str, relation: str) -> str:
    return f"{TAIL_PREFIX if direction == TAIL else HEAD_PREFIX} {entity}{SEPARATOR_TOKEN}{relation}"


def answer_text(question: str) -> str:
    return f"{ANSWER_PREFIX} {question}"


def verbalised_pairs(triples: np.ndarray, entity_names: Sequence[str],
                     relation_names: Sequence[str]) -> Iterator[tuple[str, str]]:
    """(input, target) strings of every triple, tail query then head query."""
    for h, r, t in triples.tolist():
        yield query_text(TAIL, entity_names[h], relation_names[r]), entity_names[t]
        yield query_text(HEAD, entity_names[t], relation_names[r]), entity_names[h]


def _ids(tokenizer, texts: Sequence[str], desc: str) -> list[list[int]]:
    out: list[list[int]] = []
    for lo in tqdm(range(0, len(texts), 100_000), desc=desc, disable=None, leave=False):
        out += tokenizer(list(texts[lo:lo + 100_000]), add_special_tokens=False)["input_ids"]
    return out


class Verbaliser:
    """Token ids of queries and answers over one KG, for one tokenizer.

    ``max_input_length`` / ``max_target_length`` count the final ``</s>``; a long entity or
    relation is cut so the input keeps its prefix, separator and relation. ``neighbourhood`` and
    ``max_neighbours`` > 0 add KGT5-context's edges of the query (or question topic) entity.
    """

    def __init__(self, tokenizer, entity_names: Sequence[str], relation_names: Sequence[str], *,
                 max_input_length: int, max_target_length: int, neighbourhood: Neighbourhood | None = None,
                 max_neighbours: int = 0) -> None:
        self.tokenizer = tokenizer
        self.eos = tokenizer.eos_token_id
        self.max_input_length, self.max_target_length = max_input_length, max_target_length
        self.entities = _ids(tokenizer, entity_names, "tokenize entities")
        self.relations = _ids(tokenizer, relation_names, "tokenize relations")
        self.prefix = {d: tokenizer(p, add_special_tokens=False)["input_ids"]
                       for d, p in ((TAIL, TAIL_PREFIX), (HEAD, HEAD_PREFIX))}
        self.answer_prefix = tokenizer(ANSWER_PREFIX, add_special_tokens=False)["input_ids"]
        self.separator = tokenizer(SEPARATOR_TOKEN, add_special_tokens=False)["input_ids"]
        self.neighbourhood = neighbourhood if max_neighbours > 0 else None
        self.max_neighbours = max_neighbours
        if self.neighbourhood is not None:
            self.edge_mark = {False: self._single_token(OUT_EDGE), True: self._single_token(IN_EDGE)}

    def _single_token(self, mark: str) -> list[int]:
        ids = self.tokenizer(mark, add_special_tokens=False)["input_ids"]
        if len(ids) != 1:
            raise ValueError(f"the tokenizer has no {mark.strip()!r} token: retrain it (tokenizer stage) "
                             "before using KGT5-context")
        return ids

    def context(self, entity: int, budget: int, exclude: Edge | None = None) -> list[int]:
        """Ids of ``entity``'s edges (whole edges only) within ``budget`` tokens."""
        if self.neighbourhood is None or entity < 0:
            return []
        out: list[int] = []
        for rel, other, reverse in self.neighbourhood.edges(entity, self.max_neighbours, exclude):
            edge = self.edge_mark[reverse] + self.relations[rel] + self.separator + self.entities[other]
            if len(out) + len(edge) > budget:
                break
            out += edge
        return out

    def target(self, entity: int) -> list[int]:
        """Answer ids of an entity, ``</s>``-terminated."""
        return self.entities[entity][: self.max_target_length - 1] + [self.eos]

    def query(self, direction: int, entity: int, relation: int, exclude: Edge | None = None) -> list[int]:
        """Input ids of a tail (``direction`` TAIL: ``entity`` is the head) or head query; with a
        neighbourhood, ``entity``'s edges but ``exclude`` follow."""
        rel = self.relations[relation][: self.max_input_length // 2]
        fixed = len(self.prefix[direction]) + len(self.separator) + len(rel) + 1
        ent = self.entities[entity][: max(0, self.max_input_length - fixed)]
        ids = self.prefix[direction] + ent + self.separator + rel
        return ids + self.context(entity, self.max_input_length - 1 - len(ids), exclude) + [self.eos]

    def question(self, text: str, topic: int = -1) -> list[int]:
        """Input ids of ``predict answer: <question>``. A ``[bracketed]`` topic entity is tokenised
        on its own, brackets dropped, as entity strings are in KG completion (with a tokenizer whose
        pieces span spaces it then gets the same tokens as the entity); with a neighbourhood, the
        ``topic`` entity's edges follow (none for -1: unresolved)."""
        parts = [p.strip() for p in _TOPIC.split(text, maxsplit=1)]
        ids = [i for p in parts if p for i in self.tokenizer(p, add_special_tokens=False)["input_ids"]]
        ids = (self.answer_prefix + ids)[: self.max_input_length - 1]
        return ids + self.context(topic, self.max_input_length - 1 - len(ids)) + [self.eos]

    def triple_pair(self, triple: Sequence[int], direction: int) -> tuple[list[int], list[int]]:
        """(input ids, target ids) of one training triple in one direction; the edge it asks about
        is left out of the context."""
        h, r, t = (int(x) for x in triple)
        if direction == TAIL:
            return self.query(TAIL, h, r, exclude=(r, t, False)), self.target(t)
        return self.query(HEAD, t, r, exclude=(r, h, True)), self.target(h)
