"""Synthetic upstream-format inputs for ``bench/prepare.py``, built with vectorised numpy.

A :class:`Pool` keeps many short byte strings in one flat ``uint8`` buffer with a (start, length)
per string. A file's lines are a matrix of pool indices (one column per piece of the line), and
:func:`render` turns that matrix into the bytes of the lines with a few numpy calls per chunk, so
tens of millions of lines never pass through a per-line Python loop.

Only the byte format and the rough statistics matter here (sizes, alias counts, Zipf-like
frequencies, language / relation mix); the words themselves are random syllables.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

# bump when the generators change, so cached inputs of an older generator are not reused
GEN_VERSION = 1
SEED = 20240611

# Upstream sizes (UPSTREAM.md: the older Wikidata5M release that KGT5 reports on; ConceptNet 5.7.0).
WD5M_ENTITIES = 4_818_679
WD5M_RELATIONS = 828  # a vocabulary, not a volume: not scaled
WD5M_TRAIN = 21_000_000
WD5M_VALID = 5_163
WD5M_TEST = 5_133
CN_ASSERTIONS = 34_074_917

Log = Callable[[str], None]


# --------------------------------------------------------------------------- byte-string pools

@dataclass(frozen=True)
class Pool:
    """Byte strings stored as slices of one flat buffer (the buffer may hold unused bytes)."""

    buf: np.ndarray  # uint8
    start: np.ndarray  # int64, one per string
    length: np.ndarray  # int64, one per string

    def __len__(self) -> int:
        return len(self.start)

    @classmethod
    def of(cls, items: Sequence[str]) -> Pool:
        enc = [s.encode() for s in items]
        length = np.fromiter(map(len, enc), np.int64, len(enc))
        buf = np.frombuffer(b"".join(enc) or b"\0", np.uint8)
        return cls(buf, np.cumsum(length) - length, length)

    @classmethod
    def ints(cls, prefix: str, values: np.ndarray) -> Pool:
        """``prefix + str(v)`` for every v, rendered digit by digit into a fixed-width matrix."""
        width = 20 + len(prefix)
        values = np.asarray(values, np.int64)
        n = len(values)
        mat = np.zeros((n, width), np.uint8)
        v = values.copy()
        ndig = np.ones(n, np.int64)
        for col in range(width - 1, len(prefix) - 1, -1):
            mat[:, col] = 48 + v % 10
            v //= 10
            if not v.any():
                break
            ndig += v > 0
        first = width - ndig - len(prefix)
        rows = np.arange(n)
        for k, ch in enumerate(prefix.encode()):
            mat[rows, first + k] = ch
        return cls(mat.ravel(), rows * width + first, ndig + len(prefix))

    def strings(self, idx: Sequence[int]) -> list[str]:
        """Decode a few entries (for tests and eyeballing)."""
        return [bytes(self.buf[self.start[i]:self.start[i] + self.length[i]]).decode() for i in idx]


class Union:
    """Several pools copied into one buffer, addressed by one global index space."""

    def __init__(self, **pools: Pool) -> None:
        bufs, starts, lengths, self.offset = [], [], [], {}
        base_byte = base_idx = 0
        for name, p in pools.items():
            bufs.append(p.buf)
            starts.append(p.start + base_byte)
            lengths.append(p.length)
            self.offset[name] = base_idx
            base_byte += len(p.buf)
            base_idx += len(p)
        self.size = {name: len(p) for name, p in pools.items()}
        self.pool = Pool(np.concatenate(bufs), np.concatenate(starts), np.concatenate(lengths))

    def __getitem__(self, name: str) -> int:
        """Global index of the first string of pool ``name`` (add a local index to it)."""
        return self.offset[name]


def gather(buf: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Concatenate ``buf[start[i]:start[i]+length[i]]`` for all i, in order."""
    out_start = np.cumsum(length) - length
    idx = np.repeat(start - out_start, length)
    idx += np.arange(len(idx), dtype=idx.dtype)
    return buf[idx]


def render(pool: Pool, idx: np.ndarray) -> Pool:
    """Row i of the result is the concatenation of ``pool[idx[i, j]]`` over the columns j."""
    start, length = pool.start[idx], pool.length[idx]
    rowlen = length.sum(axis=1)
    return Pool(gather(pool.buf, start.ravel(), length.ravel()), np.cumsum(rowlen) - rowlen, rowlen)


