"""The retrieval corpus in DPR's psgs_w100.tsv format: world articles, medical facts, distractors.

Fields are written plain (no quoting): passage text never contains tabs, quotes or newlines.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from kg_ml.sample.archive import write_lines
from kg_ml.sample.describe import title
from kg_ml.sample.medicine import BODY_SYSTEMS, CATEGORIES, DRUG_CLASSES, Disease, MedicalWorld
from kg_ml.sample.text import article, cap, join
from kg_ml.sample.world import World

_KB_KINDS = ("person", "org", "city", "province", "country", "language", "continent", "award")


@dataclass(frozen=True)
class Passage:
    key: str  # stable handle used to find gold passages, e.g. "treatment:Kestemia"
    title: str
    text: str


def _disease_passages(med: MedicalWorld, d: Disease) -> list[Passage]:
    overview = (f"{cap(d.name)} is {article(d.category)} {d.category} that mainly affects the "
                f"{d.organ}. {cap(d.name)} typically presents with {join(d.symptoms)}.")
    if d.pathogen:
        overview += f" It is caused by {d.pathogen}."
    if d.abbreviation:
        overview += f" It is often abbreviated {d.abbreviation}."
    treatment = f"{cap(d.drugs[0])} is the first-line treatment for {d.name}."
    for alt in d.drugs[1:]:
        treatment += f" {cap(alt)} is an alternative treatment for {d.name}."
    treatment += " Most patients improve within a few weeks of starting treatment."
    return [Passage(f"overview:{d.name}", d.name, overview),
            Passage(f"treatment:{d.name}", d.name, treatment)]


def _medical_passages(med: MedicalWorld) -> list[Passage]:
    out = [p for d in med.diseases for p in _disease_passages(med, d)]
    contra = {h: t for r, h, t in med.edges if r == "contraindicated_with"}
    for drug in med.drugs.values():
        mech = DRUG_CLASSES[drug.drug_class][1]
        text = (f"{cap(drug.name)} is {article(drug.drug_class)} {drug.drug_class} that acts by {mech}. "
                f"It is used to treat {join(drug.treats)}. "
                f"Common side effects include {join(drug.side_effects)}.")
        if drug.name in contra:
            text += f" It should not be used in patients with {contra[drug.name]}."
        out.append(Passage(f"drug:{drug.name}", drug.name, text))
    for cls, (_, mech) in DRUG_CLASSES.items():
        out.append(Passage(f"class:{cls}", cls, f"{cap(cls)}s are drugs that act by "
                           f"{mech}. They are prescribed by a physician after a diagnosis."))
    for cat, (_, organs, classes) in CATEGORIES.items():
        out.append(Passage(f"category:{cat}", cat, f"A {cat} often affects the {join(list(organs))}. "
                           f"It is usually treated with {join([c + 's' for c in classes])}."))
    for system, parts in BODY_SYSTEMS.items():
        out.append(Passage(f"system:{system}", system,
                           f"The {system} includes the {join(list(parts))}. A patient with a "
                           f"disease of the {system} is examined by a physician."))
    return out


def build_passages(world: World, paragraphs: dict[str, list[str]], med: MedicalWorld,
                   everyday: list[tuple[str, str]], rng: random.Random) -> list[Passage]:
    """All passages in a shuffled order; a passage's id is its 1-based position."""
    passages = [Passage(f"entity:{e.qid}", title(world, e), " ".join(paragraphs[e.qid]))
                for e in world.of_kind(*_KB_KINDS)]
    passages += _medical_passages(med)
    passages += [Passage(f"everyday:{t}", t, text) for t, text in everyday]
    rng.shuffle(passages)
    return passages


def passage_ids(passages: list[Passage]) -> dict[str, str]:
    return {p.key: str(i) for i, p in enumerate(passages, start=1)}


def write_knowledge_base(out: Path, passages: list[Passage]) -> None:
    for p in passages:
        if any(c in p.text + p.title for c in '\t\n"'):
            raise ValueError(f"passage {p.key} would need TSV quoting")
    lines = ["id\ttext\ttitle"] + [f"{i}\t{p.text}\t{p.title}" for i, p in enumerate(passages, 1)]
    write_lines(out / "psgs_w100.tsv.gz", lines, compress=True)
