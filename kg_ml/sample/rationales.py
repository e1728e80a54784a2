"""KARD teacher rationales: one raw ChatCompletion response per MedQA train question.

Most choices explain the answer with the facts the knowledge base states (so BM25 with the
rationale as query finds the gold passages); a minority argue for a wrong option or give no
reasons, so a verification filter has something to drop.
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

from kg_ml.sample.archive import write_tar_gz
from kg_ml.sample.medicine import MedicalWorld
from kg_ml.sample.medqa import MedQuestion
from kg_ml.sample.text import cap, join

N_CHOICES = 3
BAD_SHARE = 0.45  # questions with one wrong or reason-less choice
WRONG_GIVEN_BAD = 0.7
CREATED = 1680307200  # 2023-04-01, when gpt-3.5-turbo-0301 was the current model
PROMPT_TOKENS = 180  # instruction + few-shot prefix, before the question itself


def _symptoms(q: MedQuestion) -> str:
    return join(q.symptoms)


def _letter(q: MedQuestion, option: str) -> str:
    return next(k for k, v in q.record["options"].items() if v == option)


def _correct(med: MedicalWorld, q: MedQuestion, style: int) -> str:
    d = med.disease(q.disease)
    ans = q.answer
    lines = [
        f"The patient presents with {_symptoms(q)}, which together are the classic presentation "
        f"of {d.name}, a {d.category} that mainly affects the {d.organ}.",
        f"{cap(d.name)} typically presents with {_symptoms(q)}, and this patient has all three, so "
        f"the most likely diagnosis is {d.name}.",
        f"A combination of {_symptoms(q)} points to {d.name}.",
    ]
    text = lines[style % len(lines)]
    if q.kind == "treatment":
        line = "the first-line treatment" if ans == d.drugs[0] else "an alternative treatment"
        text += f" {cap(ans)} is {line} for {d.name}. The other options are not used to treat {d.name}."
    else:
        text += " The other options do not explain all of these symptoms."
    return f"{text} Therefore, the answer is ({_letter(q, ans)}) {ans}."


def _wrong(med: MedicalWorld, q: MedQuestion, rng: random.Random) -> str:
    option = rng.choice([v for v in q.record["options"].values() if v != q.answer])
    if q.kind == "treatment":
        treated = med.drugs[option].treats[0]
        text = f"These findings suggest {treated}, and {option} is commonly used to treat {treated}."
    else:
        text = f"The symptoms {_symptoms(q)} are most consistent with {option}."
    return f"{text} Therefore, the answer is ({_letter(q, option)}) {option}."


def _vague(q: MedQuestion) -> str:
    return f"Based on the information given, the best choice is ({_letter(q, q.answer)}) {q.answer}."


def _chat_id(rng: random.Random) -> str:
    chars = string.ascii_letters + string.digits
    return "chatcmpl-" + "".join(rng.choice(chars) for _ in range(29))


def _n_tokens(text: str) -> int:
    return round(len(text.split()) * 1.3)  # rough BPE tokens per word, for a plausible usage block


def completion(med: MedicalWorld, q: MedQuestion, index: int, rng: random.Random) -> dict:
    """The ChatCompletion object (key order as the API returns it)."""
    # At most one bad choice per question, so the majority of every sample stays usable.
    bad = rng.randrange(N_CHOICES) if rng.random() < BAD_SHARE else None
    contents = []
    for i in range(N_CHOICES):
        if i != bad:
            contents.append(_correct(med, q, i + index))
        elif rng.random() < WRONG_GIVEN_BAD:
            contents.append(_wrong(med, q, rng))
        else:
            contents.append(_vague(q))
    prompt = PROMPT_TOKENS + _n_tokens(q.record["question"] + " " + " ".join(q.record["options"].values()))
    done = sum(_n_tokens(c) for c in contents)
    return {
        "id": _chat_id(rng), "object": "chat.completion", "created": CREATED + 7 * index,
        "model": "gpt-3.5-turbo-0301",
        "choices": [{"index": i, "message": {"role": "assistant", "content": c},
                     "finish_reason": "stop"} for i, c in enumerate(contents)],
        "usage": {"prompt_tokens": prompt, "completion_tokens": done, "total_tokens": prompt + done},
    }


def write_rationales(out: Path, med: MedicalWorld, train: list[MedQuestion],
                     rng: random.Random) -> None:
    members = [(f"medqa/train/{q.qid}.json",
                (json.dumps(completion(med, q, i, rng), indent=2) + "\n").encode())
               for i, q in enumerate(train)]
    write_tar_gz(out / "teacher_rationales.tar.gz", members)
