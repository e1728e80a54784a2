"""HotpotQA questions over the world, written in the MRQA v2 jsonl.gz format.

Bridge questions need both gold paragraphs (the first names the bridge entity, the second holds
the answer); comparison questions compare a fact stated in each. Yes/no questions are left out,
as MRQA dropped them. Each context is the two gold paragraphs plus two distractors, in random order.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from kg_ml.sample.archive import gzip_bytes, write_bytes
from kg_ml.sample.describe import title
from kg_ml.sample.tokenize import token_span, tokenize
from kg_ml.sample.world import Entity, World

N_TRAIN, N_DEV = 800, 200
N_DISTRACTORS = 2
# Template -> share of the questions.
MIX = {"founder_country": 0.15, "employer_hq": 0.15, "employer_founder": 0.12,
       "birth_capital": 0.15, "spouse_birthplace": 0.13, "born_first": 0.18,
       "founded_first": 0.12}


@dataclass(frozen=True)
class HotpotQuestion:
    question: str
    answer: str
    gold: tuple[str, str]  # entity ids whose paragraphs support the answer
    kind: str


def _clear(ent: Entity) -> bool:
    return not ent.attrs.get("ambiguous")


def _candidates(world: World, rng: random.Random) -> dict[str, list[HotpotQuestion]]:
    people = [p for p in world.of_kind("person") if _clear(p)]
    orgs = world.of_kind("org")
    name = lambda qid: world[qid].name  # noqa: E731 - tiny local accessor
    out: dict[str, list[HotpotQuestion]] = {k: [] for k in MIX}
    for org in orgs:
        founder = org.one("P112")
        if founder and _clear(world[founder]):
            out["founder_country"].append(HotpotQuestion(
                f"In which country was the founder of {org.name} born?",
                name(world[founder].one("P27")), (org.qid, founder), "bridge"))
    for p in people:
        employer = p.one("P108") and world[p.one("P108")]
        if employer:
            out["employer_hq"].append(HotpotQuestion(
                f"In which city is the employer of {p.name} headquartered?",
                name(employer.one("P159")), (p.qid, employer.qid), "bridge"))
            if employer.one("P112") and employer.one("P112") != p.qid:
                out["employer_founder"].append(HotpotQuestion(
                    f"Who founded the organization that {p.name} worked for?",
                    name(employer.one("P112")), (p.qid, employer.qid), "bridge"))
        country = world[p.one("P27")]
        out["birth_capital"].append(HotpotQuestion(
            f"What is the capital of the country where {p.name} was born?",
            name(country.one("P36")), (p.qid, country.qid), "bridge"))
        spouse = p.one("P26")
        if spouse and _clear(world[spouse]):
            out["spouse_birthplace"].append(HotpotQuestion(
                f"In which city was the spouse of {p.name} born?",
                name(world[spouse].one("P19")), (p.qid, spouse), "bridge"))
    for _ in range(400):
        a, b = rng.sample(people, 2)
        if a.attrs["birth_year"] != b.attrs["birth_year"]:
            first = min(a, b, key=lambda e: e.attrs["birth_year"])
            out["born_first"].append(HotpotQuestion(
                f"Who was born first, {a.name} or {b.name}?", first.name, (a.qid, b.qid),
                "comparison"))
        a, b = rng.sample(orgs, 2)
        if a.attrs["founded"] != b.attrs["founded"]:
            first = min(a, b, key=lambda e: e.attrs["founded"])
            out["founded_first"].append(HotpotQuestion(
                f"Which was founded first, {a.name} or {b.name}?", first.name, (a.qid, b.qid),
                "comparison"))
    return out


def hotpot_questions(world: World, rng: random.Random) -> dict[str, list[HotpotQuestion]]:
    """``{"train": [...], "dev": [...]}``, mixing templates by ``MIX``, no question repeated."""
    total = N_TRAIN + N_DEV
    chosen: list[HotpotQuestion] = []
    spare: list[HotpotQuestion] = []  # tops up templates with too few candidates
    for kind, pool in _candidates(world, rng).items():
        unique = list({q.question: q for q in pool}.values())
        rng.shuffle(unique)
        quota = round(MIX[kind] * total)
        chosen += unique[:quota]
        spare += unique[quota:]
    chosen += rng.sample(spare, total - len(chosen))
    rng.shuffle(chosen)
    return {"train": chosen[:N_TRAIN], "dev": chosen[N_TRAIN:total]}


def _context(world: World, paragraphs: dict[str, list[str]], q: HotpotQuestion,
             rng: random.Random, pool: list[Entity]) -> str:
    ids = list(q.gold)
    while len(ids) < 2 + N_DISTRACTORS:
        cand = rng.choice(pool).qid
        if cand not in ids:
            ids.append(cand)
    rng.shuffle(ids)
    # HotpotQA sentences keep their leading space, so MRQA's joined paragraphs have double spaces.
    return " ".join(f"[PAR] [TLE] {title(world, world[i])} [SEP] {'  '.join(paragraphs[i])}"
                    for i in ids)


def _answer_spans(context: str, tokens: list[list], answer: str) -> tuple[list, list]:
    starts = {off for _, off in tokens}
    ends = {off + len(tok) - 1 for tok, off in tokens}
    chars, toks = [], []
    pos = context.find(answer)
    while pos >= 0:
        end = pos + len(answer) - 1
        if pos in starts and end in ends:  # whole tokens only, not inside a longer word
            chars.append([pos, end])
            toks.append(token_span(tokens, pos, end))
        pos = context.find(answer, pos + 1)
    return chars, toks


def mrqa_record(world: World, paragraphs: dict[str, list[str]], q: HotpotQuestion,
                rng: random.Random, pool: list[Entity]) -> dict:
    """One MRQA context line (key order as in the real MRQA files)."""
    context = _context(world, paragraphs, q, rng, pool)
    tokens = tokenize(context)
    chars, toks = _answer_spans(context, tokens, q.answer)
    if not chars:
        raise AssertionError(f"answer {q.answer!r} not in context of {q.question!r}")
    qa = {"answers": [q.answer], "question": q.question, "id": f"{rng.getrandbits(96):024x}",
          "qid": f"{rng.getrandbits(128):032x}", "question_tokens": tokenize(q.question),
          "detected_answers": [{"text": q.answer, "char_spans": chars, "token_spans": toks}]}
    return {"id": "", "context": context, "qas": [qa], "context_tokens": tokens}


def write_hotpotqa(out: Path, world: World, paragraphs: dict[str, list[str]],
                   splits: dict[str, list[HotpotQuestion]], rng: random.Random) -> None:
    pool = world.of_kind("person", "org", "city")
    for split, questions in splits.items():
        header = json.dumps({"header": {"dataset": "HotpotQA", "split": split}})
        lines = [header] + [json.dumps(mrqa_record(world, paragraphs, q, rng, pool))
                            for q in questions]
        write_bytes(out / split / "HotpotQA.jsonl.gz",
                    gzip_bytes("".join(f"{line}\n" for line in lines).encode()))
