"""A straightforward DRAGON-style reference: spaCy token Matcher grounding, networkx subgraphs.

This follows DRAGON's ``preprocess_utils/grounding.py`` (``load_matcher``/``create_pattern``,
``ground_mentioned_concepts``, ``hard_ground``, ``prune``) and the node-set part of
``preprocess_utils/graph.py`` (``concepts2adj`` over ``cpnet_simple``), ported to spaCy 3 and
networkx 3. It is the comparison for ``bench/grounding.py`` and the oracle of the matcher tests,
so it is deliberately the plain code, not a fast one. The one change from DRAGON is shared with
kg_ml: ties among a span's shortest candidates are broken by the concept string (DRAGON's order
depends on per-process string hashing).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import networkx as nx
import numpy as np
from spacy.language import Language
from spacy.matcher import Matcher

from kg_ml.grounding.words import GROUNDING_BLACKLIST as BLACKLIST
from kg_ml.grounding.words import NLTK_STOPWORDS, PRONOUNS


def create_pattern(nlp: Language, doc, max_tokens: int = 4):
    if (len(doc) > max_tokens or len(doc) == 0 or doc[0].text in PRONOUNS or doc[-1].text in PRONOUNS
            or all(t.text in NLTK_STOPWORDS or t.lemma_ in NLTK_STOPWORDS or t.lemma_ in BLACKLIST
                   for t in doc)):
        return None
    return [{"LEMMA": t.lemma_} for t in doc]


def lemmatize(nlp: Language, concept: str) -> set[str]:
    doc = nlp(concept.replace("_", " "))
    return {"_".join(t.lemma_ for t in doc)}


class ReferenceGrounder:
    """DRAGON's grounding over ``concept -> node ids`` with one Matcher pattern per concept."""

    def __init__(self, nlp: Language, concept_nodes: dict[str, Sequence[int]], *,
                 question_stopword_rule: str = "any") -> None:
        self.nlp = nlp
        self.concept_nodes = concept_nodes
        self.vocab = set(concept_nodes)
        self.rule = question_stopword_rule
        self.matcher = Matcher(nlp.vocab)
        for concept in sorted(concept_nodes):
            pattern = create_pattern(nlp, nlp(concept.replace("_", " ")))
            if pattern is not None:
                self.matcher.add(concept, [pattern])

    def ground_mentioned_concepts(self, s: str, ans: str | None = None) -> set[str]:
        nlp = self.nlp
        doc = nlp(s.lower())
        matches = self.matcher(doc)
        ans_mentions = set()
        if ans:  # DRAGON adds a pattern for the answer; spaCy 3 refuses an empty one
            ans_matcher = Matcher(nlp.vocab)
            ans_matcher.add(ans, [[{"TEXT": t.text.lower()} for t in nlp(ans)]])
            ans_mentions = {(start, end) for _, start, end in ans_matcher(doc)}
        span_to_concepts: dict[str, set[str]] = {}
        for match_id, start, end in matches:
            if (start, end) in ans_mentions:
                continue
            span = doc[start:end].text
            original_concept = nlp.vocab.strings[match_id]
            concepts = {original_concept}
            if len(original_concept.split("_")) == 1:
                concepts.update(lemmatize(nlp, original_concept))
            span_to_concepts.setdefault(span, set()).update(concepts)
        mentioned = set()
        for span, concepts in span_to_concepts.items():
            concepts_sorted = sorted(concepts, key=lambda c: (len(c), c))
            shortest = concepts_sorted[0:3]
            for c in shortest:
                if c in BLACKLIST:
                    continue
                intersect = lemmatize(nlp, c).intersection(shortest)
                mentioned.add(next(iter(intersect)) if intersect else c)
            exact = {c for c in concepts_sorted if c.replace("_", " ").lower() == span.lower()}
            assert len(exact) < 2
            mentioned.update(exact)
        return mentioned

    def hard_ground(self, sent: str) -> set[str]:
        return {t.lemma_ for t in self.nlp(sent.lower()) if t.lemma_ in self.vocab}

    def prune(self, concepts: Iterable[str], question: bool) -> list[str]:
        concepts = list(concepts)
        out = []
        for c in concepts:
            if c[-2:] == "er" and c[:-2] in concepts:
                continue
            if c[-1:] == "e" and c[:-1] in concepts:
                continue
            stops = [t in NLTK_STOPWORDS for t in c.split("_")]
            drop = (any(stops) if self.rule == "any" else all(stops)) if question else all(stops)
            if not drop and c in self.vocab:
                out.append(c)
        return out

    def ground_qa_pair(self, s: str, a: str) -> tuple[list[int], list[int]]:
        """(question node ids, answer node ids), sorted; question ids exclude answer ids."""
        all_concepts = self.ground_mentioned_concepts(s, a)
        answer_concepts = self.ground_mentioned_concepts(a)
        question_concepts = all_concepts - answer_concepts
        if not question_concepts:
            question_concepts = self.hard_ground(s)
        if not answer_concepts:
            answer_concepts = self.hard_ground(a)
        qc = {n for c in self.prune(question_concepts, True) for n in self.concept_nodes[c]}
        ac = {n for c in self.prune(answer_concepts, False) for n in self.concept_nodes[c]}
        return sorted(qc - ac), sorted(ac)


def simple_graph(num_nodes: int, head: np.ndarray, tail: np.ndarray) -> nx.Graph:
    """DRAGON's ``cpnet_simple``: undirected, no self-loops."""
    g = nx.Graph()
    g.add_nodes_from(range(num_nodes))
    g.add_edges_from((int(h), int(t)) for h, t in zip(head, tail) if h != t)
    return g


def multi_graph(head: np.ndarray, relation: np.ndarray, tail: np.ndarray, num_relations: int) -> nx.MultiDiGraph:
    """DRAGON's ``cpnet``: every edge plus its inverse typed ``rel + R``."""
    g = nx.MultiDiGraph()
    for h, r, t in zip(head.tolist(), relation.tolist(), tail.tolist()):
        g.add_edge(h, t, rel=r)
        g.add_edge(t, h, rel=r + num_relations)
    return g


def subgraph_nodes(simple: nx.Graph, qc: Sequence[int], ac: Sequence[int]) -> set[int]:
    """Question + answer concepts + common neighbours of every pair of them (2-hop paths)."""
    qa_nodes = set(qc) | set(ac)
    extra = set()
    for q in qa_nodes:
        for a in qa_nodes:
            if q != a and q in simple and a in simple:
                extra |= set(simple[q]) & set(simple[a])
    return qa_nodes | extra


def concepts2adj(cpnet: nx.MultiDiGraph, nodes: Sequence[int]) -> list[tuple[int, int, int]]:
    """(relation, src position, dst position) of every edge among ``nodes`` (DRAGON's O(n²) loop)."""
    edges = []
    for s, u in enumerate(nodes):
        for t, v in enumerate(nodes):
            if cpnet.has_edge(u, v):
                edges += [(e["rel"], s, t) for e in cpnet[u][v].values()]
    return edges
