"""KG subgraphs for the LM+GNN models: DRAGON-style extraction (``extract``), relevance scores
(``relevance``), concept embeddings (``embeddings``), the subgraph@ stage (``build``) and the
PyG dataset + collate (``dataset``, imported on demand: it pulls in torch_geometric)."""

from kg_ml.graphs.extract import (
    ANSWER,
    CONTEXT,
    NUM_NODE_TYPES,
    OTHER,
    QUESTION,
    Subgraph,
    SubgraphExtractor,
    extract_subgraph,
    extract_subgraphs,
    num_edge_types,
)

__all__ = ["ANSWER", "CONTEXT", "NUM_NODE_TYPES", "OTHER", "QUESTION", "Subgraph", "SubgraphExtractor",
           "extract_subgraph", "extract_subgraphs", "num_edge_types"]
