"""KG subgraphs for the LM+GNN models: DRAGON-style extraction (``extract``), relevance scores
(``relevance``), concept embeddings (``embeddings``), the subgraph@ stage (``build``) and the
PyG dataset + collate (``dataset``).

Import-light: kg_ml.config imports kg_ml.graphs.config at every stage start, so the extraction
API below is loaded on first use.
"""

from importlib import import_module

_EXTRACT = ("ANSWER", "CONTEXT", "NUM_NODE_TYPES", "OTHER", "QUESTION", "Subgraph", "SubgraphExtractor",
            "extract_subgraph", "extract_subgraphs", "num_edge_types")
__all__ = list(_EXTRACT)


def __getattr__(name: str):
    if name in _EXTRACT:
        return getattr(import_module("kg_ml.graphs.extract"), name)
    raise AttributeError(f"module 'kg_ml.graphs' has no attribute {name!r}")
