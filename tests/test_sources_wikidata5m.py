"""prepare@wikidata5m: triples, alias files and text -> Parquet with unique display names."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kg_ml.errors import InputError
from kg_ml.sources import prepare_source
from kg_ml.sources.display_names import display_names, short_description

TRIPLES = {
    "train": ["Q1\tP1\tQ2", "Q2\tP1\tQ3", "Q3\tP2\tQ4", "Q4\tP9\tQ5"],
    "valid": ["Q1\tP2\tQ3"],
    "test": ["Q5\tP1\tQ99"],  # Q99 has no alias line; P9 neither
}
ENTITIES = [
    "Q1\tParis\tParis, France\tCity of Light",
    "Q2\tParis",                 # same name as Q1: described from the text file
    "Q3\tParis\t",               # same again, no text: falls back to the id; trailing tab ignored
    "Q4\tAC|DC\tACDC",           # '|' is kept verbatim
    "Q5",                        # id without aliases: name = id
]
RELATIONS = ["P1\tlocated in\tin", "P2\tpart of"]
TEXTS = ["Q1\tParis is the capital and most populous city of France. It has 2M people.",
         "Q2\tParis is a city in Lamar County, Texas, United States of America, near Oklahoma border."]


def write(raw: Path, *, eol: str = "\r\n", text: bool = True, **over: list[str]) -> Path:
    raw.mkdir(exist_ok=True)
    files = {f"wikidata5m_transductive_{s}.txt": rows for s, rows in TRIPLES.items()}
    files.update({"wikidata5m_entity.txt": ENTITIES, "wikidata5m_relation.txt": RELATIONS})
    files.update({f"wikidata5m_transductive_{k}.txt" if k in TRIPLES else f"wikidata5m_{k}.txt": v
                  for k, v in over.items()})
    for name, rows in files.items():
        (raw / name).write_bytes((eol.join(rows) + eol).encode())
    if text:
        (raw / "wikidata5m_text.txt.gz").write_bytes(gzip.compress(("\n".join(TEXTS) + "\n").encode()))
    return raw


def table(out: Path, name: str) -> list[dict]:
    return pq.read_table(out / f"{name}.parquet").to_pylist()


def test_happy_path(tmp_path: Path):
    raw = write(tmp_path / "raw")
    out = tmp_path / "out"
    metrics = prepare_source("wikidata5m", raw, out)
    assert metrics == {
        "triples_train_rows": 4, "triples_valid_rows": 1, "triples_test_rows": 1,
        "relations": 3, "relations_missing_from_alias_file": 1, "relations_without_alias": 0,
        "text_rows": 2, "display_name_with_description": 2, "display_name_with_id": 1,
        "entities": 6, "entities_without_alias": 1, "entities_missing_from_alias_file": 1,
        "entity_names_with_pipe": 1,
    }
    assert table(out, "triples_train")[0] == {"head": "Q1", "relation": "P1", "tail": "Q2"}
    assert [r["tail"] for r in table(out, "triples_test")] == ["Q99"]
    assert table(out, "entities") == [
        {"id": "Q1", "name": "Paris", "aliases": ["Paris", "Paris, France", "City of Light"],
         "display_name": "Paris (Paris is the capital and most populous city of France)"},
        {"id": "Q2", "name": "Paris", "aliases": ["Paris"],
         "display_name": "Paris (Paris is a city in Lamar County, Texas, United States)"},
        {"id": "Q3", "name": "Paris", "aliases": ["Paris"], "display_name": "Paris (Q3)"},
        {"id": "Q4", "name": "AC|DC", "aliases": ["AC|DC", "ACDC"], "display_name": "AC|DC"},
        {"id": "Q5", "name": "Q5", "aliases": [], "display_name": "Q5"},
        {"id": "Q99", "name": "Q99", "aliases": [], "display_name": "Q99"},
    ]
    assert table(out, "relations") == [
        {"id": "P1", "name": "located in", "aliases": ["located in", "in"]},
        {"id": "P2", "name": "part of", "aliases": ["part of"]},
        {"id": "P9", "name": "P9", "aliases": []},
    ]
    assert table(out, "text")[0]["id"] == "Q1"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["entities.parquet", "relations.parquet", "text.parquet",
         "triples_train.parquet", "triples_valid.parquet", "triples_test.parquet"])


def test_without_text_collisions_get_ids(tmp_path: Path):
    raw = write(tmp_path / "raw", eol="\n", text=False)
    metrics = prepare_source("wikidata5m", raw, tmp_path / "out")
    assert "text_rows" not in metrics and not (tmp_path / "out" / "text.parquet").exists()
    names = [r["display_name"] for r in table(tmp_path / "out", "entities")]
    assert names[:3] == ["Paris (Q1)", "Paris (Q2)", "Paris (Q3)"]


@pytest.mark.parametrize("split, line, lineno, field, message", [
    ("train", "Q1\tP1", 2, None, "expected 3 tab-separated fields"),
    ("valid", "Q1\tQ2\tQ3", 1, "relation", "expected a Wikidata relation id"),
    ("test", "q1\tP1\tQ2", 1, "head", "expected a Wikidata entity id"),
    ("train", "Q1\tP1\tQ01", 2, "tail", "expected a Wikidata entity id"),
])
def test_bad_triples(tmp_path: Path, split: str, line: str, lineno: int, field: str | None, message: str):
    rows = TRIPLES[split][:lineno - 1] + [line] + TRIPLES[split][lineno - 1:]
    raw = write(tmp_path / "raw", **{split: rows})
    with pytest.raises(InputError) as err:
        prepare_source("wikidata5m", raw, tmp_path / "out")
    path = raw / f"wikidata5m_transductive_{split}.txt"
    assert (err.value.path, err.value.line, err.value.field) == (str(path), lineno, field)
    assert message in err.value.message
    assert not (tmp_path / "out").exists()
    metrics = prepare_source("wikidata5m", raw, tmp_path / "out", strict=False)
    assert metrics["skipped_rows"] == 1
    assert metrics[f"skipped_rows.wikidata5m_transductive_{split}.txt"] == 1
    assert metrics[f"triples_{split}_rows"] == len(TRIPLES[split])


@pytest.mark.parametrize("entities, lineno, message, kept", [
    (ENTITIES + ["Q2\tduplicate"], 6, "duplicate entity id Q2", ["Q1", "Q2", "Q3", "Q4", "Q5", "Q99"]),
    # skipped, Q3 is then an entity used by triples without an alias line (appended, name = id)
    (ENTITIES[:2] + ["Paris\tQ3"] + ENTITIES[3:], 3, "expected a Wikidata entity id",
     ["Q1", "Q2", "Q4", "Q5", "Q3", "Q99"]),
])
def test_bad_entity_lines(tmp_path: Path, entities: list[str], lineno: int, message: str, kept: list[str]):
    raw = write(tmp_path / "raw", entity=entities)
    with pytest.raises(InputError) as err:
        prepare_source("wikidata5m", raw, tmp_path / "out")
    assert (err.value.line, err.value.field) == (lineno, "id") and message in err.value.message
    metrics = prepare_source("wikidata5m", raw, tmp_path / "out", strict=False)
    assert metrics["skipped_rows.wikidata5m_entity.txt"] == 1
    assert [r["id"] for r in table(tmp_path / "out", "entities")] == kept


def test_bad_text_line(tmp_path: Path):
    raw = write(tmp_path / "raw", text=False)
    (raw / "wikidata5m_text.txt").write_text("Q1\tok\nno tab here\n")
    with pytest.raises(InputError) as err:
        prepare_source("wikidata5m", raw, tmp_path / "out")
    assert (err.value.path, err.value.line) == (str(raw / "wikidata5m_text.txt"), 2)


def test_deterministic_bytes(tmp_path: Path):
    raw = write(tmp_path / "raw")
    prepare_source("wikidata5m", raw, tmp_path / "a")
    prepare_source("wikidata5m", raw, tmp_path / "b")
    for p in (tmp_path / "a").iterdir():
        assert p.read_bytes() == (tmp_path / "b" / p.name).read_bytes(), p.name


def test_short_description():
    assert short_description("Paris is a city. More text.") == "Paris is a city"
    assert short_description("One two three four five six seven eight nine ten eleven.") == \
        "One two three four five six seven eight nine ten"
    assert short_description("Dr.Who is 3.5 m tall") == "Dr.Who is 3.5 m tall"
    assert short_description("   ") is None


def test_display_names_resolve_chained_collisions():
    # 'Paris' x2 get descriptions; Q1's composed name equals Q3's plain name, so Q1 moves to its id.
    ids = pa.array(["Q1", "Q2", "Q3", "Q4"])
    names = pa.array(["Paris", "Paris", "Paris (Texas)", "Lyon"])
    descs = pa.array(["Texas", "France", None, None])
    display, counts = display_names(ids, names, descs)
    assert display.to_pylist() == ["Paris (Q1)", "Paris (France)", "Paris (Texas)", "Lyon"]
    assert counts == {"display_name_with_description": 1, "display_name_with_id": 1}


def test_display_names_plain_name_colliding_with_id_form():
    ids = pa.array(["Q1", "Q2", "Q3"])
    names = pa.array(["X", "X", "X (Q1)"])
    display, _ = display_names(ids, names, pa.nulls(3, pa.string()))
    assert display.to_pylist() == ["X (Q1)", "X (Q2)", "X (Q1) (Q3)"]


def test_vectorised_and_line_paths_agree(tmp_path: Path):
    # A blank line sends a block down the per-line path; the tables must not change.
    clean = ["Q1\tParis\tCity of Light", "Q2\tParis", "Q3\tLyon", "Q4\tAC|DC", "Q5\tFive"]
    fast = write(tmp_path / "fast", entity=clean, text=False)
    slow = write(tmp_path / "slow", entity=[*clean[:2], "", *clean[2:]], text=False,
                 train=[*TRIPLES["train"][:1], "", *TRIPLES["train"][1:]])
    prepare_source("wikidata5m", fast, tmp_path / "a")
    prepare_source("wikidata5m", slow, tmp_path / "b")
    for p in (tmp_path / "a").iterdir():
        assert p.read_bytes() == (tmp_path / "b" / p.name).read_bytes(), p.name
