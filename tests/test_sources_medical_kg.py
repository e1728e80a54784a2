"""prepare@medical_kg: DRAGON's UMLS graph files + concept names -> nodes/edges Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kg_ml.errors import InputError
from kg_ml.sources import prepare_source

FILES = {
    "concepts.txt": ["C0000001", "C0000002", "C0000003"],
    "relations.txt": ["isa", "may_treat"],
    "concept_names.txt": ["C0000001\tFever", "C0000001\tPyrexia", "C0000002\tAspirin", "C9999999\tElsewhere"],
    "umls.csv": ["may_treat\tC0000002\tC0000001\t1.0", "isa\tC0000003\tC0000001\t0.5"],
}


def write(raw: Path, **over: list[str]) -> Path:
    raw.mkdir(exist_ok=True)
    for name, lines in {**FILES, **over}.items():
        (raw / name).write_text("\n".join(lines) + "\n")
    return raw


def test_happy_path(tmp_path: Path):
    out = tmp_path / "out"
    metrics = prepare_source("medical_kg", write(tmp_path / "raw"), out)
    assert metrics == {"nodes": 3, "relations": 2, "edges": 2,
                       "nodes_without_name": 1, "names_unknown_cui": 1}
    assert pq.read_table(out / "nodes.parquet").to_pylist() == [
        {"id": 0, "cui": "C0000001", "name": "Fever", "aliases": ["Fever", "Pyrexia"]},
        {"id": 1, "cui": "C0000002", "name": "Aspirin", "aliases": ["Aspirin"]},
        {"id": 2, "cui": "C0000003", "name": "C0000003", "aliases": []},
    ]
    assert pq.read_table(out / "edges.parquet").to_pylist() == [
        {"head": 1, "relation": 1, "tail": 0, "weight": 1.0},
        {"head": 2, "relation": 0, "tail": 0, "weight": 0.5},
    ]
    schema = pq.read_schema(out / "edges.parquet")
    assert json.loads(schema.metadata[b"relations"]) == ["isa", "may_treat"]
    assert pq.read_table(out / "relations.parquet").to_pylist() == [
        {"id": 0, "name": "isa"}, {"id": 1, "name": "may_treat"}]


@pytest.mark.parametrize("edge, field, message", [
    ("may_treat\tC0000002\tC0000404\t1.0", "tail", "unknown CUI 'C0000404'"),
    ("may_treat\tC0000404\tC0000001\t1.0", "head", "unknown CUI"),
    ("cures\tC0000002\tC0000001\t1.0", "relation", "unknown relation 'cures'"),
    ("isa\tC0000002\tC0000001\theavy", "weight", "expected a number"),
    ("isa\tC0000002\tC0000001", None, "expected 4 tab-separated fields"),
])
def test_bad_edges(tmp_path: Path, edge: str, field: str | None, message: str):
    raw = write(tmp_path / "raw", **{"umls.csv": [FILES["umls.csv"][0], edge]})
    with pytest.raises(InputError) as err:
        prepare_source("medical_kg", raw, tmp_path / "out")
    assert (err.value.path, err.value.line, err.value.field) == (str(raw / "umls.csv"), 2, field)
    assert message in err.value.message
    metrics = prepare_source("medical_kg", raw, tmp_path / "out", strict=False)
    assert metrics["edges"] == 1 and metrics["skipped_rows.umls.csv"] == 1


def test_concept_list_errors_are_always_fatal(tmp_path: Path):
    # ids are line positions: skipping a bad line would shift every later id
    raw = write(tmp_path / "raw", **{"concepts.txt": ["C0000001", "", "C0000002"]})
    with pytest.raises(InputError) as err:
        prepare_source("medical_kg", raw, tmp_path / "out", strict=False)
    assert (err.value.line, err.value.field) == (2, "cui")
    raw = write(tmp_path / "raw", **{"concepts.txt": ["C0000001", "C0000001"]})
    with pytest.raises(InputError, match="duplicate cui"):
        prepare_source("medical_kg", raw, tmp_path / "out")


def test_bad_name_line(tmp_path: Path):
    raw = write(tmp_path / "raw", **{"concept_names.txt": ["C0000001\tFever\textra"]})
    with pytest.raises(InputError) as err:
        prepare_source("medical_kg", raw, tmp_path / "out")
    assert err.value.line == 1 and "expected 2 tab-separated fields" in err.value.message


def test_deterministic_bytes(tmp_path: Path):
    raw = write(tmp_path / "raw")
    prepare_source("medical_kg", raw, tmp_path / "a")
    prepare_source("medical_kg", raw, tmp_path / "b")
    for p in (tmp_path / "a").iterdir():
        assert p.read_bytes() == (tmp_path / "b" / p.name).read_bytes()
