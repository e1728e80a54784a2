"""Verbalise world entities: one paragraph of sentences per entity, stated from the KG facts.

The first sentence is a one-line description (Wikidata5M text, KGT5 disambiguation); the full
paragraph is what HotpotQA contexts and knowledge-base passages are made of.
"""

from __future__ import annotations

from kg_ml.sample.text import article, cap, join
from kg_ml.sample.world import Entity, World


def title(world: World, ent: Entity) -> str:
    """Display title: the name, disambiguated like Wikipedia titles where names collide."""
    if not ent.attrs.get("ambiguous"):
        return ent.name
    return f"{ent.name} ({world[ent.one('P106')].name}, born {ent.attrs['birth_year']})"


def paragraph(world: World, ent: Entity) -> list[str]:
    """Sentences stating the entity's facts, most identifying first."""
    return _WRITERS[ent.kind](world, ent)


def _person(world: World, p: Entity) -> list[str]:
    name = lambda pid: world[p.one(pid)].name  # noqa: E731 - tiny local accessor
    he, his = ("He", "His") if p.attrs["sex"] == "male" else ("She", "Her")
    alive = "death_year" not in p.attrs
    years = f"born {p.attrs['birth_year']}" if alive else f"{p.attrs['birth_year']}–{p.attrs['death_year']}"
    occ = name("P106")
    out = [f"{p.name} ({years}) {'is' if alive else 'was'} {article(occ)} {occ} from {name('P27')}.",
           f"{he} was born in {name('P19')}, {name('P27')}."]
    founded = [o for o in world.of_kind("org") if o.one("P112") == p.qid]
    for org in founded[:2]:
        out.append(f"In {org.attrs['founded']}, {he.lower()} founded {org.name}.")
    if p.one("P108"):
        out.append(f"{he} {'works' if alive else 'worked'} for {name('P108')}.")
    if p.one("P69"):
        out.append(f"{he} studied at {name('P69')}.")
    if p.one("P26"):
        out.append(f"{he} {'is' if alive else 'was'} married to {name('P26')}.")
    if p.all("P40"):
        out.append(f"{his} children include {join([world[c].name for c in p.all('P40')])}.")
    if p.one("P166"):
        out.append(f"{he} received the {name('P166')}.")
    if not alive:
        out.append(f"{he} died in {name('P20')} in {p.attrs['death_year']}.")
    return out


def _org(world: World, o: Entity) -> list[str]:
    city, country = world[o.one("P159")].name, world[o.one("P17")].name
    kind = o.attrs["org_type"]
    if kind == "business":
        industry = world[o.one("P452")].name
        first = f"{o.name} is {article(industry)} {industry} company headquartered in {city}, {country}."
    elif kind == "university":
        first = f"{o.name} is a university in {city}, {country}."
    else:
        first = f"{o.name} is a sports club based in {city}, {country}."
    founder = f" by {world[o.one('P112')].name}" if o.one("P112") else ""
    out = [first, f"It was founded in {o.attrs['founded']}{founder}."]
    if o.one("P749"):
        out.append(f"It is a subsidiary of {world[o.one('P749')].name}.")
    if o.all("P355"):
        out.append(f"Its subsidiaries include {join([world[s].name for s in o.all('P355')])}.")
    return out


def _city(world: World, c: Entity) -> list[str]:
    country = world[c.one("P17")].name
    out = [f"{c.name} is a city in {world[c.one('P131')].name}, {country}."]
    if c.one("P1376"):
        out.append(f"It is the capital of {country}.")
    based = [o.name for o in world.of_kind("org") if o.one("P159") == c.qid][:3]
    if based:
        out.append(f"It is home to {join(based)}.")
    return out


def _province(world: World, r: Entity) -> list[str]:
    cities = [world[c].name for c in r.all("P150")]
    return [f"{r.name} is a province of {world[r.one('P17')].name}.",
            f"Its cities include {join(cities)}."]


def _country(world: World, c: Entity) -> list[str]:
    borders = [world[b].name for b in c.all("P47")]
    return [f"{c.name} is a country in {world[c.one('P30')].name}.",
            f"Its capital is {world[c.one('P36')].name} and its official language is "
            f"{world[c.one('P37')].name}.",
            f"It shares borders with {join(borders)}."]


def _language(world: World, lang: Entity) -> list[str]:
    country = next(c for c in world.of_kind("country") if c.one("P37") == lang.qid)
    return [f"{lang.name} is a language spoken in {country.name}.",
            f"It is the official language of {country.name}."]


def _continent(world: World, c: Entity) -> list[str]:
    members = [k.name for k in world.of_kind("country") if k.one("P30") == c.qid]
    return [f"{c.name} is a continent.", f"Its countries include {join(members)}."]


def _award(world: World, a: Entity) -> list[str]:
    winners = sum(1 for p in world.of_kind("person") if a.qid in p.all("P166"))
    return [f"The {a.name} is an award presented in {world[a.one('P17')].name}.",
            f"It has been received by {winners} people."]


def _generic(noun: str):
    def write(world: World, e: Entity) -> list[str]:
        return [f"{cap(e.name)} is {article(noun)} {noun}."]
    return write


_WRITERS = {
    "person": _person, "org": _org, "city": _city, "province": _province, "country": _country,
    "language": _language, "continent": _continent, "award": _award,
    "occupation": _generic("occupation"), "industry": _generic("industry of the economy"),
    "class": _generic("class of things"), "sex": _generic("sex or gender"),
}
