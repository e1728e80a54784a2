"""KARD's reranker: a late-interaction (ColBERT-style) scorer of passages for a question, trained to
reproduce what BM25 with the teacher rationale as the query prefers (see model.py for the design)."""
