"""Everyday commonsense facts of the sample world (the ConceptNet side), as English triples.

Concepts are ConceptNet terms (lowercase, ``_`` between words). They cover everyday objects,
places, actions and properties and the words the world's questions use (symptoms, body parts,
'treatment', 'born', 'country', 'company', ...), linked through hub concepts so that pairs of
question concepts share neighbours. Relations use ConceptNet's names (``IsA``, ``UsedFor``, ...).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from kg_ml.sample.medicine import BODY_SYSTEMS, SYMPTOMS, MedicalWorld
from kg_ml.sample.names import OCCUPATIONS, ORG_TAILS
from kg_ml.sample.text import article, cap
from kg_ml.sample.world import World

Fact = tuple[str, str, str]  # (relation, head term, tail term)


@dataclass(frozen=True)
class Group:
    """Concepts of one kind; their facts are drawn from the group's shared neighbours."""

    category: str
    members: tuple[str, ...]
    locations: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    capable: tuple[str, ...] = ()
    properties: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()


GROUPS = (
    Group("tool", ("knife", "fork", "spoon", "plate", "cup", "bowl", "pan", "pot", "oven",
                   "refrigerator", "kettle", "cutting_board", "bottle", "scissors", "hammer"),
          ("kitchen", "restaurant", "drawer", "table"), ("cut", "eat", "cook", "drink", "store_food"),
          (), ("useful", "sharp", "clean", "hot"), ("metal", "wood", "plastic", "glass")),
    Group("food", ("apple", "banana", "bread", "cheese", "ice_cream", "rice", "soup", "egg", "milk",
                   "coffee", "tea", "orange_juice", "chocolate", "sandwich", "salad", "pizza",
                   "meat", "fish", "vegetable", "fruit", "cake", "water", "hot_dog"),
          ("kitchen", "restaurant", "supermarket", "refrigerator", "table"),
          ("eat", "drink", "satisfy_hunger", "nourish"), (),
          ("tasty", "sweet", "healthy", "hot", "cold", "delicious")),
    Group("furniture", ("bed", "chair", "table", "sofa", "lamp", "desk", "door", "window", "carpet",
                        "shelf", "mirror", "wardrobe"),
          ("bedroom", "living_room", "office", "house"),
          ("sleep", "sit", "read", "work", "store_things", "rest"), (),
          ("comfortable", "heavy", "soft"), ("wood", "metal", "cotton", "glass")),
    Group("animal", ("dog", "cat", "bird", "horse", "cow", "mouse", "lion", "bee", "snake", "sheep",
                     "chicken", "rabbit", "duck", "elephant"),
          ("zoo", "farm", "forest", "house", "field"), (),
          ("run", "fly", "swim", "eat", "sleep", "play"),
          ("alive", "friendly", "dangerous", "fast", "small", "big")),
    Group("place", ("house", "school", "hospital", "office", "park", "library", "restaurant",
                    "supermarket", "airport", "village", "street", "bank", "museum", "church",
                    "university", "factory", "farm", "zoo", "beach", "forest", "mountain", "river",
                    "city_hall", "police_station", "pharmacy", "clinic", "train_station",
                    "kitchen", "bedroom", "living_room"),
          ("city", "town", "country"), ("live", "learn", "work", "heal", "travel", "read", "buy_food"),
          (), ("big", "quiet", "busy", "public")),
    Group("vehicle", ("car", "bus", "train", "bicycle", "airplane", "boat", "truck", "taxi",
                      "motorcycle", "ambulance"),
          ("street", "road", "garage", "airport", "city"),
          ("travel", "transport_people", "carry_goods"), ("move", "carry"),
          ("fast", "expensive", "loud"), ("metal", "steel", "plastic")),
    Group("body_part", ("head", "arm", "leg", "hand", "foot", "heart", "lung", "liver", "kidney",
                        "stomach", "brain", "skin", "eye", "ear", "nose", "mouth", "throat", "chest",
                        "back", "bone", "blood", "muscle", "joint", "neck", "finger", "tooth",
                        "hair", "intestine", "abdomen"),
          ("body",), (), (), ("alive", "important", "painful")),
    Group("person", ("man", "woman", "child", "baby", "father", "mother", "husband", "wife",
                     "spouse", "parent", "friend", "teacher", "student", "founder", "employee",
                     "worker", "boss", "citizen", "patient", "doctor", "physician", "nurse",
                     "pharmacist", "surgeon", *OCCUPATIONS),
          ("house", "office", "city", "hospital"), (),
          ("work", "think", "talk", "walk", "eat", "sleep", "learn"),
          ("alive", "young", "old", "happy", "sad", "sick", "healthy")),
    Group("organization", ("company", "business", "university", "club", "team", "government",
                           "bank", "factory", "hospital", "school", "charity", "firm"),
          ("city", "country", "office", "headquarters"),
          ("work", "earn_money", "make_products", "learn"), ("employ_people", "grow"),
          ("big", "small", "rich", "public")),
    Group("medicine", ("drug", "pill", "tablet", "injection", "vaccine", "antibiotic", "medication",
                       "ointment", "syrup", "capsule", "painkiller"),
          ("pharmacy", "hospital", "clinic", "medicine_cabinet"),
          ("treat_disease", "heal", "relieve_pain", "cure"), (),
          ("bitter", "useful", "expensive", "dangerous")),
)

