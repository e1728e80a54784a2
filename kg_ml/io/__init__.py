"""Atomic, deterministic writers for the pipeline's outputs."""

from importlib import import_module

# Exports load on first use (PEP 562), so `write_json` does not load pyarrow (and numpy) before
# the stage runner has pinned the numerics.
_EXPORTS = {"atomic_dir": "atomic", "atomic_file": "atomic", "write_json": "atomic",
            "ParquetSink": "parquet", "write_parquet": "parquet"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'kg_ml.io' has no attribute {name!r}")
    return getattr(import_module(f"kg_ml.io.{_EXPORTS[name]}"), name)
