"""KGQA pairs over the world's KG in MetaQA format: ``question with [Entity]\\tans1|ans2``."""

from __future__ import annotations

import random
from pathlib import Path

from kg_ml.sample.archive import write_lines
from kg_ml.sample.world import World

# (relation, direction, kinds of the topic entity, template); "in" asks for heads of the relation.
TEMPLATES = (
    ("P19", "out", ("person",), "where was [{}] born"),
    ("P27", "out", ("person",), "what country is [{}] a citizen of"),
    ("P106", "out", ("person",), "what is the occupation of [{}]"),
    ("P108", "out", ("person",), "which organization does [{}] work for"),
    ("P69", "out", ("person",), "where did [{}] study"),
    ("P26", "out", ("person",), "who is [{}] married to"),
    ("P40", "out", ("person",), "who are the children of [{}]"),
    ("P22", "out", ("person",), "who is the father of [{}]"),
    ("P25", "out", ("person",), "who is the mother of [{}]"),
    ("P3373", "out", ("person",), "who are the siblings of [{}]"),
    ("P166", "out", ("person",), "what award did [{}] receive"),
    ("P20", "out", ("person",), "where did [{}] die"),
    ("P112", "out", ("org",), "who founded [{}]"),
    ("P159", "out", ("org",), "where is [{}] headquartered"),
    ("P452", "out", ("org",), "what industry is [{}] in"),
    ("P749", "out", ("org",), "what is the parent organization of [{}]"),
    ("P17", "out", ("org", "city"), "which country is [{}] in"),
    ("P131", "out", ("city",), "which province is [{}] in"),
    ("P36", "out", ("country",), "what is the capital of [{}]"),
    ("P37", "out", ("country",), "what is the official language of [{}]"),
    ("P47", "out", ("country",), "which countries border [{}]"),
    ("P1376", "out", ("city",), "[{}] is the capital of which country"),
    ("P19", "in", ("city",), "who was born in [{}]"),
    ("P112", "in", ("person",), "which organizations did [{}] found"),
    ("P108", "in", ("org",), "who works for [{}]"),
    ("P159", "in", ("city",), "which organizations are based in [{}]"),
)
MAX_ANSWERS = 8
PER_TEMPLATE = 45
SPLIT_SIZES = {"train": 0.7, "dev": 0.15, "test": 0.15}


def kgqa_pairs(world: World, rng: random.Random) -> dict[str, list[tuple[str, list[str]]]]:
    """Sample 1-hop questions per template; answers are canonical names from the full KG."""
    incoming: dict[tuple[str, str], list[str]] = {}
    for h, r, t in world.triples():
        incoming.setdefault((t, r), []).append(h)
    pairs: list[tuple[str, list[str]]] = []
    for pid, direction, kinds, template in TEMPLATES:
        candidates = []
        for ent in world.of_kind(*kinds):
            if ent.attrs.get("ambiguous"):
                continue  # the bracketed name would not identify the topic entity
            tails = ent.all(pid) if direction == "out" else incoming.get((ent.qid, pid), [])
            answers = list(dict.fromkeys(world[q].name for q in tails))
            if 0 < len(answers) <= MAX_ANSWERS and not any("|" in a for a in answers):
                candidates.append((template.format(ent.name), answers))
        pairs += rng.sample(candidates, min(PER_TEMPLATE, len(candidates)))
    rng.shuffle(pairs)
    n_train = round(SPLIT_SIZES["train"] * len(pairs))
    n_dev = round(SPLIT_SIZES["dev"] * len(pairs))
    return {"train": pairs[:n_train], "dev": pairs[n_train:n_train + n_dev],
            "test": pairs[n_train + n_dev:]}


def write_kgqa(out: Path, splits: dict[str, list[tuple[str, list[str]]]]) -> None:
    for split, pairs in splits.items():
        write_lines(out / f"qa_{split}.txt", (f"{q}\t{'|'.join(a)}" for q, a in pairs))
