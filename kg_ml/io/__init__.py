"""Atomic, deterministic writers for the pipeline's outputs."""

from kg_ml.io.atomic import atomic_dir, atomic_file, write_json
from kg_ml.io.parquet import ParquetSink, write_parquet

__all__ = ["atomic_dir", "atomic_file", "write_json", "ParquetSink", "write_parquet"]
