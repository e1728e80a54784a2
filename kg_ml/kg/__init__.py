"""Knowledge graphs: the loader here; build_kg@ (pruned edges, node texts, matcher vocabulary) in
``kg_ml.kg.build`` (not imported here: it pulls in spaCy)."""

from kg_ml.kg.graph import KnowledgeGraph, TypedAdjacency

__all__ = ["KnowledgeGraph", "TypedAdjacency"]
