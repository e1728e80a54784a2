"""Synthetic upstream-format inputs of the smaller sources, for ``bench/full_scale.py``.

MedQA-USMLE jsonl, MRQA HotpotQA ``.jsonl.gz``, KGQA (MetaQA format), DRAGON's UMLS graph files,
KARD's teacher rationales (the extracted ``medqa/train/<id>.json`` tree), and Wikidata5M's text
corpus ``wikidata5m_text.txt.gz``; byte formats as tests/ and data/sample/ have them. Sizes are
the real ones times a fraction ``f``; the words are real English words (the spaCy lemma table of
bench/grounding.py, so questions ground to its ConceptNet and to the medical graph made here)
with rare synthetic ones; only formats, sizes and rough length statistics are realistic.
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

SEED = 20240611

# Real sizes (UPSTREAM.md; assumptions marked)
MEDQA = {"train": 10_178, "dev": 1_272, "test": 1_273}
HOTPOTQA = {"train": 72_928, "dev": 5_904}
HOTPOT_TOKENS = (550, 180, 150, 800)  # context tokens: mean, sd, min, max (MRQA caps at 800; assumed)
KGQA = {"train": 30_000, "dev": 3_000, "test": 3_000}  # assumed, as the GPU rows
UMLS_CONCEPTS = 297_927  # DRAGON's UMLS vocabulary
UMLS_EDGES_PER_CONCEPT = 10  # assumed (~3M edges)
UMLS_NAMES_PER_CONCEPT = 3  # assumed mean MRCONSO names per CUI
UMLS_RELATIONS = 40  # assumed (a vocabulary: not scaled)
RATIONALES_PER_QUESTION = 10  # KARD: 10 gpt-3.5-turbo samples per MedQA train question
WD5M_TEXT_WORDS = 90  # mean words per entity text (991 MB gzipped ~ 2.7 GB of text over 4.8M)


def n_of(full: int, f: float, floor: int = 10) -> int:
    return max(floor, round(full * f))


@lru_cache(maxsize=1)
def vocab() -> tuple[list[str], list[str]]:
    """(common real English words, stopwords), fixed order."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import grounding  # bench/grounding.py

    from kg_ml.grounding.words import NLTK_STOPWORDS

    base, _, _ = grounding._words(np.random.default_rng(SEED), n_rare=10)
    common = list(np.random.default_rng(SEED).permutation(base))
    return common, sorted(NLTK_STOPWORDS)


@lru_cache(maxsize=32)
def _cdf(n: int, s: float, offset: float) -> np.ndarray:
    c = np.cumsum(1.0 / (np.arange(n) + offset) ** s)
    return c / c[-1]


def _zipf_idx(rng: np.random.Generator, n: int, size, s: float = 1.0, offset: float = 20.0) -> np.ndarray:
    return np.minimum(np.searchsorted(_cdf(n, s, offset), rng.random(size)), n - 1)


class Text:
    """Sentences of stopwords, Zipf content words and inserted phrases (concept names)."""

    def __init__(self, rng: np.random.Generator, phrases: list[str] | None = None) -> None:
        self.rng = rng
        self.common, self.stop = vocab()
        self.common_a = np.array(self.common, dtype=object)
        self.stop_a = np.array(self.stop, dtype=object)
        self.phrases = np.array(phrases, dtype=object) if phrases else None

    def words(self, n: int) -> list[str]:
        r = self.rng.random(n)
        out = np.where(r < 0.38, self.stop_a[self.rng.integers(0, len(self.stop_a), n)],
                       self.common_a[_zipf_idx(self.rng, len(self.common_a), n)])
        if self.phrases is not None:
            ph = r > 0.93
            out[ph] = self.phrases[_zipf_idx(self.rng, len(self.phrases), int(ph.sum()), s=0.7, offset=10)]
        return out.tolist()

    def sentence(self, n: int) -> str:
        w = self.words(n)
        return " ".join(w).capitalize()

    def paragraph(self, n: int) -> str:
        out, left = [], n
        while left > 0:
            k = min(left, int(self.rng.integers(8, 25)))
            out.append(self.sentence(k) + ".")
            left -= k
        return " ".join(out)


# --------------------------------------------------------------------------- medical graph