def render_ragged(pool: Pool, head: np.ndarray, items: np.ndarray, counts: np.ndarray,
                  sep: np.ndarray | int, tail: np.ndarray | int) -> Pool:
    """Row i = head[i], then (sep, item) for each of its counts[i] items, then tail[i].

    ``sep`` is one index or one per item; ``tail`` one index or one per row.
    """
    n = len(head)
    k = 2 + 2 * counts
    row_off = np.cumsum(k) - k
    seg = np.empty(int(k.sum()), np.int64)
    seg[row_off] = head
    seg[row_off + k - 1] = tail
    item_row = np.repeat(np.arange(n), counts)
    j = np.arange(len(items)) - np.repeat(np.cumsum(counts) - counts, counts)
    pos = row_off[item_row] + 2 + 2 * j
    seg[pos] = items
    seg[pos - 1] = sep
    start, length = pool.start[seg], pool.length[seg]
    rowlen = np.add.reduceat(length, row_off) if n else np.zeros(0, np.int64)
    return Pool(gather(pool.buf, start, length), np.cumsum(rowlen) - rowlen, rowlen)


def power_law(rng: np.random.Generator, n: int, size: int, s: float = 1.0,
              uniform: float = 0.0) -> np.ndarray:
    """Ranks in [0, n) with P(r) ~ (r+1)^-s (Zipf-like), a ``uniform`` share drawn flat instead.

    Inverse-CDF of the continuous bounded power law; the flat share keeps the long tail covered
    the way every real entity / concept occurs at least once or twice.
    """
    u = rng.random(size)
    if abs(s - 1.0) < 1e-9:
        r = np.exp(u * np.log(n + 1.0)) - 1.0
    else:
        a = 1.0 - s
        r = (((n + 1.0) ** a - 1.0) * u + 1.0) ** (1.0 / a) - 1.0
    r = np.minimum(r.astype(np.int64), n - 1)
    if uniform:
        flat = rng.random(size) < uniform
        r[flat] = rng.integers(0, n, int(flat.sum()))
    return r


def choice(rng: np.random.Generator, weights: Sequence[float], size: int) -> np.ndarray:
    p = np.asarray(weights, np.float64)
    return rng.choice(len(p), size=size, p=p / p.sum())


def words(rng: np.random.Generator, n: int, syllables: Sequence[str], *, min_syl: int = 1,
          max_syl: int = 4, capitalise: bool = False) -> Pool:
    """``n`` random words of ``min_syl``..``max_syl`` syllables (first one capitalised if asked)."""
    return word_pair(rng, n, syllables, min_syl=min_syl, max_syl=max_syl)[0 if capitalise else 1]


def word_pair(rng: np.random.Generator, n: int, syllables: Sequence[str], *, min_syl: int = 1,
              max_syl: int = 4) -> tuple[Pool, Pool]:
    """The same ``n`` random words twice: capitalised, and lower-case."""
    syl = list(syllables)
    u = Union(h=Pool.of([s.capitalize() for s in syl]), s=Pool.of(syl), e=Pool.of([""]))
    counts = rng.integers(min_syl - 1, max_syl, n)
    head = rng.integers(0, len(syl), n)
    items = u["s"] + rng.integers(0, len(syl), int(counts.sum()))
    return tuple(render_ragged(u.pool, u[h] + head, items, counts, u["e"], u["e"]) for h in "hs")


# --------------------------------------------------------------------------- writing

@contextmanager
def chunk_writer(path: Path, *, compress: bool) -> Iterator[Callable[[np.ndarray], None]]:
    """Yield ``write(chunk)``: gzip level 1 (or plain) writes run on a thread beside generation.

    zlib releases the GIL, so compressing chunk k overlaps with building chunk k+1.
    """
    fh: BinaryIO = gzip.open(path, "wb", compresslevel=1) if compress else open(path, "wb")
    pending: list[Future] = []
    with fh, ThreadPoolExecutor(1) as ex:
        def write(chunk: np.ndarray) -> None:
            if pending:
                pending.pop().result()  # at most one chunk in flight: bounded memory
            pending.append(ex.submit(fh.write, memoryview(chunk)))
        yield write
        if pending:
            pending.pop().result()


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for i, lo in enumerate(range(0, total, size)):
        yield i, min(size, total - lo)


