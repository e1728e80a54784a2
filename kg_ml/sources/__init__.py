"""prepare@<source>: raw upstream files -> Parquet tables (see docs/DATA.md for the schemas)."""

from kg_ml.sources.registry import SOURCES, prepare_source, source_options

__all__ = ["SOURCES", "prepare_source", "source_options"]
