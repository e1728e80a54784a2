"""Write the Wikidata5M files: transductive split, alias archive and text corpus."""

from __future__ import annotations

import random
from pathlib import Path

from kg_ml.sample.archive import gzip_bytes, write_bytes, write_tar_gz
from kg_ml.sample.names import ascii_fold
from kg_ml.sample.world import RELATIONS, Entity, World

Triple = tuple[str, str, str]
HELD_OUT_FRACTION = 0.05
# Held-out triples come from relations the rest of the graph implies (inverse or composed);
# a quarter of the candidates from these "hard" relations keep the task honest.
DERIVABLE = {"P27", "P26", "P22", "P25", "P40", "P1376", "P3373", "P150", "P355"}
HARD = {"P106", "P108", "P69", "P166"}
INVERSE = {"P26": ("P26",), "P3373": ("P3373",), "P22": ("P40",), "P25": ("P40",),
           "P40": ("P22", "P25"), "P1376": ("P36",), "P150": ("P131",), "P355": ("P749",)}


def split_triples(world: World, rng: random.Random) -> dict[str, list[Triple]]:
    """Hold out ~5% valid and ~5% test triples whose entities and relation stay seen in train."""
    triples = world.triples()
    target = round(HELD_OUT_FRACTION * len(triples))
    seen: dict[str, int] = {}
    for h, _, t in triples:
        seen[h] = seen.get(h, 0) + 1
        seen[t] = seen.get(t, 0) + 1
    held: dict[Triple, str] = {}
    for triple in rng.sample(triples, len(triples)):
        if len(held) == 2 * target:
            break
        h, r, t = triple
        org_country = r == "P17" and world[h].kind == "org"  # = P17 of its P159 city
        if not (r in DERIVABLE or org_country or (r in HARD and rng.random() < 0.25)):
            continue
        if seen[h] < 2 or seen[t] < 2 or any((t, inv, h) in held for inv in INVERSE.get(r, ())):
            continue
        seen[h] -= 1
        seen[t] -= 1
        held[triple] = "valid" if len(held) % 2 == 0 else "test"
    train = [tr for tr in triples if tr not in held]
    rng.shuffle(train)
    return {"train": train,
            "valid": [tr for tr, s in held.items() if s == "valid"],
            "test": [tr for tr, s in held.items() if s == "test"]}


def entity_aliases(world: World, ent: Entity) -> list[str]:
    """Canonical name first, then lowercase / ASCII-folded / kind-specific variants."""
    name = ent.name
    extra: list[str] = []
    if ent.kind == "person":
        first, _, last = name.partition(" ")
        extra = [f"{first[0]}. {last}", f"{last}, {first}"]
    elif ent.kind == "city":
        extra = [f"{name}, {world[ent.one('P17')].name}"]
    elif ent.kind == "country":
        extra = [f"Republic of {name}"]
    elif ent.kind == "org" and ent.attrs["org_type"] == "business":
        extra = [f"{name} Ltd.", name.replace("|", " ")]
    elif ent.kind == "org" and ent.attrs["org_type"] == "sports club":
        extra = [f"{name} FC"]
    out: list[str] = []
    for alias in [name, name.lower(), ascii_fold(name), ascii_fold(name).lower(), *extra]:
        if alias not in out:
            out.append(alias)
    return out


def description_text(sentences: list[str]) -> str:
    """The Wikidata5M text of an entity: its first one or two sentences."""
    return " ".join(sentences[:2])


def write_wikidata5m(out: Path, world: World, splits: dict[str, list[Triple]],
                     paragraphs: dict[str, list[str]], rng: random.Random) -> None:
    members = [(f"wikidata5m_transductive_{split}.txt",
                "".join(f"{h}\t{r}\t{t}\n" for h, r, t in splits[split]).encode())
               for split in ("train", "valid", "test")]
    write_tar_gz(out / "wikidata5m_transductive.tar.gz", members)
    order = rng.sample(list(world.entities.values()), len(world.entities))
    entity_txt = "".join("\t".join([e.qid, *entity_aliases(world, e)]) + "\n" for e in order)
    relation_txt = "".join("\t".join([pid, *aliases]) + "\n" for pid, aliases in RELATIONS.items())
    write_tar_gz(out / "wikidata5m_alias.tar.gz",
                 [("wikidata5m_entity.txt", entity_txt.encode()),
                  ("wikidata5m_relation.txt", relation_txt.encode())])
    text = "".join(f"{e.qid}\t{description_text(paragraphs[e.qid])}\n" for e in order)
    write_bytes(out / "wikidata5m_text.txt.gz", gzip_bytes(text.encode()))
