"""KGT5's verbalisation: ``predict tail: <head> | <relation>`` -> ``<tail>``, the head-prediction
mirror ``predict head: <tail> | <relation>`` -> ``<head>``, and ``predict answer: <question>``.

Token ids are built by concatenating the tokenisation of each part (prefix, entity, separator,
relation), each entity and relation tokenised once: exact for the tokenizers of
`kg_ml.kgt5.tokenizer` (prefixes and separator are added tokens) and cheap at Wikidata5M scale.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import numpy as np
from tqdm.auto import tqdm

TAIL_PREFIX = "predict tail:"
HEAD_PREFIX = "predict head:"
ANSWER_PREFIX = "predict answer:"
PREFIXES = (TAIL_PREFIX, HEAD_PREFIX, ANSWER_PREFIX)
SEPARATOR = "|"
SEPARATOR_TOKEN = f" {SEPARATOR} "  # one token of the KGT5 tokenizer, spaces included
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
    relation is cut so the input keeps its prefix, separator and relation.
    """

    def __init__(self, tokenizer, entity_names: Sequence[str], relation_names: Sequence[str], *,
                 max_input_length: int, max_target_length: int) -> None:
        self.tokenizer = tokenizer
        self.eos = tokenizer.eos_token_id
        self.max_input_length, self.max_target_length = max_input_length, max_target_length
        self.entities = _ids(tokenizer, entity_names, "tokenize entities")
        self.relations = _ids(tokenizer, relation_names, "tokenize relations")
        self.prefix = {d: tokenizer(p, add_special_tokens=False)["input_ids"]
                       for d, p in ((TAIL, TAIL_PREFIX), (HEAD, HEAD_PREFIX))}
        self.answer_prefix = tokenizer(ANSWER_PREFIX, add_special_tokens=False)["input_ids"]
        self.separator = tokenizer(SEPARATOR_TOKEN, add_special_tokens=False)["input_ids"]

    def target(self, entity: int) -> list[int]:
        """Answer ids of an entity, ``</s>``-terminated."""
        return self.entities[entity][: self.max_target_length - 1] + [self.eos]

    def query(self, direction: int, entity: int, relation: int) -> list[int]:
        """Input ids of a tail (``direction`` TAIL: ``entity`` is the head) or head query."""
        rel = self.relations[relation][: self.max_input_length // 2]
        fixed = len(self.prefix[direction]) + len(self.separator) + len(rel) + 1
        ent = self.entities[entity][: max(0, self.max_input_length - fixed)]
        return self.prefix[direction] + ent + self.separator + rel + [self.eos]

    def question(self, text: str) -> list[int]:
        """Input ids of ``predict answer: <question>``. A ``[bracketed]`` topic entity is tokenised
        on its own, brackets dropped, as entity strings are in KG completion (with a tokenizer whose
        pieces span spaces it then gets the same tokens as the entity)."""
        parts = [p.strip() for p in _TOPIC.split(text, maxsplit=1)]
        ids = [i for p in parts if p for i in self.tokenizer(p, add_special_tokens=False)["input_ids"]]
        return (self.answer_prefix + ids)[: self.max_input_length - 1] + [self.eos]

    def triple_pair(self, triple: Sequence[int], direction: int) -> tuple[list[int], list[int]]:
        """(input ids, target ids) of one triple in one direction."""
        h, r, t = (int(x) for x in triple)
        return (self.query(TAIL, h, r), self.target(t)) if direction == TAIL else \
            (self.query(HEAD, t, r), self.target(h))