def medical_names(f: float) -> tuple[np.ndarray, list[list[str]]]:
    """CUI numbers and each concept's names (first canonical) of the graph at fraction f."""
    rng = np.random.default_rng([SEED, 30])
    n = n_of(UMLS_CONCEPTS, f, 300)
    cui = rng.permutation(np.cumsum(rng.integers(1, 30, n)))
    common, _ = vocab()
    ca = np.array(common, dtype=object)
    n_words = 1 + rng.choice(4, size=n, p=[0.35, 0.4, 0.18, 0.07])
    idx = _zipf_idx(rng, len(ca), int(n_words.sum()), s=0.8, offset=50)
    words = ca[idx].tolist()
    names: list[list[str]] = []
    k = 0
    extra = rng.poisson(UMLS_NAMES_PER_CONCEPT - 1, n)
    suffix = [" (disorder)", " (substance)", " (finding)", ", NOS", " (procedure)"]
    more = ca[_zipf_idx(rng, len(ca), 4 * n, s=0.8, offset=50)].tolist()
    seen: set[str] = set()
    for i in range(n):
        ws = words[k:k + n_words[i]]
        k += n_words[i]
        name = " ".join(ws)
        # canonical names are distinct, as UMLS's preferred names mostly are (a popular word is
        # one concept's name, not thousands'): a clash gets more words, then a number
        for j in range(4):
            if name not in seen:
                break
            ws = [*ws, more[4 * i + j]]
            name = " ".join(ws)
        else:
            name = f"{name} {i}"
        seen.add(name)
        alts = [name]
        for j in range(extra[i]):
            kind = (i + j) % 3
            if kind == 0 and len(ws) > 1:
                alts.append("".join(w[0] for w in ws).upper())  # an abbreviation
            elif kind == 1:
                alts.append(name + suffix[(i + j) % len(suffix)])
            else:
                alts.append(" ".join(reversed(ws)))
        names.append(alts)
    return cui, names