ACTIONS = ("eat", "drink", "sleep", "run", "walk", "cook", "cut", "read", "write", "work", "study",
           "travel", "play", "swim", "fly", "buy", "sell", "learn", "teach", "marry", "build",
           "heal", "cure", "treat", "recover", "breathe", "cough", "sneeze", "rest", "think",
           "talk", "see", "hear", "smell", "hold", "chew", "die", "live", "pay", "be_born",
           "found_company", "take_medicine", "visit_doctor", "move")
ANTONYMS = (("hot", "cold"), ("big", "small"), ("old", "young"), ("happy", "sad"),
            ("sick", "healthy"), ("fast", "slow"), ("clean", "dirty"), ("loud", "quiet"),
            ("heavy", "light"), ("expensive", "cheap"), ("dangerous", "safe"), ("man", "woman"),
            ("father", "mother"), ("husband", "wife"), ("buy", "sell"), ("teach", "learn"),
            ("sweet", "bitter"), ("soft", "hard"), ("day", "night"), ("alive", "dead"),
            ("be_born", "die"), ("rich", "poor"), ("public", "private"), ("sleep", "wake_up"))
SYNONYMS = (("physician", "doctor"), ("illness", "sickness"), ("disease", "illness"),
            ("medicine", "drug"), ("medication", "medicine"), ("company", "business"),
            ("firm", "company"), ("car", "automobile"), ("big", "large"), ("pill", "tablet"),
            ("headquarters", "head_office"), ("spouse", "partner"), ("nation", "country"),
            ("town", "city"), ("treatment", "therapy"), ("sick", "ill"), ("organization", "organisation"),
            ("employer", "boss"), ("tired", "exhausted"), ("abdomen", "belly"))
