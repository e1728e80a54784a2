"""Write the medical world as DRAGON's preprocessed UMLS graph (umls.csv + vocab files)."""

from __future__ import annotations

import random
from pathlib import Path

from kg_ml.sample.archive import write_lines
from kg_ml.sample.medicine import RELATION_NAMES, SYMPTOMS, MedicalWorld

_SUFFIX = {"disease": "disorder", "symptom": "finding", "drug": "substance"}


def assign_cuis(med: MedicalWorld, rng: random.Random) -> dict[str, str]:
    """Concept name -> synthetic CUI (``C`` + 7 digits), unique."""
    numbers = rng.sample(range(1, 10_000_000), len(med.kinds))
    return {name: f"C{n:07d}" for name, n in zip(med.kinds, numbers)}


def concept_aliases(med: MedicalWorld, name: str) -> list[str]:
    """UMLS-style strings for a concept: the name, then synonyms, abbreviations, tagged forms."""
    kind = med.kinds[name]
    out = [name]
    if kind == "symptom":
        out += SYMPTOMS[name][1]
    if kind == "disease":
        d = med.disease(name)
        out += [d.abbreviation] if d.abbreviation else []
        out.append(name.lower())
    if kind in _SUFFIX:
        out.append(f"{name} ({_SUFFIX[kind]})")
    return list(dict.fromkeys(out))


def write_medical_kg(out: Path, med: MedicalWorld, cuis: dict[str, str]) -> None:
    rows = sorted((RELATION_NAMES.index(r), cuis[h], cuis[t]) for r, h, t in med.edges)
    write_lines(out / "umls.csv", (f"{RELATION_NAMES[r]}\t{h}\t{t}\t1.0" for r, h, t in rows))
    write_lines(out / "concepts.txt", sorted(cuis.values()))
    write_lines(out / "relations.txt", RELATION_NAMES)
    by_cui = sorted((cui, name) for name, cui in cuis.items())
    write_lines(out / "concept_names.txt",
                (f"{cui}\t{alias}" for cui, name in by_cui for alias in concept_aliases(med, name)))