def write_medical_kg(out: Path, f: float) -> dict:
    """concepts.txt, relations.txt, umls.csv (rel, head CUI, tail CUI, weight), concept_names.txt."""
    rng = np.random.default_rng([SEED, 31])
    cui, names = medical_names(f)
    n = len(cui)
    ids = [f"C{c:07d}" for c in cui.tolist()]
    rels = [f"rel_{i:02d}" for i in range(UMLS_RELATIONS)]
    out.mkdir(parents=True, exist_ok=True)
    (out / "concepts.txt").write_text("".join(c + "\n" for c in ids))
    (out / "relations.txt").write_text("".join(r + "\n" for r in rels))
    n_e = n * UMLS_EDGES_PER_CONCEPT
    with open(out / "umls.csv", "w") as fh:
        for lo in range(0, n_e, 200_000):
            m = min(200_000, n_e - lo)
            h = _zipf_idx(rng, n, m, s=0.8, offset=10)
            t = _zipf_idx(rng, n, m, s=0.8, offset=10)
            r = _zipf_idx(rng, UMLS_RELATIONS, m, s=1.0, offset=1)
            fh.writelines(f"{rels[a]}\t{ids[b]}\t{ids[c]}\t1.0\n" for a, b, c in zip(r.tolist(), h.tolist(), t.tolist()))
    with open(out / "concept_names.txt", "w") as fh:
        for c, ns in zip(ids, names):
            fh.writelines(f"{c}\t{x}\n" for x in ns)
        # a names file built from MRCONSO covers CUIs outside the graph too
        fh.writelines(f"C9{i:07d}\tunlinked name {i}\n" for i in range(n // 10))
    return {"concepts": n, "edges": n_e, "name_lines": sum(map(len, names)) + n // 10}


# --------------------------------------------------------------------------- MedQA

def write_medqa(out: Path, f: float) -> dict:
    """phrases_no_exclude_{train,dev,test}.jsonl: ~116-word vignettes mentioning medical concepts,
    4 options (concept names), metamap_phrases as the release has them."""
    rng = np.random.default_rng([SEED, 32])
    _, names = medical_names(f)
    canon = [ns[0] for ns in names]
    text = Text(rng, canon)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for split, full in MEDQA.items():
        n = n_of(full, f, 10)
        with open(out / f"phrases_no_exclude_{split}.jsonl", "w") as fh:
            for _ in range(n):
                q = text.paragraph(int(np.clip(rng.normal(116, 45), 20, 400))) + " Which of the following is the most likely diagnosis?"
                opts = [canon[i] for i in _zipf_idx(rng, len(canon), 4, s=0.6, offset=10)]
                k = int(rng.integers(4))
                words = q.split()
                phrases = [" ".join(words[i:i + 3]).strip(".,?") for i in range(0, len(words), 4)]
                fh.write(json.dumps({"question": q, "answer": opts[k], "options": dict(zip("ABCD", opts)),
                                     "meta_info": "step1" if rng.random() < 0.5 else "step2&3",
                                     "answer_idx": "ABCD"[k], "metamap_phrases": phrases}) + "\n")
        counts[split] = n
    return counts


# --------------------------------------------------------------------------- MRQA HotpotQA

def _tokens(text: str) -> list[list]:
    """[token, char offset] per whitespace token (MRQA's context_tokens shape)."""
    out, pos = [], 0
    for tok in text.split(" "):
        if tok:
            out.append([tok, pos])
        pos += len(tok) + 1
    return out


def write_hotpotqa(out: Path, f: float) -> dict:
    """train/HotpotQA.jsonl.gz and dev/HotpotQA.jsonl.gz: header line, then one context per line
    ([PAR] [TLE] title [SEP] paragraph ...; ~550 tokens) with one qa and its detected answer spans
    (inclusive char and token spans)."""
    rng = np.random.default_rng([SEED, 33])
    text = Text(rng)
    mean, sd, lo_t, hi_t = HOTPOT_TOKENS
    counts = {}
    for split, full in HOTPOTQA.items():
        n = n_of(full, f, 10)
        (out / split).mkdir(parents=True, exist_ok=True)
        with gzip.open(out / split / "HotpotQA.jsonl.gz", "wt", compresslevel=6) as fh:
            fh.write(json.dumps({"header": {"dataset": "HotpotQA", "split": split}}) + "\n")
            for i in range(n):
                total = int(np.clip(rng.normal(mean, sd), lo_t, hi_t))
                parts = []
                while total > 0:
                    k = min(total, int(rng.integers(40, 140)))
                    parts.append(f"[PAR] [TLE] {text.sentence(2)} [SEP] {text.paragraph(k)}")
                    total -= k + 5
                context = " ".join(parts)
                toks = _tokens(context)
                a = int(rng.integers(0, len(toks) - 3))
                while toks[a][0].startswith("["):
                    a += 1
                b = a + int(rng.integers(0, 2))
                s, e = toks[a][1], toks[b][1] + len(toks[b][0]) - 1
                answer = context[s:e + 1]
                question = text.sentence(int(rng.integers(8, 30))) + "?"
                qid = f"{split}{i:07d}{int(rng.integers(1 << 30)):09x}"
                fh.write(json.dumps({
                    "id": "", "context": context, "context_tokens": toks,
                    "qas": [{"answers": [answer], "question": question, "id": qid, "qid": qid,
                             "question_tokens": _tokens(question),
                             "detected_answers": [{"text": answer, "char_spans": [[s, e]],
                                                   "token_spans": [[a, b]]}]}]}) + "\n")
        counts[split] = n
    return counts


# --------------------------------------------------------------------------- KGQA

def write_kgqa(out: Path, f: float) -> dict:
    """qa_{train,dev,test}.txt: ``question with [Topic Entity]<TAB>answer1|answer2``."""
    rng = np.random.default_rng([SEED, 34])
    text = Text(rng)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for split, full in KGQA.items():
        n = n_of(full, f, 10)
        with open(out / f"qa_{split}.txt", "w") as fh:
            for _ in range(n):
                topic = text.sentence(int(rng.integers(1, 4))).title()
                q = " ".join(text.words(int(rng.integers(3, 10))))
                answers = "|".join(text.sentence(int(rng.integers(1, 4))).title()
                                   for _ in range(1 + int(rng.poisson(0.6))))
                fh.write(f"what {q} [{topic}]\t{answers}\n")
        counts[split] = n
    return counts


# --------------------------------------------------------------------------- KARD rationales

def write_rationales(out: Path, f: float) -> dict:
    """``medqa/train/<question_id>.json``: one raw ChatCompletion response (10 choices of ~110-word
    rationales) per MedQA train question: the tree download@rationales extracts the archive into."""
    rng = np.random.default_rng([SEED, 35])
    text = Text(rng)
    n = n_of(MEDQA["train"], f, 10)
    d = out / "medqa" / "train"
    d.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        choices = [{"index": j, "message": {"role": "assistant",
                                            "content": text.paragraph(int(np.clip(rng.normal(110, 35), 20, 300)))
                                            + " Therefore, the answer is (B)."},
                    "finish_reason": "stop"} for j in range(RATIONALES_PER_QUESTION)]
        resp = {"id": f"chatcmpl-{i:08d}", "object": "chat.completion", "created": 1680307200,
                "model": "gpt-3.5-turbo-0301", "choices": choices,
                "usage": {"prompt_tokens": 300, "completion_tokens": 1500, "total_tokens": 1800}}
        (d / f"train-{i:05d}.json").write_text(json.dumps(resp, indent=2))
    return {"responses": n, "rationales": n * RATIONALES_PER_QUESTION}


# --------------------------------------------------------------------------- Wikidata5M text

def write_wikidata5m_text(out: Path, log=None) -> dict:
    """``wikidata5m_text.txt.gz`` beside ``wikidata5m_entity.txt``: ``Q<id>\\t<text>`` for every entity
    (~90 words each, log-normal lengths), in a shuffled order."""
    ids = [line.split(b"\t", 1)[0].decode() for line in (out / "wikidata5m_entity.txt").read_bytes().splitlines()]
    rng = np.random.default_rng([SEED, 36])
    order = rng.permutation(len(ids))
    text = Text(rng)
    lengths = np.clip(rng.lognormal(np.log(WD5M_TEXT_WORDS) - 0.32, 0.8, len(ids)), 5, 1200).astype(int)
    with gzip.open(out / "wikidata5m_text.txt.gz", "wt", compresslevel=1) as fh:
        for lo in range(0, len(ids), 20_000):
            chunk = order[lo:lo + 20_000]
            ln = lengths[lo:lo + len(chunk)]
            words = text.words(int(ln.sum()))
            ends = np.cumsum(ln)
            fh.writelines(f"{ids[i]}\t{' '.join(words[e - k:e])}.\n" for i, k, e in zip(chunk.tolist(), ln.tolist(), ends.tolist()))
    return {"texts": len(ids), "mean_words": float(lengths.mean())}


WRITERS = {"medqa": write_medqa, "hotpotqa": write_hotpotqa, "kgqa": write_kgqa,
           "medical_kg": write_medical_kg, "rationales": write_rationales}