# Hand-written facts; hubs (medicine, disease, person, city, country, company) tie topics together.
FACTS: tuple[Fact, ...] = (
    ("IsA", "disease", "illness"), ("IsA", "infection", "disease"), ("Causes", "virus", "infection"),
    ("Causes", "bacteria", "infection"), ("Causes", "infection", "fever"), ("Causes", "disease", "pain"),
    ("Causes", "illness", "fatigue"), ("HasProperty", "disease", "dangerous"),
    ("RelatedTo", "symptom", "disease"), ("RelatedTo", "symptom", "diagnosis"),
    ("PartOf", "symptom", "disease"), ("HasA", "disease", "symptom"),
    ("UsedFor", "medicine", "treat_disease"), ("UsedFor", "treatment", "cure"),
    ("RelatedTo", "treatment", "medicine"), ("RelatedTo", "treatment", "patient"),
    ("RelatedTo", "treatment", "disease"), ("HasPrerequisite", "treatment", "diagnosis"),
    ("CapableOf", "doctor", "treat"), ("CapableOf", "physician", "diagnose_disease"),
    ("CapableOf", "doctor", "prescribe_medicine"), ("CapableOf", "nurse", "help_patient"),
    ("CapableOf", "pharmacist", "sell_medicine"), ("AtLocation", "patient", "hospital"),
    ("AtLocation", "doctor", "hospital"), ("AtLocation", "doctor", "clinic"),
    ("AtLocation", "medicine", "pharmacy"), ("Desires", "patient", "recover"),
    ("NotDesires", "patient", "pain"), ("NotDesires", "person", "disease"),
    ("Desires", "person", "be_healthy"), ("MotivatedByGoal", "take_medicine", "recover"),
    ("MotivatedByGoal", "visit_doctor", "get_treatment"), ("CausesDesire", "pain", "take_medicine"),
    ("CausesDesire", "fever", "rest"), ("CausesDesire", "illness", "visit_doctor"),
    ("HasSubevent", "visit_doctor", "examination"), ("HasSubevent", "examination", "diagnosis"),
    ("HasFirstSubevent", "visit_doctor", "describe_symptoms"),
    ("HasLastSubevent", "visit_doctor", "get_prescription"),
    ("HasPrerequisite", "take_medicine", "prescription"),
    ("CreatedBy", "medicine", "chemist"), ("CreatedBy", "vaccine", "scientist"),
    ("ReceivesAction", "medicine", "swallow"), ("ReceivesAction", "disease", "cure"),
    ("ReceivesAction", "patient", "examine"), ("DistinctFrom", "virus", "bacteria"),
    ("DistinctFrom", "doctor", "nurse"), ("DistinctFrom", "symptom", "disease"),
    ("HasContext", "diagnosis", "medicine"), ("HasContext", "symptom", "medicine"),
    ("HasContext", "syndrome", "medicine"), ("HasContext", "prescription", "medicine"),
    ("IsA", "syndrome", "disease"), ("IsA", "fever", "symptom"), ("IsA", "pain", "symptom"),
    ("IsA", "antibiotic", "drug"), ("IsA", "vaccine", "medicine"), ("IsA", "surgery", "treatment"),
    ("IsA", "therapy", "treatment"), ("IsA", "examination", "test"), ("IsA", "blood_test", "test"),
    ("UsedFor", "blood_test", "diagnosis"), ("UsedFor", "hospital", "treat_patient"),
    ("UsedFor", "emergency_department", "treat_patient"), ("PartOf", "emergency_department", "hospital"),
    ("AtLocation", "temperature", "body"), ("RelatedTo", "temperature", "fever"),
    ("RelatedTo", "blood_pressure", "heart"), ("RelatedTo", "pulse", "heart"),
    ("HasA", "person", "body"), ("HasA", "body", "heart"), ("HasA", "person", "name"),
    ("HasA", "person", "birthday"), ("RelatedTo", "be_born", "birthday"),
    ("RelatedTo", "be_born", "baby"), ("RelatedTo", "born", "be_born"), ("RelatedTo", "born", "birth"),
    ("AtLocation", "birth", "hospital"), ("HasSubevent", "be_born", "birth"),
    ("HasA", "country", "capital"), ("HasA", "country", "city"), ("HasA", "country", "government"),
    ("HasA", "country", "border"), ("HasA", "country", "language"), ("HasA", "country", "citizen"),
    ("IsA", "capital", "city"), ("PartOf", "city", "country"), ("PartOf", "province", "country"),
    ("PartOf", "country", "continent"), ("IsA", "province", "region"), ("HasA", "city", "street"),
    ("HasA", "city", "people"), ("AtLocation", "company", "city"), ("HasA", "company", "employee"),
    ("HasA", "company", "headquarters"), ("HasA", "company", "founder"), ("HasA", "company", "boss"),
    ("CreatedBy", "company", "founder"), ("RelatedTo", "founder", "found_company"),
    ("RelatedTo", "employer", "employee"), ("RelatedTo", "employer", "company"),
    ("RelatedTo", "headquarters", "office"), ("AtLocation", "headquarters", "city"),
    ("UsedFor", "company", "make_money"), ("MotivatedByGoal", "work", "earn_money"),
    ("HasPrerequisite", "found_company", "money"), ("CapableOf", "company", "employ_people"),
    ("HasA", "university", "student"), ("UsedFor", "university", "study"),
    ("HasA", "family", "parent"), ("HasA", "family", "child"), ("PartOf", "child", "family"),
    ("RelatedTo", "spouse", "marry"), ("RelatedTo", "marry", "wedding"), ("HasSubevent", "marry", "wedding"),
    ("Desires", "person", "happy"), ("CapableOf", "person", "work"), ("IsA", "man", "person"),
    ("IsA", "woman", "person"), ("IsA", "patient", "person"), ("Desires", "child", "play"),
    ("HasSubevent", "eat", "chew"), ("HasSubevent", "eat", "swallow"), ("HasSubevent", "cook", "cut"),
    ("HasFirstSubevent", "sleep", "lie_down"), ("HasLastSubevent", "cook", "eat"),
    ("HasPrerequisite", "cook", "buy_food"), ("HasPrerequisite", "recover", "rest"),
    ("HasPrerequisite", "study", "book"), ("Causes", "run", "tired"), ("Causes", "eat", "full"),
    ("CausesDesire", "hunger", "eat"), ("CausesDesire", "thirst", "drink"),
    ("CausesDesire", "tired", "sleep"),
    ("MotivatedByGoal", "study", "learn"), ("MotivatedByGoal", "eat", "satisfy_hunger"),
    ("Desires", "cat", "sleep"), ("Desires", "dog", "play"), ("NotDesires", "cat", "water"),
    ("CapableOf", "bird", "fly"), ("CapableOf", "fish", "swim"), ("CapableOf", "knife", "cut"),
    ("NotCapableOf", "fish", "walk"), ("NotCapableOf", "dog", "fly"), ("NotCapableOf", "car", "fly"),
    ("CreatedBy", "bread", "baker"), ("CreatedBy", "book", "writer"), ("ReceivesAction", "book", "read"),
    ("ReceivesAction", "food", "eat"), ("ReceivesAction", "car", "drive"),
    ("UsedFor", "eye", "see"), ("UsedFor", "ear", "hear"), ("UsedFor", "nose", "smell"),
    ("UsedFor", "mouth", "eat"), ("UsedFor", "mouth", "talk"), ("UsedFor", "leg", "walk"),
    ("UsedFor", "hand", "hold"), ("UsedFor", "lung", "breathe"), ("UsedFor", "heart", "pump_blood"),
    ("UsedFor", "brain", "think"), ("UsedFor", "stomach", "digest_food"), ("UsedFor", "tooth", "chew"),
    ("UsedFor", "foot", "walk"), ("PartOf", "finger", "hand"), ("PartOf", "tooth", "mouth"),
    ("Causes", "cold_weather", "cough"), ("Causes", "smoke", "cough"), ("RelatedTo", "sneeze", "nose"),
    ("RelatedTo", "cough", "cold"), ("HasSubevent", "cough", "breathe"), ("RelatedTo", "heal", "recover"),
    ("LocatedNear", "river", "city"), ("LocatedNear", "beach", "sea"), ("SimilarTo", "big", "large"),
    ("DefinedAs", "capital", "city_where_government_sits"), ("MannerOf", "jog", "run"),
    ("MannerOf", "sprint", "run"), ("Entails", "snore", "sleep"), ("InstanceOf", "monday", "day"),
    ("HasContext", "capital", "geography"), ("HasContext", "headquarters", "business"),
    ("HasContext", "employer", "business"), ("MadeOf", "pill", "chemical"), ("MadeOf", "bread", "flour"),
    ("RelatedTo", "man", "patient"), ("RelatedTo", "woman", "patient"), ("RelatedTo", "citizen", "born"),
    ("RelatedTo", "citizen", "country"), ("IsA", "award", "prize"), ("RelatedTo", "award", "win"),
    ("ReceivesAction", "award", "win"), ("HasA", "person", "occupation"),
    ("RelatedTo", "occupation", "work"), ("RelatedTo", "occupation", "employer"),
    ("HasA", "organization", "headquarters"), ("RelatedTo", "capital", "government"),
    ("HasA", "organization", "employee"), ("RelatedTo", "spouse", "family"),
    ("AtLocation", "government", "capital"), ("CapableOf", "founder", "found_company"),
    ("AtLocation", "founder", "company"), ("RelatedTo", "child", "parent"),
    ("RelatedTo", "born", "person"), ("RelatedTo", "born", "city"), ("RelatedTo", "award", "person"),
    ("CreatedBy", "award", "organization"),
)
# occupation -> (where the work happens, what the worker is capable of)
OCCUPATION_FACTS = {
    "chemist": ("laboratory", "study_chemicals"), "physicist": ("laboratory", "study_physics"),
    "engineer": ("factory", "build_machines"), "architect": ("office", "design_buildings"),
    "lawyer": ("court", "defend_client"), "journalist": ("newspaper", "write_articles"),
    "painter": ("studio", "paint"), "composer": ("studio", "write_music"),
    "novelist": ("library", "write_books"), "physician": ("hospital", "treat_patient"),
    "economist": ("bank", "study_economy"), "politician": ("government", "make_laws"),
    "entrepreneur": ("company", "found_company"), "biologist": ("laboratory", "study_life"),
    "mathematician": ("university", "solve_problems"), "actor": ("theater", "act"),
    "singer": ("concert", "sing"), "historian": ("library", "study_history"),
    "pilot": ("airplane", "fly"), "teacher": ("school", "teach"),
}
# Terms of the medical questions that are not symptoms: hubs every vignette mentions.
QUESTION_HUBS = ("patient", "physician", "treatment", "diagnosis", "drug", "medicine", "disease",
                 "symptom", "examination", "history", "illness", "emergency_department", "clinic",
                 "blood_pressure", "pulse", "medication", "pharmacotherapy", "condition", "finding")