def _progress(log: Log, what: str, done: int, total: int, t0: float, state: dict) -> None:
    pct = 100 * done // max(total, 1)
    if pct >= state.get("next", 0) or done == total:
        state["next"] = pct + 20
        log(f"  {what}: {done:,}/{total:,} lines ({time.perf_counter() - t0:.0f}s)")


# --------------------------------------------------------------------------- Wikidata5M

_LATIN = ("ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no "
          "nu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo an en in on ar er ir or "
          "st tr ch sh th gr br pl ey ay ou ia io ea").split()
_ACCENTED = "é è ü ö ä ñ ç ş ł ø å ő ā ī ū ž č ř ğ ı ß".split()
_CYRILLIC = "ка ра на ло ми ст ов ев ий ая ко во".split()
_CJK = [chr(c) for c in range(0x4E00, 0x4E00 + 600)] + [chr(c) for c in range(0x30A2, 0x30F3)]


def _name_syllables() -> list[str]:
    # mostly ASCII with a sprinkling of multi-byte UTF-8, like the real alias file
    return _LATIN * 6 + [a + b for a in _ACCENTED for b in ("n", "r", "l")] + _CYRILLIC


def write_wikidata5m(out: Path, scale: float, log: Log, *, chunk: int = 500_000) -> dict:
    """Transductive split + alias files in ``out``; returns the counts written.

    Skips ``wikidata5m_text.txt.gz`` (optional for prepare, ~1 GB upstream, not what we measure).
    """
    rng = np.random.default_rng([SEED, 1])
    n_ent = max(1000, round(WD5M_ENTITIES * scale))
    n_rel = WD5M_RELATIONS
    split_n = {"train": max(1000, round(WD5M_TRAIN * scale)),
               "valid": max(50, round(WD5M_VALID * scale)),
               "test": max(50, round(WD5M_TEST * scale))}

    # Q-ids: distinct, sparse (real ones run up to ~Q60M), in shuffled file order
    qnum = rng.permutation(np.cumsum(rng.integers(1, 20, n_ent)))
    pnum = rng.permutation(np.cumsum(rng.integers(1, 7, n_rel)))
    ids = Union(q=Pool.ints("Q", qnum), p=Pool.ints("P", pnum), lit=Pool.of(["\t", "\n"]))
    TAB, NL = ids["lit"], ids["lit"] + 1

    n_words = max(2000, round(200_000 * min(1.0, scale * 10)))
    cap, low = word_pair(rng, n_words, _name_syllables())
    vocab = Union(cap=cap, low=low, lit=Pool.of([" ", " | ", ""]))

    def alias_pool(r: np.random.Generator, n_names: np.ndarray) -> tuple[Pool, np.ndarray]:
        """Aliases of entities that have ``n_names`` distinct names each, and their alias counts.

        Like the real file, a name mostly comes twice, as written and lower-cased; a name has
        1-5 words (Zipf-ish word choice), and very few contain '|' (it breaks naive parsers).
        """
        k = int(n_names.sum())
        nw = 1 + choice(r, [0.14, 0.42, 0.27, 0.11, 0.06], k)
        w = power_law(r, n_words, int(nw.sum()), s=0.7, uniform=0.3)
        first = np.cumsum(nw) - nw
        head, rest = w[first], np.delete(w, first)
        sep = np.where(r.random(len(rest)) < 0.0005, vocab["lit"] + 1, vocab["lit"])
        end = vocab["lit"] + 2
        cased = render_ragged(vocab.pool, vocab["cap"] + head, vocab["cap"] + rest, nw - 1, sep, end)
        lower = render_ragged(vocab.pool, vocab["low"] + head, vocab["low"] + rest, nw - 1, sep, end)
        both = Union(c=cased, l=lower)
        order = np.stack([both["c"] + np.arange(k), both["l"] + np.arange(k)], 1)
        keep = np.ones((k, 2), bool)
        keep[:, 1] = r.random(k) >= 0.15  # some names have no separate lower-case form
        per_entity = np.add.reduceat(keep.sum(1), np.cumsum(n_names) - n_names)
        pick = order[keep]
        return Pool(both.pool.buf, both.pool.start[pick], both.pool.length[pick]), per_entity

    def alias_lines(path: Path, prefix: str, num: np.ndarray, seed: int, max_names: int,
                    a: float) -> int:
        """``ID\\talias1\\talias2...`` lines; name counts heavy-tailed (zipf(a), clipped)."""
        t0, state, n_alias_total, n = time.perf_counter(), {}, 0, len(num)
        with chunk_writer(path, compress=False) as write:
            for ci, m in _chunks(n, chunk):
                r = np.random.default_rng([SEED, seed, ci])
                aliases, counts = alias_pool(r, np.minimum(r.zipf(a, m), max_names))
                u = Union(ids=Pool.ints(prefix, num[ci * chunk:ci * chunk + m]), al=aliases,
                          lit=Pool.of(["\t", "\n"]))
                head = u["ids"] + np.arange(m)
                items = u["al"] + np.arange(len(aliases))
                write(render_ragged(u.pool, head, items, counts, u["lit"], u["lit"] + 1).buf)
                n_alias_total += len(aliases)
                _progress(log, path.name, ci * chunk + m, n, t0, state)
        return n_alias_total

    n_alias = alias_lines(out / "wikidata5m_entity.txt", "Q", qnum, 2, 750, 2.0)
    alias_lines(out / "wikidata5m_relation.txt", "P", pnum, 3, 20, 1.8)

    for si, (split, n) in enumerate(split_n.items()):
        path = out / f"wikidata5m_transductive_{split}.txt"
        t0, state = time.perf_counter(), {}
        with chunk_writer(path, compress=False) as write:
            for ci, m in _chunks(n, chunk):
                r = np.random.default_rng([SEED, 10 + si, ci])
                # heads half flat so nearly every entity occurs; tails and relations Zipf-like
                h = ids["q"] + power_law(r, n_ent, m, s=1.0, uniform=0.5)
                rel = ids["p"] + power_law(r, n_rel, m, s=1.1)
                t = ids["q"] + power_law(r, n_ent, m, s=1.0, uniform=0.1)
                cols = np.stack([h, np.full(m, TAB), rel, np.full(m, TAB), t, np.full(m, NL)], 1)
                write(render(ids.pool, cols).buf)
                _progress(log, path.name, ci * chunk + m, n, t0, state)
    return {"entities": n_ent, "aliases": n_alias, "relations": n_rel,
            **{f"triples_{k}": v for k, v in split_n.items()}, "triples": sum(split_n.values()),
            "text_corpus": "skipped"}


