"""Build the sample world and write every upstream-format file of ``data/sample``."""

from __future__ import annotations

import logging
import random
from pathlib import Path

from kg_ml.io import atomic_dir
from kg_ml.sample.commonsense import commonsense_facts, everyday_passages
from kg_ml.sample.conceptnet import write_conceptnet
from kg_ml.sample.describe import paragraph
from kg_ml.sample.hotpotqa import hotpot_questions, write_hotpotqa
from kg_ml.sample.kgqa import kgqa_pairs, write_kgqa
from kg_ml.sample.knowledge_base import build_passages, passage_ids, write_knowledge_base
from kg_ml.sample.medical_kg import assign_cuis, write_medical_kg
from kg_ml.sample.medicine import build_medicine
from kg_ml.sample.medqa import medqa_questions, write_medqa
from kg_ml.sample.meta import write_gold_passages, write_readme
from kg_ml.sample.rationales import write_rationales
from kg_ml.sample.wikidata5m import split_triples, write_wikidata5m
from kg_ml.sample.world import build_world

log = logging.getLogger(__name__)


def generate(out: str | Path, seed: int = 0) -> None:
    """Write the whole sample into ``out`` (replaced atomically).

    Each component draws from its own ``random.Random`` seeded with ``"{seed}/{component}"``, so
    changing one writer does not reshuffle the others.
    """

    def rng(component: str) -> random.Random:
        return random.Random(f"{seed}/{component}")

    world = build_world(rng("world"))
    paragraphs = {qid: paragraph(world, e) for qid, e in world.entities.items()}
    med = build_medicine(rng("medicine"))
    log.info("world: %d entities, %d diseases, %d drugs",
             len(world.entities), len(med.diseases), len(med.drugs))
    with atomic_dir(out) as tmp:
        log.info("writing wikidata5m + kgqa")
        splits = split_triples(world, rng("wikidata5m-split"))
        write_wikidata5m(tmp / "wikidata5m", world, splits, paragraphs, rng("wikidata5m"))
        write_kgqa(tmp / "kgqa", kgqa_pairs(world, rng("kgqa")))
        log.info("writing hotpotqa")
        write_hotpotqa(tmp / "hotpotqa", world, paragraphs, hotpot_questions(world, rng("hotpotqa")),
                       rng("hotpotqa-context"))
        log.info("writing medqa, medical kg, knowledge base, rationales")
        medqa = medqa_questions(med, rng("medqa"))
        write_medqa(tmp / "medqa", medqa)
        write_medical_kg(tmp / "medical_kg", med, assign_cuis(med, rng("cui")))
        passages = build_passages(world, paragraphs, med, everyday_passages(), rng("knowledge-base"))
        write_knowledge_base(tmp / "knowledge_base", passages)
        write_rationales(tmp / "rationales", med, medqa["train"], rng("rationales"))
        log.info("writing conceptnet")
        facts = commonsense_facts(world, med, rng("commonsense"))
        write_conceptnet(tmp / "conceptnet", facts, world, rng("conceptnet"))
        write_gold_passages(tmp / "meta", medqa, passage_ids(passages))
        write_readme(tmp / "meta", tmp)
