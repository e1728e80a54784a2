"""The entity/fact model of the sample world: people, places and organisations as Wikidata items.

Facts are stored once, as (head, Wikidata property, tail) edges between items, plus a few literal
attributes (years, sex) that Wikidata5M has no entity for. Every writer reads this one model, so
the KG, the QA sets and the text corpora agree with each other.

Built-in regularities (what makes held-out triples inferable):
* inverse pairs: P26 spouse is symmetric, P40 child <-> P22 father / P25 mother, P36 capital <->
  P1376 capital of, P131 located in <-> P150 contains, P749 parent org <-> P355 subsidiary,
  P3373 sibling and P47 shares border are symmetric;
* compositions: a person's P27 citizenship = P17 of their P19 birthplace; an organisation's P17 =
  P17 of its P159 headquarters city.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from kg_ml.sample import names as N

# Relation id -> aliases (first = canonical), trimmed from the real wikidata5m_relation.txt.
RELATIONS: dict[str, tuple[str, ...]] = {
    "P31": ("instance of", "is a", "is an", "has class", "has type", "is a particular",
            "is an example of", "member of", "rdf:type", "type"),
    "P279": ("subclass of", "rdfs:subClassOf", "hyponym of", "has superclass", "is also a",
             "subtype of", "is a type of", "type of", "form of"),
    "P21": ("sex or gender", "gender identity", "gender", "biological sex", "sex"),
    "P19": ("place of birth", "birthplace", "born in", "POB", "birth place", "location born",
            "born at", "birth location", "location of birth", "birth city"),
    "P20": ("place of death", "deathplace", "died in", "death place", "POD",
            "location of death", "death location"),
    "P27": ("country of citizenship", "citizen of", "national of", "subject of (country)",
            "citizenship", "nationality"),
    "P106": ("occupation", "profession", "job", "work", "career", "employment", "craft"),
    "P108": ("employer", "workplace", "employed by", "works at", "working for", "worked for",
             "works for", "worked at", "working place"),
    "P69": ("educated at", "alma mater", "education", "alumni of", "alumnus of", "alumna of",
            "college attended", "university attended", "studied at", "graduate of",
            "graduated from"),
    "P26": ("spouse", "husband", "wife", "married to", "consort", "partner", "marriage partner",
            "married", "wedded to", "life partner", "spouses"),
    "P40": ("child", "son", "daughter", "kid", "has child", "children", "has children",
            "parent of", "offspring"),
    "P22": ("father", "dad", "daddy", "has father", "parent", "is son of", "is daughter of",
            "is child of", "son of", "daughter of", "child of"),
    "P25": ("mother", "mum", "mom", "mam", "has mother", "parent", "is son of",
            "is daughter of", "is child of", "son of", "daughter of", "child of"),
    "P3373": ("sibling", "brother", "sister", "has sister", "has brother", "brother or sister",
              "sister or brother"),
    "P166": ("award received", "prize received", "awards", "award", "honours", "honors",
             "medals", "awarded", "award won", "prize awarded", "awards received"),
    "P112": ("founded by", "co-founder", "founders", "established by", "co-founded by",
             "founder"),
    "P159": ("headquarters location", "head office location", "HQ", "admin HQ", "seat",
             "headquarters", "head quarters", "HQ location", "based in"),
    "P452": ("industry", "field of action", "field of exercise", "sector", "branch",
             "economic branch"),
    "P749": ("parent organization", "owned by (company or organization)", "subsidiary of",
             "parent company", "parent organisation", "holding company", "parent unit"),
    "P355": ("subsidiary", "subsidiary company", "subsidiary entities", "parent company of",
             "has subsidiary", "owns"),
    "P17": ("country", "sovereign state", "state", "land", "host country"),
    "P131": ("located in the administrative territorial entity",
             "located in the administrative unit", "is located in", "is in the province of",
             "in administrative unit", "in", "locality", "region"),
    "P150": ("contains administrative territorial entity", "contains", "divides into",
             "divided into", "has cities", "has municipalities", "subdivided into"),
    "P36": ("capital", "capital city", "capital town", "chef-lieu", "principal place",
            "administrative centre", "has capital"),
    "P1376": ("capital of", "county seat of", "county seat for"),
    "P37": ("official language", "language official", "spoken in", "speaking",
            "language spoken"),
    "P30": ("continent", "located on continent", "on continent"),
    "P47": ("shares border with", "borders", "bordered by", "adjacent to", "next to", "border"),
}

N_COUNTRIES = 15
REGIONS_PER_COUNTRY = 3
CITIES_PER_COUNTRY = 10
N_PEOPLE = 1400
N_COMPANIES = 150
N_UNIVERSITIES = 35
N_CLUBS = 15
N_COLLISIONS = 10
CLASSES = ("human", "city", "country", "province", "business", "university", "sports club",
           "organization", "language", "continent", "award", "occupation", "industry")


@dataclass(eq=False)
class Entity:
    """One Wikidata-style item: outgoing edges by property id, literals in ``attrs``."""

    qid: str
    kind: str
    name: str
    edges: dict[str, list[str]] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)

    def one(self, pid: str) -> str | None:
        tails = self.edges.get(pid)
        return tails[0] if tails else None

    def all(self, pid: str) -> list[str]:
        return self.edges.get(pid, [])


@dataclass
class World:
    free_ids: list[int] = field(repr=False)  # unused Q-numbers, drawn from the end
    entities: dict[str, Entity] = field(default_factory=dict)

    def add(self, kind: str, name: str, **attrs: Any) -> Entity:
        ent = Entity(f"Q{self.free_ids.pop()}", kind, name, attrs=dict(attrs))
        self.entities[ent.qid] = ent
        return ent

    def link(self, head: Entity, pid: str, tail: Entity) -> None:
        head.edges.setdefault(pid, []).append(tail.qid)

    def link_both(self, a: Entity, pid: str, b: Entity, inverse_pid: str) -> None:
        self.link(a, pid, b)
        self.link(b, inverse_pid, a)

    def __getitem__(self, qid: str) -> Entity:
        return self.entities[qid]

    def of_kind(self, *kinds: str) -> list[Entity]:
        return [e for e in self.entities.values() if e.kind in kinds]

    def triples(self) -> list[tuple[str, str, str]]:
        """All (head, relation, tail) edges in creation order."""
        return [(e.qid, pid, t) for e in self.entities.values()
                for pid, tails in e.edges.items() for t in tails]


def build_world(rng: random.Random) -> World:
    """Create the whole world; every random choice comes from ``rng``."""
    world = World(free_ids=rng.sample(range(10_000, 9_000_000), 4000))
    cls = {c: world.add("class", c) for c in CLASSES}
    for sub in ("business", "university", "sports club"):
        world.link(cls[sub], "P279", cls["organization"])
    sexes = {s: world.add("sex", s) for s in ("male", "female")}
    countries = _add_geography(world, rng, cls)
    cities = world.of_kind("city")
    occupations = [world.add("occupation", o) for o in N.OCCUPATIONS]
    for occ in occupations:
        world.link(occ, "P31", cls["occupation"])
    awards = []
    for name in N.AWARDS:
        award = world.add("award", name)
        world.link(award, "P31", cls["award"])
        world.link(award, "P17", rng.choice(countries))
        awards.append(award)
    people = _add_people(world, rng, cls, sexes, cities, occupations, awards)
    _add_orgs(world, rng, cls, cities, people)
    _add_careers(world, rng, people)
    _add_families(world, rng, people)
    _add_name_collisions(world, rng, people)
    return world


def _add_geography(world: World, rng: random.Random, cls: dict[str, Entity]) -> list[Entity]:
    continents = [world.add("continent", c) for c in N.CONTINENTS]
    for c in continents:
        world.link(c, "P31", cls["continent"])
    city_names = N.city_names(rng, N_COUNTRIES * CITIES_PER_COUNTRY)
    countries = []
    for i, (cname, lname) in enumerate(N.country_names(rng, N_COUNTRIES)):
        country = world.add("country", cname)
        language = world.add("language", lname)
        world.link(country, "P31", cls["country"])
        world.link(country, "P30", continents[i % len(continents)])
        world.link(country, "P37", language)
        world.link(language, "P31", cls["language"])
        regions = []
        for prefix in rng.sample(N.REGION_PREFIXES, REGIONS_PER_COUNTRY):
            region = world.add("province", f"{prefix} {cname}")
            world.link(region, "P31", cls["province"])
            world.link(region, "P17", country)
            world.link_both(region, "P131", country, "P150")
            regions.append(region)
        for j in range(CITIES_PER_COUNTRY):
            city = world.add("city", city_names[i * CITIES_PER_COUNTRY + j])
            world.link(city, "P31", cls["city"])
            world.link(city, "P17", country)
            world.link_both(city, "P131", regions[j % REGIONS_PER_COUNTRY], "P150")
            if j == 0:
                world.link_both(country, "P36", city, "P1376")
        countries.append(country)
    # A ring plus a few chords keeps every country bordered and the border graph connected.
    pairs = [(i, (i + 1) % N_COUNTRIES) for i in range(N_COUNTRIES)]
    pairs += [(i, (i + 5) % N_COUNTRIES) for i in range(0, N_COUNTRIES, 3)]
    for i, j in pairs:
        world.link_both(countries[i], "P47", countries[j], "P47")
    return countries


def _add_people(world: World, rng: random.Random, cls: dict[str, Entity],
                sexes: dict[str, Entity], cities: list[Entity], occupations: list[Entity],
                awards: list[Entity]) -> list[Entity]:
    n_male = N_PEOPLE // 2
    male, female = N.person_names(rng, n_male, N_PEOPLE - n_male)
    named = [(n, "male") for n in male] + [(n, "female") for n in female]
    rng.shuffle(named)
    capitals = [c for c in cities if c.one("P1376")]
    people = []
    for name, sex in named:
        # Capitals are likelier birthplaces, as in real biographies.
        city = rng.choice(capitals) if rng.random() < 0.25 else rng.choice(cities)
        birth = rng.randint(1900, 1995)
        person = world.add("person", name, sex=sex, birth_year=birth)
        world.link(person, "P31", cls["human"])
        world.link(person, "P21", sexes[sex])
        world.link(person, "P19", city)
        world.link(person, "P27", world[city.one("P17")])
        world.link(person, "P106", rng.choice(occupations))
        if rng.random() < 0.12:
            world.link(person, "P166", rng.choice(awards))
        if birth < 1945 and rng.random() < 0.6:
            person.attrs["death_year"] = min(2020, birth + rng.randint(55, 95))
            world.link(person, "P20", rng.choice(cities))
        people.append(person)
    return people


def _add_orgs(world: World, rng: random.Random, cls: dict[str, Entity], cities: list[Entity],
              people: list[Entity]) -> None:
    specs: list[tuple[str, str, str | None, Entity]] = [
        (name, "business", N.ORG_TAILS[tail], rng.choice(cities))
        for name, tail in N.company_names(rng, N_COMPANIES)]
    specs += [(f"{head} {tail}", "business", N.ORG_TAILS[tail], rng.choice(cities))
              for head, tail in N.PIPE_ORGS]
    home_cities = rng.sample(cities, N_UNIVERSITIES + N_CLUBS)
    for i, city in enumerate(home_cities[:N_UNIVERSITIES]):
        name = f"University of {city.name}" if i % 3 else f"{city.name} Institute of Technology"
        specs.append((name, "university", None, city))
    for i, city in enumerate(home_cities[N_UNIVERSITIES:]):
        club = f"{city.name} {('Rovers', 'United', 'Athletic')[i % 3]}"
        specs.append((club, "sports club", None, city))
    industries: dict[str, Entity] = {}
    companies = []
    for name, kind, industry, city in specs:
        founded = rng.randint(1900, 2015) if kind == "business" else rng.randint(1880, 1990)
        org = world.add("org", name, org_type=kind, founded=founded)
        world.link(org, "P31", cls[kind])
        world.link(org, "P159", city)
        world.link(org, "P17", world[city.one("P17")])
        if industry is not None:
            if industry not in industries:
                industries[industry] = world.add("industry", industry)
                world.link(industries[industry], "P31", cls["industry"])
            world.link(org, "P452", industries[industry])
        if kind != "university" or rng.random() < 0.4:
            founders = [p for p in people if founded - 60 <= p.attrs["birth_year"] <= founded - 22]
            if founders:
                world.link(org, "P112", rng.choice(founders))
        if kind == "business":
            companies.append(org)
    for org in companies:
        older = [c for c in companies if c.attrs["founded"] < org.attrs["founded"] and c is not org]
        if older and rng.random() < 0.15:
            world.link_both(org, "P749", rng.choice(older), "P355")


def _add_careers(world: World, rng: random.Random, people: list[Entity]) -> None:
    orgs = world.of_kind("org")
    universities = [o for o in orgs if o.attrs["org_type"] == "university"]
    for person in people:
        if rng.random() < 0.7:
            world.link(person, "P108", rng.choice(orgs))
        if rng.random() < 0.5:
            world.link(person, "P69", rng.choice(universities))


def _add_families(world: World, rng: random.Random, people: list[Entity]) -> None:
    """Marry people of similar age, then give some couples children among younger people."""
    singles = [p for p in people if p.attrs["sex"] == "female"]
    couples = []
    for man in (p for p in people if p.attrs["sex"] == "male"):
        if rng.random() >= 0.45:
            continue
        year = man.attrs["birth_year"]
        options = [w for w in singles if abs(w.attrs["birth_year"] - year) <= 8]
        if options:
            wife = rng.choice(options)
            singles.remove(wife)
            world.link_both(man, "P26", wife, "P26")
            couples.append((man, wife))
    orphans = list(people)
    taken = {p.name for p in people}
    for father, mother in couples:
        if rng.random() >= 0.5:
            continue
        young = max(father.attrs["birth_year"], mother.attrs["birth_year"])
        candidates = [p for p in orphans if young + 20 <= p.attrs["birth_year"] <= young + 42]
        children = rng.sample(candidates, min(len(candidates), rng.randint(1, 3)))
        for child in children:
            orphans.remove(child)
            # Children take the father's surname where that name is still free.
            renamed = f"{child.name.split(' ', 1)[0]} {father.name.split(' ', 1)[1]}"
            if renamed not in taken:
                taken.add(renamed)
                child.name = renamed
            world.link_both(child, "P22", father, "P40")
            world.link_both(child, "P25", mother, "P40")
        for a in children:
            for b in children:
                if a is not b:
                    world.link(a, "P3373", b)


def _add_name_collisions(world: World, rng: random.Random, people: list[Entity]) -> None:
    """Give a few pairs of different people the same canonical name (as real Wikidata has)."""
    unattached = [p for p in people if not (p.all("P40") or p.all("P22") or p.all("P26"))]
    for sex in ("male", "female"):
        pool = rng.sample([p for p in unattached if p.attrs["sex"] == sex], N_COLLISIONS)
        for a, b in zip(pool[::2], pool[1::2]):
            if a.attrs["birth_year"] == b.attrs["birth_year"]:
                b.attrs["birth_year"] += 1
            b.name = a.name
            a.attrs["ambiguous"] = b.attrs["ambiguous"] = True