# --------------------------------------------------------------------------- ConceptNet

# (relation, weight) for English->English rows: rough ConceptNet 5.7 English counts (thousands)
_EN_RELS = [("RelatedTo", 1704), ("FormOf", 379), ("DerivedFrom", 325), ("HasContext", 233),
            ("IsA", 230), ("Synonym", 222), ("UsedFor", 40), ("EtymologicallyRelatedTo", 32),
            ("SimilarTo", 30), ("AtLocation", 28), ("HasSubevent", 25), ("HasPrerequisite", 23),
            ("CapableOf", 23), ("Antonym", 19), ("Causes", 17), ("PartOf", 13), ("MannerOf", 13),
            ("MotivatedByGoal", 9.5), ("HasProperty", 9.4), ("ReceivesAction", 6), ("HasA", 5.5),
            ("CausesDesire", 4.7), ("DistinctFrom", 3.3), ("HasFirstSubevent", 3.3),
            ("Desires", 3.2), ("NotDesires", 2.9), ("HasLastSubevent", 2.9), ("DefinedAs", 2.2),
            ("InstanceOf", 1.5), ("MadeOf", 0.5), ("Entails", 0.4), ("NotCapableOf", 0.3),
            ("NotHasProperty", 0.3), ("CreatedBy", 0.3), ("LocatedNear", 0.05),
            ("ObstructedBy", 0.05), ("SymbolOf", 0.01), ("dbpedia/genre", 3.8),
            ("dbpedia/occupation", 1.1), ("dbpedia/language", 0.9), ("dbpedia/field", 0.6),
            ("dbpedia/knownFor", 0.6), ("dbpedia/capital", 0.4), ("dbpedia/product", 0.5),
            ("dbpedia/influencedBy", 0.4), ("dbpedia/genus", 2.9), ("dbpedia/leader", 0.08)]
