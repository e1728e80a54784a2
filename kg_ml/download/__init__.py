"""Download layer: resumable, checksummed fetches and safe archive extraction."""

from kg_ml.download.archive import safe_extract
from kg_ml.download.fetch import fetch, sha256_file

__all__ = ["fetch", "safe_extract", "sha256_file"]
