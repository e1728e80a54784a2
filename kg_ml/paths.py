"""The repository layout: where every stage reads and writes, defined once.

dvc.yaml passes these paths to each stage in its ``cmd``; the stage CLIs take their defaults (for
runs by hand) from here, and ``tests/test_dvc_yaml.py`` checks that the two agree and that every
path a ``cmd`` names is a declared dependency or output. Paths are relative to the repo root.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path("data")
MODELS = Path("models")
CHECKPOINTS = Path("checkpoints")
PLOTS = Path("plots")
METRICS = Path("metrics")
REPORTS = Path("reports")
INDEX = DATA / "index"
DOWNLOAD_CACHE = DATA / ".download-cache"  # partial downloads, resumed by the next download@
CODE_SPEC = Path("stages") / "code.yaml"  # the kg_ml code each stage script imports
CODE = DATA / "code"  # the code stage's fingerprints, one per stage script


def code_fingerprint(script: str) -> Path:
    """The code stage's fingerprint of ``stages/<script>.py``: a stage's one code dep."""
    return CODE / f"{script}.sha256"


def raw(source: str) -> Path:
    """download@<source>'s files, in the upstream layout."""
    return DATA / "raw" / source


def prepared(source: str) -> Path:
    """prepare@<source>'s Parquet tables (docs/DATA.md)."""
    return DATA / "prepared" / source


def kg(name: str) -> Path:
    return DATA / "kg" / name


def grounded(task: str) -> Path:
    return DATA / "grounded" / task


def graphs(task: str) -> Path:
    return DATA / "graphs" / task


def embeddings(kg_name: str) -> Path:
    """The concept embeddings of a graph (the GNN's node features)."""
    return DATA / "embeddings" / kg_name / "concepts.safetensors"


def retrieved(task: str) -> Path:
    return DATA / "retrieved" / task


def predictions(task: str) -> Path:
    return DATA / "predictions" / task


def model(name: str) -> Path:
    """A stage's best model, ``save_pretrained`` format."""
    return MODELS / name


def checkpoints(name: str) -> Path:
    """A training stage's resumable checkpoints (``persist: true`` in dvc.yaml)."""
    return CHECKPOINTS / name


def plots(name: str) -> Path:
    return PLOTS / name


def metrics(name: str) -> Path:
    return METRICS / f"{name}.json"


BM25_INDEX = INDEX / "bm25"
DENSE_INDEX = INDEX / "dense"
PASSAGES = prepared("knowledge_base") / "passages.parquet"
GOLD_PASSAGES = prepared("knowledge_base") / "gold_passages.parquet"
RATIONALES = prepared("rationales") / "rationales.parquet"
KARD_OUTPUT = DATA / "kard"