def _term(text: str) -> str:
    return text.lower().replace(" ", "_")


def _world_facts(world: World) -> list[Fact]:
    """A little geography from the world, as ConceptNet has for real places."""
    out: list[Fact] = []
    for country in world.of_kind("country"):
        c = _term(country.name)
        capital = _term(world[country.one("P36")].name)
        out += [("IsA", c, "country"), ("IsA", capital, "city"), ("PartOf", capital, c),
                ("RelatedTo", capital, "capital"),
                ("PartOf", c, _term(world[country.one("P30")].name)),
                ("RelatedTo", _term(world[country.one("P37")].name), c)]
    for continent in world.of_kind("continent"):
        out.append(("IsA", _term(continent.name), "continent"))
    for city in world.of_kind("city"):
        out += [("IsA", _term(city.name), "city"),
                ("PartOf", _term(city.name), _term(world[city.one("P17")].name))]
    return out


def _organization_facts() -> list[Fact]:
    """The words company names are made of ("Records", "Airlines") and the words of the questions
    about them ("founded first"), as real ConceptNet has them, so organisation questions ground."""
    out: list[Fact] = [("RelatedTo", "found", "found_company"), ("RelatedTo", "found", "founder"),
                       ("Antonym", "first", "last"), ("RelatedTo", "industry", "company")]
    for tail, industry in ORG_TAILS.items():
        kind = _term(tail)
        out += [("IsA", kind, "company"), ("RelatedTo", kind, _term(industry)),
                ("IsA", _term(industry), "industry")]  # "media" is both: the self-loop is dropped later
    return out


