"""The concept vocabulary: concept strings ("keys"), the nodes they stand for, and lemma patterns.

Built once per graph by build_kg (``vocab.parquet``) and loaded by ground@. A key is DRAGON's
concept string (``ice_cream``); its pattern is the lemma sequence of ``key.replace("_", " ")``
under the grounding pipeline, or none when DRAGON's ``create_pattern`` would skip it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from kg_ml.errors import InputError
from kg_ml.grounding.spacy_api import Doc, Language
from kg_ml.grounding.words import GROUNDING_BLACKLIST, NLTK_STOPWORDS, PRONOUNS

log = logging.getLogger(__name__)

VOCAB_SCHEMA = pa.schema([("key", pa.string()), ("node", pa.int32()), ("lemmas", pa.list_(pa.string()))])


def concept_key(text: str) -> str:
    """The key of a surface name: lowercased, whitespace runs joined by ``_`` (``Ice  cream`` → ``ice_cream``)."""
    return "_".join(text.lower().split())


def pattern_lemmas(doc: Doc, max_tokens: int) -> list[str] | None:
    """DRAGON's ``create_pattern``: the lemma pattern of a concept, or None to skip it."""
    if not 0 < len(doc) <= max_tokens:
        return None
    if doc[0].text in PRONOUNS or doc[-1].text in PRONOUNS:
        return None
    if all(t.text in NLTK_STOPWORDS or t.lemma_ in NLTK_STOPWORDS or t.lemma_ in GROUNDING_BLACKLIST
           for t in doc):
        return None
    return [t.lemma_ for t in doc]


def vocab_table(entries: Iterable[tuple[str, int]], nlp: Language, *, max_tokens: int = 4) -> pa.Table:
    """``(key, node)`` pairs → the vocab table, one row per pair, sorted by (key, node)."""
    pairs = sorted(set(entries))
    keys = sorted({k for k, _ in pairs})
    lemmas: dict[str, list[str]] = {}
    docs = nlp.pipe((k.replace("_", " ") for k in keys), batch_size=1024)
    for key, doc in zip(keys, tqdm(docs, total=len(keys), desc="concept patterns", leave=False, disable=None)):
        lemmas[key] = pattern_lemmas(doc, max_tokens) or []
    n_patterns = sum(1 for v in lemmas.values() if v)
    log.info("vocabulary: %d keys (%d with a pattern) for %d nodes", len(keys), n_patterns,
             len({n for _, n in pairs}))
    return pa.table({"key": [k for k, _ in pairs], "node": pa.array([n for _, n in pairs], pa.int32()),
                     "lemmas": [lemmas[k] for k, _ in pairs]}, schema=VOCAB_SCHEMA)


@dataclass(frozen=True)
class Vocabulary:
    """Runtime view of vocab.parquet for the matcher."""

    nodes: dict[str, tuple[int, ...]]  # key -> node ids
    patterns: dict[tuple[str, ...], tuple[str, ...]]  # lemma sequence -> keys, sorted
    key_lemma: dict[str, str]  # pattern key -> "_".join(its lemmas): DRAGON's lemmatize(key)
    max_len: int

    @classmethod
    def from_table(cls, table: pa.Table, *, source: str | Path = "vocab.parquet") -> Vocabulary:
        if not set(VOCAB_SCHEMA.names) <= set(table.column_names):
            raise InputError(source, f"expected columns {VOCAB_SCHEMA.names}, got {table.column_names}")
        keys = table.column("key").to_pylist()
        node_ids = table.column("node").to_pylist()
        all_lemmas = table.column("lemmas").to_pylist()
        nodes: dict[str, list[int]] = defaultdict(list)
        patterns: dict[tuple[str, ...], set[str]] = defaultdict(set)
        key_lemma: dict[str, str] = {}
        for row, (key, node, lemmas) in enumerate(zip(keys, node_ids, all_lemmas)):
            if not key or node is None:
                raise InputError(source, f"row {row}: empty value", field="key" if not key else "node")
            nodes[key].append(node)
            if lemmas:
                patterns[tuple(lemmas)].add(key)
                key_lemma[key] = "_".join(lemmas)
        return cls(nodes={k: tuple(sorted(v)) for k, v in nodes.items()},
                   patterns={p: tuple(sorted(ks)) for p, ks in patterns.items()},
                   key_lemma=key_lemma, max_len=max(map(len, patterns), default=0))

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        path = Path(path)
        if not path.is_file():
            raise InputError(path, "missing vocabulary (run build_kg first)")
        return cls.from_table(pq.read_table(path), source=path)

    def __contains__(self, key: str) -> bool:
        return key in self.nodes