# ... and for rows touching another language (wiktionary-heavy: synonyms, translations, forms)
_OTHER_RELS = [("Synonym", 40), ("RelatedTo", 25), ("FormOf", 14), ("DerivedFrom", 8),
               ("EtymologicallyRelatedTo", 5), ("HasContext", 3), ("Antonym", 2), ("IsA", 1.5),
               ("SimilarTo", 0.5), ("PartOf", 0.3), ("CapableOf", 0.2), ("AtLocation", 0.2),
               ("UsedFor", 0.2), ("Causes", 0.05), ("SymbolOf", 0.01), ("HasA", 0.05)]
_REL_NAMES = sorted({r for r, _ in _EN_RELS + _OTHER_RELS} | {"ExternalURL"})
# language codes, Zipf-like shares of non-English rows; ja / zh use CJK terms
_LANGS = ("fr de ja es it ru zh pt nl fi pl sv la ms ca cs hu tr eo da no is el ro grc ang "
          "ar fa he ko bg uk hr sl sk lt lv et sq ga gd cy eu gl oc ast fo nn mul sh sw "
          "ta hi bn ur vi th id tl af yi nv io vo ia got non fro frm enm ka hy az kk").split()
_CJK_LANGS = {"ja", "zh", "ko"}
_POS = ["n", "v", "a", "r"]
_WN_DOMAINS = ("act artifact finance person object location time body food cognition "
               "communication event feeling group motion plant animal possession process "
               "quantity relation shape state substance").split()
_URL_PREFIXES = ["http://{l}.dbpedia.org/resource/", "http://dbpedia.org/resource/",
                 "http://sw.opencyc.org/2012/05/10/concept/en/", "http://umbel.org/umbel/rc/",
                 "http://wordnet-rdf.princeton.edu/wn31/"]
_WEIGHTS = ["1.0", "2.0", "0.5", "0.25", "1.5", "3.464", "0.1", "4.0", "2.828"]
_META = {  # JSON metadata templates ({w} = weight); pieces split where surface terms go
    "wikt": '{{"dataset": "/d/wiktionary/{l}", "license": "cc:by-sa/4.0", "sources": [{{"contributor": '
            '"/s/resource/wiktionary/{l}", "process": "/s/process/wikiparsec/2"}}], "weight": {w}}}',
    "wordnet": '{{"dataset": "/d/wordnet/3.1", "license": "cc:by/4.0", "sources": [{{"contributor": '
               '"/s/resource/wordnet/rdf/3.1"}}], "weight": {w}}}',
    "dbpedia": '{{"dataset": "/d/dbpedia/en", "license": "cc:by-sa/4.0", "sources": [{{"contributor": '
               '"/s/resource/dbpedia/2015/en"}}], "weight": {w}}}',
    "opencyc": '{{"dataset": "/d/opencyc", "license": "cc:by/4.0", "sources": [{{"contributor": '
               '"/s/resource/opencyc/2012"}}], "weight": {w}}}',
    "verbosity": '{{"dataset": "/d/verbosity", "license": "cc:by/4.0", "sources": [{{"contributor": '
                 '"/s/resource/verbosity", "process": "/s/process/split_words"}}], "weight": {w}}}',
}
_SURFACE = ('{{"dataset": "/d/conceptnet/4/en", "license": "cc:by/4.0", "sources": [{{"activity": '
            '"/s/activity/omcs/omcs1_possibly_free_text", "contributor": "/s/contributor/omcs/{c}"}}, '
            '{{"activity": "/s/activity/omcs/vote", "contributor": "/s/contributor/omcs/{c}"}}], '
            '"surfaceEnd": "|END|", "surfaceStart": "|START|", "surfaceText": "[[|START|]] is related '
            'to [[|END|]]", "weight": {w}}}')
# category of a row: (head language, tail language) kind and its share of all rows
_CATS = {"url": 0.245, "en_en": 0.10, "xx_xx": 0.42, "xx_en": 0.13, "en_xx": 0.06, "xx_yy": 0.045}


def _split_surface(template: str) -> list[str]:
    """Split the surface-text template at its term slots: 5 literal pieces around 4 terms."""
    a, rest = template.split("|END|", 1)
    b, rest = rest.split("|START|", 1)
    c, rest = rest.split("|START|", 1)
    d, e = rest.split("|END|", 1)
    return [a, b, c, d, e]