def _medical_facts() -> list[Fact]:
    out: list[Fact] = []
    for symptom, (part, synonyms) in SYMPTOMS.items():
        s = _term(symptom)
        out += [("IsA", s, "symptom"), ("RelatedTo", s, part), ("RelatedTo", s, "illness"),
                ("HasContext", s, "medicine"), ("NotDesires", "patient", s)]
        out += [("Synonym", s, _term(syn)) for syn in synonyms if not syn.isupper()]
        if "pain" in symptom:
            out.append(("IsA", s, "pain"))
    for system, parts in BODY_SYSTEMS.items():
        out += [("PartOf", part, _term(system)) for part in parts]
        out.append(("PartOf", _term(system), "body"))
    for hub in QUESTION_HUBS:
        out += [("RelatedTo", hub, "medicine"), ("RelatedTo", hub, "patient")]
    return out


def commonsense_facts(world: World, med: MedicalWorld, rng: random.Random) -> list[Fact]:
    """All English facts, deduplicated, first-seen order; no self-loops (the writer adds some)."""
    facts: list[Fact] = list(FACTS) + _medical_facts() + _world_facts(world) + _organization_facts()
    # Symptoms that occur together are "related", as people write them down together.
    for d in med.diseases:
        facts += [("RelatedTo", _term(a), _term(b)) for a, b in zip(d.symptoms, d.symptoms[1:])]
    facts += [("Antonym", a, b) for a, b in ANTONYMS] + [("Synonym", a, b) for a, b in SYNONYMS]
    for group in GROUPS:
        facts.append(("RelatedTo", group.category, "thing"))
        for m in group.members:
            facts.append(("IsA", m, group.category))
            for rel, pool, k in (("AtLocation", group.locations, 3), ("UsedFor", group.uses, 1),
                                 ("CapableOf", group.capable, 1), ("HasProperty", group.properties, 2),
                                 ("MadeOf", group.materials, 1)):
                facts += [(rel, m, t) for t in rng.sample(pool, min(k, len(pool))) if t != m]
            peers = [p for p in group.members if p != m]
            facts += [("RelatedTo", m, p) for p in rng.sample(peers, 5)]
            facts.append(("RelatedTo", m, rng.choice(rng.choice(GROUPS).members)))
    for occupation, (place, ability) in OCCUPATION_FACTS.items():
        facts += [("AtLocation", occupation, place), ("CapableOf", occupation, ability),
                  ("IsA", occupation, "occupation"), ("RelatedTo", occupation, "work")]
    for action in ACTIONS:
        facts.append(("RelatedTo", action, rng.choice(ACTIONS)))
        facts.append(("HasContext", action, "everyday_life"))
    return [f for f in dict.fromkeys(facts) if f[1] != f[2]]


def everyday_passages() -> list[tuple[str, str]]:
    """(title, text) distractor passages about everyday things, one per group member."""
    out = []
    for group in GROUPS:
        for m in group.members[:6]:
            name = m.replace("_", " ")
            kind = group.category.replace("_", " ")
            text = f"{cap(article(name))} {name} is a kind of {kind}."
            if group.locations:
                text += f" It is often found in a {group.locations[0].replace('_', ' ')}."
            out.append((name, text))
    return out
