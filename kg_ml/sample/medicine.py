"""The medical side of the world: diseases, their symptoms and the drugs that treat them.

Each disease has 3-5 symptoms, and every three-symptom combination a question may show belongs to
that disease alone, so a vignette identifies its disease. Which drug treats which disease is a
fact the vignette never states: it lives in the knowledge base, the medical KG and rationales.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

# name -> (body part, synonyms); the synonyms become UMLS-style aliases.
SYMPTOMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "fever": ("body", ("pyrexia", "high temperature")),
    "cough": ("lung", ("tussis",)),
    "headache": ("head", ("cephalalgia",)),
    "rash": ("skin", ("skin eruption",)),
    "fatigue": ("body", ("tiredness", "lethargy")),
    "nausea": ("stomach", ("queasiness",)),
    "vomiting": ("stomach", ("emesis",)),
    "diarrhea": ("intestine", ("loose stools",)),
    "joint pain": ("joint", ("arthralgia",)),
    "chest pain": ("chest", ("thoracic pain",)),
    "abdominal pain": ("abdomen", ("stomach ache", "belly pain")),
    "shortness of breath": ("lung", ("dyspnea", "SOB")),
    "night sweats": ("skin", ("nocturnal sweating",)),
    "weight loss": ("body", ("loss of weight",)),
    "dizziness": ("head", ("vertigo",)),
    "blurred vision": ("eye", ("visual blurring",)),
    "throat pain": ("throat", ("sore throat",)),
    "muscle weakness": ("muscle", ("myasthenia",)),
    "back pain": ("back", ("dorsalgia",)),
    "palpitations": ("heart", ("heart pounding",)),
    "jaundice": ("liver", ("icterus", "yellow skin")),
    "leg swelling": ("leg", ("peripheral edema",)),
    "itching": ("skin", ("pruritus",)),
    "confusion": ("brain", ("disorientation",)),
    "tremor": ("hand", ("shaking",)),
    "insomnia": ("brain", ("sleeplessness",)),
    "hair loss": ("skin", ("alopecia",)),
    "dry skin": ("skin", ("xerosis",)),
    "frequent urination": ("kidney", ("polyuria",)),
    "excessive thirst": ("mouth", ("polydipsia",)),
    "numbness": ("hand", ("paresthesia",)),
    "hoarseness": ("throat", ("dysphonia",)),
    "nosebleeds": ("nose", ("epistaxis",)),
    "chills": ("body", ("shivering",)),
    "muscle cramps": ("muscle", ("muscle spasms",)),
    "swollen lymph nodes": ("neck", ("lymphadenopathy",)),
    "red eyes": ("eye", ("conjunctival injection",)),
    "loss of appetite": ("stomach", ("anorexia",)),
}
BODY_SYSTEMS = {
    "respiratory system": ("lung", "throat", "nose", "chest"),
    "digestive system": ("stomach", "intestine", "liver", "abdomen", "mouth"),
    "nervous system": ("brain", "head", "eye", "body"),
    "musculoskeletal system": ("joint", "muscle", "back", "leg", "hand"),
    "cardiovascular system": ("heart",),
    "integumentary system": ("skin",),
    "urinary system": ("kidney",),
    "lymphatic system": ("neck",),
}
# category -> (name patterns, organs it favours, drug classes that treat it)
CATEGORIES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "infectious disease": (("{S}ian fever", "{S}osis"), ("lung", "throat", "body"),
                           ("antibiotic", "antiviral", "antifungal", "antiparasitic")),
    "autoimmune disease": (("{N} syndrome",), ("joint", "skin", "muscle"),
                           ("immunosuppressant", "monoclonal antibody")),
    "metabolic disorder": (("{S}emia", "{N} disease"), ("kidney", "liver", "body"),
                           ("hormone analog",)),
    "cardiovascular disease": (("{N} cardiopathy", "{S}ocarditis"), ("heart", "chest", "leg"),
                               ("ACE inhibitor", "beta blocker")),
    "neurological disorder": (("{N} syndrome", "{S}oneuropathy"), ("brain", "head", "hand"),
                              ("anticonvulsant",)),
    "respiratory disease": (("pulmonary {s}osis", "{S}obronchitis"), ("lung", "chest", "throat"),
                            ("bronchodilator", "corticosteroid")),
    "skin disease": (("{S}oderma",), ("skin",), ("corticosteroid", "retinoid")),
    "digestive disease": (("{S}ocolitis", "{N} enteropathy"), ("stomach", "intestine", "abdomen"),
                          ("proton pump inhibitor",)),
}
# drug class -> (name suffixes, mechanism of action)
DRUG_CLASSES: dict[str, tuple[tuple[str, ...], str]] = {
    "antibiotic": (("mycin", "cillin"), "inhibition of bacterial cell wall synthesis"),
    "antiviral": (("vir",), "inhibition of viral replication"),
    "antifungal": (("conazole",), "inhibition of ergosterol synthesis"),
    "antiparasitic": (("dazole",), "disruption of parasite microtubules"),
    "immunosuppressant": (("limus",), "inhibition of T cell activation"),
    "monoclonal antibody": (("mab",), "cytokine blockade"),
    "hormone analog": (("tide",), "hormone receptor agonism"),
    "ACE inhibitor": (("pril",), "inhibition of angiotensin converting enzyme"),
    "beta blocker": (("olol",), "beta adrenergic receptor blockade"),
    "anticonvulsant": (("etam",), "sodium channel blockade"),
    "bronchodilator": (("terol",), "beta 2 receptor agonism"),
    "corticosteroid": (("sone",), "glucocorticoid receptor agonism"),
    "retinoid": (("tinoin",), "retinoic acid receptor agonism"),
    "proton pump inhibitor": (("prazole",), "inhibition of the gastric proton pump"),
}
DISEASE_STEMS = (
    "Varn", "Kest", "Thal", "Mor", "Ostr", "Pyl", "Dren", "Cal", "Zor", "Bel", "Quen", "Sarv",
    "Tov", "Lux", "Fenn", "Gorv", "Hesk", "Jarn", "Lom", "Nesk", "Parv", "Rilt", "Sev", "Ulm",
    "Wex", "Yarr", "Brel", "Drom", "Kalv", "Mesk",
)
EPONYMS = (
    "Halvorsen", "Brandt", "Okafor", "Lindqvist", "Moreau", "Castell", "Whitcombe", "Ivers",
    "Sandor", "Thorne", "Kessler", "Aldana", "Brightwater", "Marlow",
)
DRUG_STEMS = (
    "zen", "lor", "vax", "ter", "mil", "cor", "dap", "fen", "gal", "ket", "nor", "pra", "quel",
    "ris", "sul", "tam", "ven", "xan", "bel", "dro", "hal", "jor", "kal", "mor", "pel", "sor",
    "tiv", "vor", "zol", "bri",
)
DRUG_LINKS = ("a", "i", "o", "e")
N_DISEASES = 40
QUESTION_SYMPTOMS = 3
RELATION_NAMES = (
    "has_symptom", "may_treat", "may_prevent", "may_cause", "isa", "contraindicated_with",
    "has_finding_site", "interacts_with", "has_mechanism_of_action", "has_causative_agent",
    "associated_with", "part_of",
)


@dataclass
class Disease:
    name: str
    category: str
    organ: str
    symptoms: list[str]
    drugs: list[str] = field(default_factory=list)  # first = first-line treatment
    pathogen: str | None = None
    abbreviation: str | None = None


@dataclass
class Drug:
    name: str
    drug_class: str
    treats: list[str] = field(default_factory=list)
    side_effects: list[str] = field(default_factory=list)


@dataclass
class MedicalWorld:
    diseases: list[Disease]
    drugs: dict[str, Drug]
    edges: list[tuple[str, str, str]]  # (relation, head name, tail name)
    kinds: dict[str, str]  # concept name -> kind (disease, symptom, drug, ...)

    def disease(self, name: str) -> Disease:
        return next(d for d in self.diseases if d.name == name)

    def identifying_triples(self, disease: Disease) -> list[tuple[str, ...]]:
        """Three-symptom combinations that no other disease shows all of."""
        others = [set(d.symptoms) for d in self.diseases if d is not disease]
        return [c for c in itertools.combinations(disease.symptoms, QUESTION_SYMPTOMS)
                if not any(set(c) <= o for o in others)]


def _disease_names(rng: random.Random) -> list[tuple[str, str]]:
    cats = list(CATEGORIES)
    stems = rng.sample(DISEASE_STEMS, len(DISEASE_STEMS))
    eponyms = rng.sample(EPONYMS, len(EPONYMS))
    out = []
    for i in range(N_DISEASES):
        cat = cats[i % len(cats)]
        pattern = rng.choice(CATEGORIES[cat][0])
        if "{N}" in pattern:
            name = pattern.format(N=eponyms.pop()) if eponyms else f"{stems.pop()}osis"
        else:
            stem = stems.pop()
            name = pattern.format(S=stem, s=stem.lower())
        out.append((name, cat))
    return out


def _abbreviation(name: str) -> str | None:
    words = name.split()
    return "".join(w[0].upper() for w in words) if len(words) > 1 else None


def _pick_symptoms(rng: random.Random, organ: str) -> list[str]:
    local = [s for s, (part, _) in SYMPTOMS.items() if part == organ]
    rest = [s for s in SYMPTOMS if s not in local]
    n = rng.randint(3, 5)
    own = rng.sample(local, min(len(local), rng.randint(1, 2)))
    return own + rng.sample(rest, n - len(own))


def build_medicine(rng: random.Random) -> MedicalWorld:
    diseases = []
    for name, cat in _disease_names(rng):
        organ = rng.choice(CATEGORIES[cat][1])
        diseases.append(Disease(name, cat, organ, _pick_symptoms(rng, organ),
                                abbreviation=_abbreviation(name)))
    med = MedicalWorld(diseases, {}, [], {})
    # Redraw the symptoms of any disease no three-symptom vignette could identify.
    for d in diseases:
        while not med.identifying_triples(d):
            d.symptoms = _pick_symptoms(rng, d.organ)
    _add_drugs(med, rng)
    _add_edges(med, rng)
    return med


def _add_drugs(med: MedicalWorld, rng: random.Random) -> None:
    names = [s + link for s in DRUG_STEMS for link in DRUG_LINKS]
    rng.shuffle(names)
    for d in med.diseases:
        for _ in range(1 if rng.random() < 0.5 else 2):
            cls = rng.choice(CATEGORIES[d.category][2])
            drug = Drug(names.pop() + rng.choice(DRUG_CLASSES[cls][0]), cls, [d.name])
            avoid = set(d.symptoms)
            drug.side_effects = rng.sample([s for s in SYMPTOMS if s not in avoid], rng.randint(1, 2))
            med.drugs[drug.name] = drug
            d.drugs.append(drug.name)
        if d.category == "infectious disease":
            stem = d.name.split()[-1][:4].capitalize() if " " in d.name else d.name[:4]
            d.pathogen = f"{stem}ovirus" if rng.random() < 0.5 else f"{stem}ella bacterium"


def _add_edges(med: MedicalWorld, rng: random.Random) -> None:
    kinds = med.kinds
    edges = med.edges
    for system, parts in BODY_SYSTEMS.items():
        kinds[system] = "body_system"
        for part in parts:
            kinds[part] = "body_part"
            edges.append(("part_of", part, system))
    kinds["disease"] = "category"
    for cat in CATEGORIES:
        kinds[cat] = "category"
        edges.append(("isa", cat, "disease"))
    kinds["pharmaceutical preparation"] = "drug_class"
    for cls, (_, mechanism) in DRUG_CLASSES.items():
        kinds[cls] = "drug_class"
        kinds[mechanism] = "mechanism"
        edges.append(("isa", cls, "pharmaceutical preparation"))
    for symptom in SYMPTOMS:
        kinds[symptom] = "symptom"
    for d in med.diseases:
        kinds[d.name] = "disease"
        edges.append(("isa", d.name, d.category))
        edges.append(("has_finding_site", d.name, d.organ))
        edges += [("has_symptom", d.name, s) for s in d.symptoms]
        if d.pathogen:
            kinds[d.pathogen] = "pathogen"
            edges.append(("has_causative_agent", d.name, d.pathogen))
    for drug in med.drugs.values():
        kinds[drug.name] = "drug"
        edges.append(("isa", drug.name, drug.drug_class))
        edges.append(("has_mechanism_of_action", drug.name, DRUG_CLASSES[drug.drug_class][1]))
        edges += [("may_treat", drug.name, t) for t in drug.treats]
        edges += [("may_cause", drug.name, s) for s in drug.side_effects]
        others = [d for d in med.diseases if d.name not in drug.treats]
        if rng.random() < 0.3:
            edges.append(("contraindicated_with", drug.name, rng.choice(others).name))
        same = [d for d in others if d.category == med.disease(drug.treats[0]).category]
        if same and rng.random() < 0.15:
            edges.append(("may_prevent", drug.name, rng.choice(same).name))
    drugs = list(med.drugs)
    for _ in range(20):
        a, b = rng.sample(drugs, 2)
        edges += [("interacts_with", a, b), ("interacts_with", b, a)]
    for _ in range(12):
        a, b = rng.sample(med.diseases, 2)
        edges.append(("associated_with", a.name, b.name))
    med.edges = list(dict.fromkeys(edges))  # drop repeats, keep first-seen order
