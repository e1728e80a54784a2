"""Small built-in word lists and the combinatorial name builders of the sample world.

Every name is built from these lists, so the world needs no external data. A few entries carry
non-ASCII letters on purpose: parsers and tokenizers downstream must cope with them.
"""

from __future__ import annotations

import random
import unicodedata

MALE_FIRST = (
    "Adam", "Anton", "Arne", "Bram", "Carl", "Dario", "Elias", "Emil", "Felix", "Finn", "Gustav",
    "Hugo", "Ivan", "Jonas", "Karl", "Lars", "Leon", "Luca", "Magnus", "Marco", "Milan", "Nils",
    "Oskar", "Pavel", "Rafael", "Sami", "Stefan", "Teodor", "Tomas", "Viktor", "José", "Søren",
    "Björn", "Ömer",
)
FEMALE_FIRST = (
    "Ada", "Alma", "Anna", "Astrid", "Bea", "Clara", "Dora", "Elin", "Elsa", "Emma", "Eva", "Freya",
    "Greta", "Hanna", "Ida", "Ines", "Iris", "Julia", "Karin", "Lena", "Lina", "Maja", "Mira",
    "Nora", "Olga", "Petra", "Rosa", "Sara", "Tilde", "Vera", "Zoë", "Ágnes", "Renée",
)
SURNAMES = (
    "Aalto", "Berg", "Brandt", "Castell", "Dahl", "Eklund", "Falk", "Fischer", "Grant", "Hale",
    "Holm", "Ivers", "Jansen", "Keller", "Kovac", "Lind", "Lund", "Marsh", "Moreau", "Nagel",
    "Novak", "Olsen", "Pike", "Quist", "Rask", "Reyes", "Sandor", "Stone", "Strand", "Thorne",
    "Ulrich", "Varga", "Vidal", "Weiss", "Wolff", "Young", "Zeller", "Müller", "Núñez",
    "Ødegaard", "Åberg",
)
COUNTRY_STEMS = (
    "Val", "Nor", "Tar", "Mel", "Ost", "Bra", "Kel", "Sun", "Mar", "Lin", "Gal", "Tes", "Dor",
    "Ard", "Ruv",
)
COUNTRY_ENDINGS = ("oria", "avia", "land", "mark", "enia", "ovia", "ara")
LANGUAGE_ENDINGS = ("ish", "ic", "ese", "ian")
CONTINENTS = ("Aurelia", "Borealis", "Meridia")
REGION_PREFIXES = ("North", "South", "East", "West", "Central", "Upper", "Lower")
CITY_HEADS = (
    "Ash", "Bel", "Cor", "Dun", "El", "Fal", "Gran", "Hal", "Ir", "Kes", "Lor", "Mor", "Nor",
    "Ost", "Pel", "Quin", "Ros", "Sel", "Tor", "Val", "Wen", "Ør", "Sæ",
)
CITY_TAILS = (
    "ford", "ton", "burg", "haven", "mouth", "field", "stad", "vik", "bridge", "port", "dale",
    "holm", "wick", "mere", "gate",
)
ORG_HEADS = (
    "Apex", "Blue", "Cedar", "Crown", "Delta", "Eagle", "Falcon", "Granite", "Harbor", "Iron",
    "Juniper", "Kestrel", "Lumen", "Maple", "Nova", "Oak", "Pioneer", "Quartz", "Raven", "Silver",
    "Summit", "Titan", "Vertex", "Willow", "Zenith",
)
# Company name tail -> the industry it implies; one source for names and industry facts.
ORG_TAILS = {
    "Dynamics": "aerospace", "Labs": "biotechnology", "Systems": "software",
    "Industries": "manufacturing", "Foods": "food processing", "Motors": "automotive",
    "Media": "media", "Pharma": "pharmaceuticals", "Energy": "energy", "Logistics": "logistics",
    "Textiles": "textiles", "Airlines": "aviation", "Bank": "banking", "Insurance": "insurance",
    "Robotics": "robotics", "Studios": "film", "Records": "music", "Publishing": "publishing",
    "Mining": "mining",
}
# Names with a '|' break naive "head | relation" parsers (a known KGT5 pitfall): keep a few.
PIPE_ORGS = (("Blue|Line", "Studios"), ("Arc|Light", "Media"), ("Nova|Grid", "Energy"))
OCCUPATIONS = (
    "chemist", "physicist", "engineer", "architect", "lawyer", "journalist", "painter",
    "composer", "novelist", "physician", "economist", "politician", "entrepreneur", "biologist",
    "mathematician", "actor", "singer", "historian", "pilot", "teacher",
)
AWARDS = (
    "Golden Compass Award", "Silver Quill Prize", "Lumen Medal", "Harbor Prize for Science",
    "Crown Order of Merit", "Raven Award for Journalism", "Summit Prize in Engineering",
    "Willow Prize for Literature", "Falcon Medal", "Quartz Prize", "Zenith Award", "Pioneer Medal",
)


def ascii_fold(text: str) -> str:
    """Strip diacritics the way alias lists often do (Müller -> Muller); Ø/Æ have no decomposition."""
    table = str.maketrans({"Ø": "O", "ø": "o", "Æ": "Ae", "æ": "ae"})
    decomposed = unicodedata.normalize("NFKD", text.translate(table))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def person_names(rng: random.Random, n_male: int, n_female: int) -> tuple[list[str], list[str]]:
    """Distinct full names for men and women, drawn without replacement from first x surname."""
    male = [f"{f} {s}" for f in MALE_FIRST for s in SURNAMES]
    female = [f"{f} {s}" for f in FEMALE_FIRST for s in SURNAMES]
    return rng.sample(male, n_male), rng.sample(female, n_female)


def country_names(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """``n`` (country, language) name pairs with distinct stems."""
    stems = rng.sample(COUNTRY_STEMS, n)
    return [(s + rng.choice(COUNTRY_ENDINGS), s + rng.choice(LANGUAGE_ENDINGS)) for s in stems]


def city_names(rng: random.Random, n: int) -> list[str]:
    return rng.sample([h + t for h in CITY_HEADS for t in CITY_TAILS], n)


def company_names(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """``n`` distinct (name, tail) pairs; the tail decides the industry."""
    pairs = [(h, t) for h in ORG_HEADS for t in ORG_TAILS]
    return [(f"{h} {t}", t) for h, t in rng.sample(pairs, n)]
