"""Knowledge retrieval for KARD: BM25 and FAISS indexes over the knowledge base, rationale- and
question-query retrieval, reciprocal-rank fusion, recall metrics and the late-interaction reranker.

Kept import-light: kg_ml.config imports kg_ml.retrieval.config at every stage start.
"""
