"""Write commonsense facts as a ConceptNet 5.7 assertions file (5 tab columns, JSON metadata).

Besides the English facts, the file carries the rows a real ConceptNet reader must filter out:
non-English ends, relations outside DRAGON's merged set (ExternalURL, dbpedia/*, FormOf,
DerivedFrom, EtymologicallyRelatedTo), sense-tagged and POS-tagged URIs, self-loops, and terms
with digits or punctuation. Metadata imitates each source dataset (OMCS, Verbosity, Wiktionary,
WordNet, DBpedia) as found in the real file, with sorted keys.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from kg_ml.sample.archive import write_lines
from kg_ml.sample.commonsense import ACTIONS, ANTONYMS, GROUPS, Fact
from kg_ml.sample.world import World

Row = tuple[str, str, str, str, dict]  # edge uri, relation, start, end, metadata

SURFACE = {
    "AtLocation": "You are likely to find [[{s}]] in [[{e}]]", "UsedFor": "[[{s}]] is used for [[{e}]]",
    "IsA": "[[{s}]] is a type of [[{e}]]", "CapableOf": "[[{s}]] can [[{e}]]",
    "HasProperty": "[[{s}]] is [[{e}]]", "PartOf": "[[{s}]] is part of [[{e}]]",
    "HasA": "[[{s}]] has [[{e}]]", "MadeOf": "[[{s}]] can be made of [[{e}]]",
    "Causes": "Something that might happen as a consequence of [[{s}]] is [[{e}]]",
    "HasSubevent": "One of the things you do when you [[{s}]] is [[{e}]]",
    "HasFirstSubevent": "The first thing you do when you [[{s}]] is [[{e}]]",
    "HasLastSubevent": "The last thing you do when you [[{s}]] is [[{e}]]",
    "HasPrerequisite": "If you want to [[{s}]] then you should [[{e}]]",
    "MotivatedByGoal": "You would [[{s}]] because you want to [[{e}]]",
    "CausesDesire": "[[{s}]] would make you want to [[{e}]]", "Desires": "[[{s}]] wants [[{e}]]",
    "NotDesires": "[[{s}]] does not want [[{e}]]", "CreatedBy": "[[{s}]] is created by [[{e}]]",
    "ReceivesAction": "[[{s}]] can be [[{e}]]", "NotCapableOf": "[[{s}]] can not [[{e}]]",
    "DefinedAs": "[[{s}]] is the [[{e}]]", "LocatedNear": "[[{s}]] is typically near [[{e}]]",
}
WIKTIONARY_RELS = {"Synonym", "Antonym", "DistinctFrom", "SimilarTo", "HasContext", "MannerOf",
                   "Entails", "InstanceOf", "FormOf", "DerivedFrom", "EtymologicallyRelatedTo"}
OMCS_USERS = ("dev", "zenkatz", "rspeer", "havasi", "bedume", "anonymous", "kinnin", "vinn",
              "medicalmatt", "murielgodoi", "luisfh", "catherine", "mikey", "rosalind")
# WordNet lexicographer file of a group's members (sense tags like /n/wn/food); others: state.
WORDNET_SENSES = {"tool": "artifact", "food": "food", "furniture": "artifact", "animal": "animal",
                  "place": "location", "vehicle": "artifact", "body_part": "body",
                  "person": "person", "organization": "group", "medicine": "artifact"}
_SENSE_OF = {m: WORDNET_SENSES[g.category] for g in reversed(GROUPS) for m in g.members}
# English term -> (French, German, Spanish) for translation rows a reader must drop.
TRANSLATIONS = {
    "knife": ("couteau", "messer", "cuchillo"), "bread": ("pain", "brot", "pan"),
    "dog": ("chien", "hund", "perro"), "cat": ("chat", "katze", "gato"),
    "house": ("maison", "haus", "casa"), "doctor": ("médecin", "arzt", "médico"),
    "patient": ("patient", "patient", "paciente"), "fever": ("fièvre", "fieber", "fiebre"),
    "cough": ("toux", "husten", "tos"), "headache": ("mal_de_tête", "kopfschmerz", "dolor_de_cabeza"),
    "medicine": ("médicament", "medizin", "medicina"), "hospital": ("hôpital", "krankenhaus", "hospital"),
    "city": ("ville", "stadt", "ciudad"), "country": ("pays", "land", "país"),
    "company": ("entreprise", "firma", "empresa"), "water": ("eau", "wasser", "agua"),
    "heart": ("cœur", "herz", "corazón"), "child": ("enfant", "kind", "niño"),
    "disease": ("maladie", "krankheit", "enfermedad"),
    "treatment": ("traitement", "behandlung", "tratamiento"),
    "car": ("voiture", "auto", "coche"), "apple": ("pomme", "apfel", "manzana"),
}
LANGS = ("fr", "de", "es")
ODD_TERMS: tuple[Fact, ...] = (
    ("RelatedTo", "911", "emergency"), ("IsA", "24_hour_pharmacy", "pharmacy"),
    ("IsA", "mp3_player", "device"), ("Synonym", "dr.", "doctor"), ("RelatedTo", "e.g.", "example"),
    ("IsA", "covid-19", "disease"), ("UsedFor", "x-ray", "diagnosis"), ("RelatedTo", "h2o", "water"),
    ("IsA", "3d_printer", "machine"), ("RelatedTo", "a&e", "emergency_department"),
)
DERIVED = (("treatment", "treat"), ("diagnosis", "diagnose"), ("founder", "found"), ("birth", "be_born"))
ETYMOLOGY = (("doctor", "la", "doctor"), ("patient", "la", "patiens"), ("medicine", "la", "medicina"),
             ("fever", "ang", "fefor"), ("city", "la", "civitas"), ("company", "fro", "compaignie"))


def _uri(term: str, lang: str = "en", suffix: str = "") -> str:
    return f"/c/{lang}/{term}{suffix}"


def _pos(term: str) -> str:
    if term in ACTIONS:
        return "v"
    if any(term in pair for pair in ANTONYMS) and term not in ("man", "woman", "father", "mother",
                                                            "husband", "wife", "day", "night"):
        return "a"
    return "n"


def _row(rel: str, start: str, end: str, meta: dict) -> Row:
    rel_uri = rel if rel.startswith("/r/") else f"/r/{rel}"
    end_part = f"/{end}" if end.startswith("http") else end  # as in the real ExternalURL edges
    return (f"/a/[{rel_uri}/,{start}/,{end_part}/]", rel_uri, start, end, meta)


def _wiktionary(lang: str = "en") -> dict:
    return {"dataset": f"/d/wiktionary/{lang}", "license": "cc:by-sa/4.0",
            "sources": [{"contributor": f"/s/resource/wiktionary/{lang}",
                         "process": "/s/process/wikiparsec/2"}], "weight": 1.0}


def _dbpedia(weight: float = 0.5) -> dict:
    return {"dataset": "/d/dbpedia/en", "license": "cc:by-sa/4.0",
            "sources": [{"contributor": "/s/resource/dbpedia/2015/en"}], "weight": weight}


def _surface(text: str) -> str:
    return text.replace("_", " ")


def _omcs(rel: str, head: str, tail: str, rng: random.Random) -> dict:
    n = 1 if rng.random() < 0.7 else (2 if rng.random() < 0.67 else 3)
    first = rng.choice(("/s/activity/omcs/omcs1_possibly_free_text", "/s/activity/omcs/template"))
    sources = [{"activity": first, "contributor": f"/s/contributor/omcs/{rng.choice(OMCS_USERS)}"}]
    sources += [{"activity": "/s/activity/omcs/vote",
                 "contributor": f"/s/contributor/omcs/{rng.choice(OMCS_USERS)}"} for _ in range(n - 1)]
    start, end = _surface(head), _surface(tail)
    if rel == "AtLocation" and rng.random() < 0.4:
        end = f"a {end}"
    return {"dataset": "/d/conceptnet/4/en", "license": "cc:by/4.0", "sources": sources,
            "surfaceEnd": end, "surfaceStart": start,
            "surfaceText": SURFACE[rel].format(s=start, e=end), "weight": (1.0, 2.0, 2.828)[n - 1]}


def _fact_rows(fact: Fact, rng: random.Random) -> list[Row]:
    rel, head, tail = fact
    if rel == "RelatedTo" and rng.random() < 0.65:
        meta = {"dataset": "/d/verbosity", "license": "cc:by/4.0",
                "sources": [{"contributor": "/s/resource/verbosity"}], "surfaceEnd": _surface(tail),
                "surfaceStart": _surface(head),
                "surfaceText": f"[[{_surface(head)}]] is related to [[{_surface(tail)}]]",
                "weight": round(rng.uniform(0.1, 2.0), 3)}
        return [_row(rel, _uri(head), _uri(tail), meta)]
    if rel == "IsA" and rng.random() < 0.25:
        sense = _SENSE_OF.get(head, "state")
        meta = {"dataset": "/d/wordnet/3.1", "license": "cc:by/4.0",
                "sources": [{"contributor": "/s/resource/wordnet/rdf/3.1"}],
                "surfaceEnd": _surface(tail), "surfaceStart": _surface(head),
                "surfaceText": f"[[{_surface(head)}]] is a type of [[{_surface(tail)}]]", "weight": 2.0}
        return [_row(rel, _uri(head, suffix=f"/n/wn/{sense}"), _uri(tail, suffix=f"/n/wn/{sense}"), meta)]
    if rel in WIKTIONARY_RELS or rel == "RelatedTo":
        start = _uri(head, suffix=f"/{_pos(head)}") if rng.random() < 0.3 else _uri(head)
        return [_row(rel, start, _uri(tail), _wiktionary())]
    return [_row(rel, _uri(head), _uri(tail), _omcs(rel, head, tail, rng))]


def _plural(term: str) -> str:
    if term.endswith("y") and term[-2:-1] not in "aeiou":
        return term[:-1] + "ies"
    return term + ("es" if term.endswith(("s", "sh", "ch", "x")) else "s")


def _translation_rows() -> list[Row]:
    rows: list[Row] = []
    for en, words in TRANSLATIONS.items():
        for lang, word in zip(LANGS, words):
            source = _wiktionary("fr" if lang == "fr" else "en")
            rows.append(_row("Synonym", _uri(word, lang, "/n"), _uri(en), source))
        meta = {"dataset": "/d/wordnet/3.1", "license": "cc:by/4.0",
                "sources": [{"contributor": "/s/resource/wordnet/rdf/3.1"}], "surfaceEnd": en,
                "surfaceStart": words[0],
                "surfaceText": f"[[{words[0]}]] is a translation of [[{en}]]", "weight": 2.0}
        rows.append(_row("Synonym", _uri(words[0], "fr", "/n/wn/artifact"),
                         _uri(en, suffix="/n/wn/artifact"), meta))
        rows.append(_row("RelatedTo", _uri(words[1], "de"), _uri(words[2], "es"), _wiktionary("de")))
    return rows


def _lexical_rows(terms: list[str], rng: random.Random) -> list[Row]:
    """External links, inflections, etymology, self-loops and Wiktionary sense tags."""
    rows: list[Row] = []
    quarter = {**_wiktionary(), "weight": 0.25}
    for term in rng.sample(terms, 60):
        rows.append(_row("ExternalURL", _uri(term), f"http://dbpedia.org/resource/{term.capitalize()}",
                         _dbpedia(1.0)))
        rows.append(_row("ExternalURL", _uri(term), f"http://en.wiktionary.org/wiki/{term}", quarter))
    for term in rng.sample([t for t in terms if t.isalpha()], 50):
        rows.append(_row("FormOf", _uri(_plural(term), suffix="/n"), _uri(term), _wiktionary()))
    for term in rng.sample(terms, 25):
        rows.append(_row("Synonym", _uri(term, suffix=f"/{_pos(term)}"), _uri(term), _wiktionary()))
        rows.append(_row("RelatedTo", _uri(term), _uri(term), _wiktionary()))
    for head, tail in zip(rng.sample(terms, 15), rng.sample(terms, 15)):
        rows.append(_row("RelatedTo", _uri(head, suffix=f"/{_pos(head)}/wikt/en_1"), _uri(tail),
                         _wiktionary()))
    for en, lang, word in ETYMOLOGY:
        rows.append(_row("EtymologicallyRelatedTo", _uri(en), _uri(word, lang), quarter))
    for src, dst in DERIVED:
        rows.append(_row("DerivedFrom", _uri(src), _uri(dst, suffix="/v"), _wiktionary()))
    return rows


def _dbpedia_rows(world: World, rng: random.Random) -> list[Row]:
    rows: list[Row] = []
    for country in world.of_kind("country"):
        c = _uri(country.name.lower())
        for rel, pid in (("/r/dbpedia/capital", "P36"), ("/r/dbpedia/language", "P37")):
            rows.append(_row(rel, c, _uri(world[country.one(pid)].name.lower()), _dbpedia()))
    for org in [o for o in world.of_kind("org") if o.name.endswith(("Records", "Studios"))][:6]:
        term = org.name.lower().replace(" ", "_").replace("|", "_")
        genre = rng.choice(("jazz", "pop_music", "drama"))
        rows.append(_row("/r/dbpedia/genre", _uri(term), _uri(genre), _dbpedia()))
    return rows


def _noise_rows(facts: list[Fact], world: World, rng: random.Random) -> list[Row]:
    """Rows the English, merged-relation reader must drop (or, for POS tags, normalise)."""
    terms = list(dict.fromkeys(t for _, h, tl in facts for t in (h, tl)))
    rows = _translation_rows() + _lexical_rows(terms, rng) + _dbpedia_rows(world, rng)
    for fact in ODD_TERMS:
        rows += _fact_rows(fact, rng)
    return rows


def assertion_lines(facts: list[Fact], world: World, rng: random.Random) -> list[str]:
    """All rows as CSV lines, one per edge URI, sorted like the real file."""
    rows = [r for f in facts for r in _fact_rows(f, rng)] + _noise_rows(facts, world, rng)
    lines = {}
    for uri, rel, start, end, meta in rows:
        meta_json = json.dumps(meta, sort_keys=True, ensure_ascii=False)
        lines.setdefault(uri, "\t".join([uri, rel, start, end, meta_json]))
    return sorted(lines.values())


def write_conceptnet(out: Path, facts: list[Fact], world: World, rng: random.Random) -> None:
    write_lines(out / "conceptnet-assertions-5.7.0.csv.gz", assertion_lines(facts, world, rng),
                compress=True)
