"""Concept grounding: lemma patterns of a graph's concepts and DRAGON's linking of statements."""
