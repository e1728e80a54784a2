"""kg-ml: a reproducible pipeline for knowledge-graph-enhanced language models."""

__version__ = "0.1.0"