def write_conceptnet(out: Path, scale: float, log: Log, *, chunk: int = 250_000) -> dict:
    """``conceptnet-assertions-5.7.0.csv.gz`` in ``out`` with ConceptNet's language/relation mix."""
    rng = np.random.default_rng([SEED, 2])
    n = max(2000, round(CN_ASSERTIONS * scale))
    s = min(1.0, scale * 10)  # vocabularies shrink slower than row counts
    n_en, n_lat, n_cjk = (max(1000, round(k * s)) for k in (1_500_000, 4_000_000, 800_000))

    en_single = words(rng, n_en, _LATIN, max_syl=4)
    # multi-word English terms use '_' (and a few '-' or digits that the alpha filter drops)
    en_u = Union(w=en_single, lit=Pool.of(["_", "", "-like", "'s", "2", "_3d"]))
    k = rng.choice(4, size=n_en, p=[0.62, 0.28, 0.07, 0.03])  # 1 word, 2, 3, odd punctuation
    head = en_u["w"] + rng.integers(0, n_en, n_en)
    counts = np.where(k == 0, 0, np.where(k == 2, 2, 1))
    items = en_u["w"] + rng.integers(0, n_en, int(counts.sum()))
    sep = en_u["lit"]
    odd = rng.integers(0, 4, n_en)
    tail = np.where(k == 3, en_u["lit"] + 2 + odd, en_u["lit"] + 1)
    en = render_ragged(en_u.pool, head, items, counts, sep, tail)
    lat_syl = _LATIN * 3 + [a + b for a in _ACCENTED for b in ("n", "r", "")] + _CYRILLIC * 2
    lat = words(rng, n_lat, lat_syl, max_syl=5)
    cjk = words(rng, n_cjk, _CJK, max_syl=4)

    langs = ["en"] + _LANGS
    lang_w = 1.0 / (np.arange(1, len(_LANGS) + 1) ** 1.1)
    is_cjk = np.array([lg in _CJK_LANGS for lg in langs])
    rel_idx = {r: i for i, r in enumerate(_REL_NAMES)}
    suffixes = ["", *(f"/{p}" for p in _POS), *(f"/n/wn/{d}" for d in _WN_DOMAINS),
                "/n/wikt/en_1", "/n/wikt/en_2", "/v/wikt/en_1"]
    url_pre = [p.format(l=lg) for p in _URL_PREFIXES[:1] for lg in langs] + _URL_PREFIXES[1:]
    metas = {(kind, lg, w): t.format(l=lg, w=w) for kind, t in _META.items()
             for lg in (langs if kind == "wikt" else ["en"]) for w in _WEIGHTS}
    surf = [_split_surface(_SURFACE.format(c=f"user{i}", w=w)) for i in range(20) for w in _WEIGHTS]
    pieces = ["/a/[/r/", "/,", "/]\t/r/", "\t", "\n", ""]
    u = Union(lit=Pool.of(pieces), rel=Pool.of(_REL_NAMES), cpre=Pool.of([f"/c/{lg}/" for lg in langs]),
              upre=Pool.of(url_pre), epre=Pool.of(["/" + p for p in url_pre]), suf=Pool.of(suffixes),
              meta=Pool.of(list(metas.values())), surf=Pool.of([p for sp in surf for p in sp]),
              en=en, lat=lat, cjk=cjk)
    A, COMMA, CLOSE, TAB, NL, EMPTY = (u["lit"] + i for i in range(len(pieces)))
    meta_keys = list(metas)
    meta_at = {key: u["meta"] + i for i, key in enumerate(meta_keys)}
    wikt_meta = np.array([[meta_at[("wikt", lg, w)] for w in _WEIGHTS] for lg in langs])
    other_meta = np.array([[meta_at[(kd, "en", w)] for w in _WEIGHTS]
                           for kd in ("wordnet", "opencyc", "verbosity")])
    en_rel_p = np.array([w for _, w in _EN_RELS])
    en_rel_ids = np.array([rel_idx[r] for r, _ in _EN_RELS])
    ot_rel_p = np.array([w for _, w in _OTHER_RELS])
    ot_rel_ids = np.array([rel_idx[r] for r, _ in _OTHER_RELS])
    cat_names = list(_CATS)

    def term(r: np.random.Generator, lang: np.ndarray) -> np.ndarray:
        m = len(lang)
        t = np.where(lang == 0, u["en"] + power_law(r, n_en, m, s=1.0, uniform=0.4),
                     u["lat"] + power_law(r, n_lat, m, s=1.0, uniform=0.4))
        c = is_cjk[lang]
        t[c] = u["cjk"] + power_law(r, n_cjk, int(c.sum()), s=1.0, uniform=0.4)
        return t

    def suffix(r: np.random.Generator, lang: np.ndarray) -> np.ndarray:
        m = len(lang)
        kind = np.where(lang == 0, choice(r, [55, 30, 10, 5], m), choice(r, [75, 25, 0, 0], m))
        pos = 1 + choice(r, [60, 25, 10, 5], m)
        wn = 1 + len(_POS) + r.integers(0, len(_WN_DOMAINS), m)
        wikt = len(suffixes) - 3 + r.integers(0, 3, m)
        return u["suf"] + np.select([kind == 1, kind == 2, kind == 3], [pos, wn, wikt], 0)

    path = out / "conceptnet-assertions-5.7.0.csv.gz"
    t0, state, cat_count = time.perf_counter(), {}, np.zeros(len(cat_names), np.int64)
    with chunk_writer(path, compress=True) as write:
        for ci, m in _chunks(n, chunk):
            r = np.random.default_rng([SEED, 20, ci])
            cat = choice(r, list(_CATS.values()), m)
            cat_count += np.bincount(cat, minlength=len(cat_names))
            c = {name: cat == i for i, name in enumerate(cat_names)}
            def other_lang() -> np.ndarray:  # a fresh draw per use
                return 1 + choice(r, lang_w, m)
            hl = np.where(c["en_en"] | c["en_xx"] | (c["url"] & (r.random(m) < 0.4)), 0, other_lang())
            tl = np.select([c["en_en"] | c["xx_en"], c["xx_xx"]], [0, hl], other_lang())
            rel = np.where(c["en_en"], en_rel_ids[choice(r, en_rel_p, m)],
                           ot_rel_ids[choice(r, ot_rel_p, m)])
            rel[c["url"]] = rel_idx["ExternalURL"]
            ht, tt = term(r, hl), term(r, tl)
            hs, ts = suffix(r, hl), suffix(r, tl)
            tpre, epre = u["cpre"] + tl, u["cpre"] + tl
            # ExternalURL: tail is a URL (language dbpedia, or one of the English-only sites)
            url = c["url"]
            ukind = r.integers(0, len(_URL_PREFIXES), m)
            upre = np.where(ukind == 0, hl, len(langs) + ukind - 1)
            tpre[url], epre[url], ts[url] = u["upre"] + upre[url], u["epre"] + upre[url], EMPTY
            # metadata: wiktionary of the head language, surface text on some English rows
            wi = r.integers(0, len(_WEIGHTS), m)
            meta = wikt_meta[hl, wi]
            src = r.integers(0, 3, m)
            eng_other = c["en_en"] & (r.random(m) < 0.25)
            meta[eng_other] = other_meta[src[eng_other], wi[eng_other]]
            meta[url] = np.where(ukind[url] <= 1, meta_at[("dbpedia", "en", "1.0")],
                                 other_meta[1, 0])
            surf_rows = c["en_en"] & ~eng_other & (r.random(m) < 0.3)
            js = np.full((m, 9), EMPTY)
            js[:, 0] = meta
            si = u["surf"] + 5 * r.integers(0, len(surf), int(surf_rows.sum()))
            js[surf_rows] = np.stack([si, tt[surf_rows], si + 1, ht[surf_rows], si + 2,
                                      ht[surf_rows], si + 3, tt[surf_rows], si + 4], 1)
            hpre = u["cpre"] + hl
            rid = u["rel"] + rel
            cols = np.column_stack([
                np.full(m, A), rid, np.full(m, COMMA), hpre, ht, hs, np.full(m, COMMA), epre, tt, ts,
                np.full(m, CLOSE), rid, np.full(m, TAB), hpre, ht, hs, np.full(m, TAB), tpre, tt, ts,
                np.full(m, TAB), js, np.full(m, NL)])
            write(render(u.pool, cols).buf)
            _progress(log, path.name, ci * chunk + m, n, t0, state)
    counts = {name: int(v) for name, v in zip(cat_names, cat_count)}
    return {"assertions": n, "en_en": counts["en_en"], "by_kind": counts,
            "vocab": {"en": n_en, "latin": n_lat, "cjk": n_cjk}}


WRITERS: dict[str, Callable[[Path, float, Log], dict]] = {
    "wikidata5m": write_wikidata5m, "conceptnet": write_conceptnet}
