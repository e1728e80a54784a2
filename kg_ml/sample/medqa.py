"""MedQA-style vignettes over the medical world, in the MedQA US 4-option jsonl format.

A vignette shows three symptoms that identify one disease. Treatment questions ask for a drug
that treats it (the disease -> drug fact is never in the question); diagnosis questions ask for
the disease itself. Question ids follow the pipeline's convention ``{split}-{line:05d}``.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from kg_ml.sample.archive import write_lines
from kg_ml.sample.medicine import Disease, MedicalWorld
from kg_ml.sample.text import join

SPLIT_SIZES = {"train": 600, "dev": 150, "test": 150}
TREATMENT_SHARE = 0.6
LETTERS = ("A", "B", "C", "D")
# (sentence, its MetaMap-like phrases); {sym} is "s1, s2 and s3".
OPENERS = (
    ("A {age}-year-old {person} comes to the physician because of {sym}.",
     ["{age} year old {person}", "physician"]),
    ("A {age}-year-old {person} presents with {sym}.", ["{age} year old {person}", "presents"]),
    ("A {age}-year-old {person} is brought to the emergency department with {sym}.",
     ["{age} year old {person}", "brought", "emergency department"]),
    ("A previously healthy {age}-year-old {person} comes to the clinic with a {days}-day history "
     "of {sym}.", ["previously healthy", "{age} year old {person}", "clinic", "{days}-day history"]),
)
MIDDLES = (
    ("{He} has no history of serious illness and takes no medications.",
     ["history", "serious illness", "takes", "medications"]),
    ("The symptoms began {days} days ago and have gradually worsened.",
     ["symptoms began", "days", "worsened"]),
    ("{His} pulse is {pulse}/min and blood pressure is {sys}/{dia} mm Hg.",
     ["pulse", "min", "blood pressure", "mm Hg"]),
    ("Physical examination confirms these findings.", ["Physical examination", "findings"]),
)
ASKS = {
    "treatment": (
        ("Which of the following is the most appropriate treatment?",
         ["following", "most appropriate treatment"]),
        ("Which of the following is the most appropriate pharmacotherapy?",
         ["following", "most appropriate pharmacotherapy"]),
        ("Which of the following drugs is most likely to improve this patient's condition?",
         ["following drugs", "most likely to", "patient's condition"]),
    ),
    "diagnosis": (
        ("Which of the following is the most likely diagnosis?",
         ["following", "most likely diagnosis"]),
        ("Which of the following best explains these findings?",
         ["following best", "findings"]),
    ),
}


@dataclass(frozen=True)
class MedQuestion:
    qid: str
    kind: str  # "treatment" | "diagnosis"
    disease: str
    symptoms: tuple[str, ...]
    record: dict  # the jsonl line, in MedQA's key order

    @property
    def answer(self) -> str:
        return self.record["answer"]


def _distractors(med: MedicalWorld, d: Disease, shown: tuple[str, ...], kind: str,
                 rng: random.Random) -> list[str]:
    """Three wrong options; one shares the vignette's symptoms or the answer's drug class."""
    sharing = [o for o in med.diseases if o is not d and set(o.symptoms) & set(shown)]
    if kind == "diagnosis":
        others = [o.name for o in med.diseases if o is not d]
        hard = [o.name for o in sharing]
    else:
        others = [n for n, drug in med.drugs.items() if d.name not in drug.treats]
        classes = {med.drugs[n].drug_class for n in d.drugs}
        hard = [n for n in others if med.drugs[n].drug_class in classes]
        hard += [n for o in sharing for n in o.drugs]
    picked = [rng.choice(hard)] if hard else []
    rest = [n for n in others if n not in picked]
    return picked + rng.sample(rest, 3 - len(picked))


def _question(med: MedicalWorld, d: Disease, kind: str, rng: random.Random) -> tuple[dict, tuple]:
    shown = tuple(rng.sample(rng.choice(med.identifying_triples(d)), 3))
    sex = rng.choice(("male", "female"))
    slots = {"age": rng.randint(18, 80), "days": rng.randint(2, 14), "pulse": rng.randint(62, 118),
             "sys": rng.randint(100, 160), "dia": rng.randint(60, 95), "sym": join(shown),
             "person": "man" if sex == "male" else "woman",
             "He": "He" if sex == "male" else "She", "His": "His" if sex == "male" else "Her"}
    parts = [rng.choice(OPENERS)] + rng.sample(MIDDLES, rng.randint(1, 2)) + [rng.choice(ASKS[kind])]
    text = " ".join(s.format(**slots) for s, _ in parts)
    opener_phrases = [p.format(**slots) for p in parts[0][1]]
    phrases = opener_phrases + list(shown) + [p.format(**slots) for _, ph in parts[1:] for p in ph]
    if kind == "treatment":
        answer = d.drugs[0] if rng.random() < 0.7 else rng.choice(d.drugs)
    else:
        answer = d.name
    options = _distractors(med, d, shown, kind, rng) + [answer]
    rng.shuffle(options)
    idx = LETTERS[options.index(answer)]
    record = {"question": text, "answer": answer, "options": dict(zip(LETTERS, options)),
              "meta_info": rng.choice(("step1", "step2&3")), "answer_idx": idx,
              "metamap_phrases": phrases}
    return record, shown


def medqa_questions(med: MedicalWorld, rng: random.Random) -> dict[str, list[MedQuestion]]:
    """Questions per split; diseases are cycled so each appears in every split."""
    out: dict[str, list[MedQuestion]] = {}
    for split, n in SPLIT_SIZES.items():
        order = rng.sample(med.diseases, len(med.diseases))
        questions = []
        for i in range(n):
            d = order[i % len(order)]
            kind = "treatment" if rng.random() < TREATMENT_SHARE else "diagnosis"
            record, shown = _question(med, d, kind, rng)
            questions.append(MedQuestion(f"{split}-{i:05d}", kind, d.name, shown, record))
        out[split] = questions
    return out


def write_medqa(out: Path, splits: dict[str, list[MedQuestion]]) -> None:
    for split, questions in splits.items():
        write_lines(out / f"phrases_no_exclude_{split}.jsonl",
                    (json.dumps(q.record) for q in questions))
