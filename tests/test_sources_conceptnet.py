"""prepare@conceptnet: assertions CSV -> English nodes/edges with DRAGON's merged relations."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kg_ml.errors import InputError
from kg_ml.sources import prepare_source
from kg_ml.sources.conceptnet import RELATIONS, concept_name, relation_mapping


def line(rel: str, head: str, tail: str, weight: float | str = 1.0, meta: str | None = None) -> str:
    meta = meta if meta is not None else json.dumps({"dataset": "/d/x", "weight": weight})
    return f"/a/[/r/{rel}/,{head}/,{tail}/]\t/r/{rel}\t{head}\t{tail}\t{meta}"


def write(raw: Path, lines: list[str], *, gz: bool = True, final_newline: bool = True) -> Path:
    raw.mkdir(exist_ok=True)
    data = ("\n".join(lines) + ("\n" if final_newline else "")).encode()
    path = raw / ("conceptnet-assertions-5.7.0.csv" + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def read(out: Path) -> tuple[list[str], list[tuple]]:
    names = pq.read_table(out / "nodes.parquet").column("name").to_pylist()
    edges = [(names[e["head"]], RELATIONS[e["relation"]], names[e["tail"]], e["weight"])
             for e in pq.read_table(out / "edges.parquet").to_pylist()]
    return names, edges


def test_relation_groups_and_swaps():
    mapping = relation_mapping()
    assert len(RELATIONS) == 17 and RELATIONS[0] == "atlocation" and RELATIONS[-1] == "receivesaction"
    assert mapping["hasa"] == (RELATIONS.index("partof"), True)
    assert mapping["motivatedbygoal"] == (RELATIONS.index("causes"), True)
    assert mapping["synonym"] == (RELATIONS.index("relatedto"), False)
    assert "externalurl" not in mapping and "derivedfrom" not in mapping


@pytest.mark.parametrize("uri, term, quirk", [
    ("/c/en/bank/n/wn/finance", "bank", "finance"),
    ("/c/en/test/n/wikt/en_1", "test", None),
    ("/c/en/ice_cream/n", "ice_cream", "ice_cream"),
    ("/c/en/New-York", "new-york", "new-york"),
    ("/c/en/café", "café", "café"),
    ("/c/en/24_7", None, None),
])
def test_concept_name(uri: str, term: str | None, quirk: str | None):
    assert concept_name(uri) == term
    assert concept_name(uri, sense_quirk=True) == quirk


def test_happy_path(tmp_path: Path):
    raw = tmp_path / "raw"
    write(raw, [
        line("IsA", "/c/en/dog/n", "/c/en/animal", 2.0),
        line("HasA", "/c/en/car", "/c/en/wheel/n/wn/artifact", 1.5),    # swapped into partof
        line("MotivatedByGoal", "/c/en/eat", "/c/en/hunger", 0.5),       # swapped into causes
        line("Synonym", "/c/en/dog", "/c/fr/chien"),                     # non-English end
        line("RelatedTo", "/c/ja/犬", "/c/en/dog"),                       # non-English head
        line("ExternalURL", "/c/en/dog", "/c/en/dog_url"),               # relation not kept
        line("RelatedTo", "/c/en/dog", "/c/en/2pac"),                    # not alphabetic
        line("Synonym", "/c/en/dog/n", "/c/en/dog/v"),                   # self-loop
        line("Synonym", "/c/en/dog", "/c/en/animal", 0.25),
        line("RelatedTo", "/c/en/dog", "/c/en/animal", 0.75),            # duplicate: keep max weight
    ])
    metrics = prepare_source("conceptnet", raw, tmp_path / "out")
    assert metrics == {"rows": 10, "english_rows": 8, "dropped_relation": 1, "dropped_term": 1,
                       "dropped_self_loop": 1, "dropped_duplicate": 1, "nodes": 6, "edges": 4}
    names, edges = read(tmp_path / "out")
    assert names == ["animal", "car", "dog", "eat", "hunger", "wheel"]
    ids = pq.read_table(tmp_path / "out" / "nodes.parquet").column("id").to_pylist()
    assert ids == list(range(6))
    assert edges == [
        ("dog", "isa", "animal", 2.0),
        ("dog", "relatedto", "animal", 0.75),
        ("hunger", "causes", "eat", 0.5),
        ("wheel", "partof", "car", 1.5),
    ]
    rel_table = pq.read_table(tmp_path / "out" / "relations.parquet").to_pylist()
    assert [r["name"] for r in rel_table] == list(RELATIONS)
    schema = pq.read_schema(tmp_path / "out" / "edges.parquet")
    assert json.loads(schema.metadata[b"relations"]) == list(RELATIONS)
    assert [str(schema.field(c).type) for c in ("head", "relation", "tail", "weight")] == \
        ["int32", "int8", "int32", "float"]


def test_sense_quirk_reproduces_dragon(tmp_path: Path):
    raw = tmp_path / "raw"
    write(raw, [line("IsA", "/c/en/bank/n/wn/finance", "/c/en/institution"),
                line("IsA", "/c/en/test/n/wikt/en_1", "/c/en/exam")])
    prepare_source("conceptnet", raw, tmp_path / "ok")
    assert read(tmp_path / "ok")[1] == [("bank", "isa", "institution", 1.0), ("test", "isa", "exam", 1.0)]
    metrics = prepare_source("conceptnet", raw, tmp_path / "quirk", sense_quirk=True)
    assert read(tmp_path / "quirk")[1] == [("finance", "isa", "institution", 1.0)]
    assert metrics["dropped_term"] == 1  # 'en_1' is not alphabetic


def test_plain_csv_without_final_newline_and_no_english(tmp_path: Path):
    raw = tmp_path / "raw"
    write(raw, [line("Antonym", "/c/ab/x/n", "/c/ab/y"), line("Antonym", "/c/adx/z", "/c/adx/w")],
          gz=False, final_newline=False)
    metrics = prepare_source("conceptnet", raw, tmp_path / "out")
    assert metrics["rows"] == 2 and metrics["edges"] == metrics["nodes"] == 0
    assert pq.read_table(tmp_path / "out" / "edges.parquet").num_rows == 0


def test_crlf_lines(tmp_path: Path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "conceptnet-assertions-5.7.0.csv").write_bytes(
        (line("IsA", "/c/en/dog", "/c/en/animal", 3) + "\r\n").encode())
    prepare_source("conceptnet", raw, tmp_path / "out")
    assert read(tmp_path / "out")[1] == [("dog", "isa", "animal", 3.0)]


@pytest.mark.parametrize("bad, field, message", [
    (line("IsA", "/c/en/dog", "/c/en/animal", meta="{not json"), "metadata", "invalid JSON"),
    (line("IsA", "/c/en/dog", "/c/en/animal", meta='{"dataset": "/d/x"}'), "metadata.weight", "got null"),
    (line("IsA", "/c/en/dog", "/c/en/animal", weight="heavy"), "metadata.weight", "got str"),
    ("/a/[x]\t/r/IsA\t/c/en/dog\t/c/en/animal", None, "expected 5 tab-separated fields, got 4"),
])
def test_bad_rows(tmp_path: Path, bad: str, field: str | None, message: str):
    raw = tmp_path / "raw"
    path = write(raw, [line("IsA", "/c/en/cat", "/c/en/animal"), bad])
    with pytest.raises(InputError) as err:
        prepare_source("conceptnet", raw, tmp_path / "out")
    assert (err.value.path, err.value.line, err.value.field) == (str(path), 2, field)
    assert message in err.value.message
    metrics = prepare_source("conceptnet", raw, tmp_path / "out", strict=False)
    assert metrics["skipped_rows"] == 1 and metrics["edges"] == 1
    assert metrics["skipped_rows.conceptnet-assertions-5.7.0.csv.gz"] == 1


def test_truncated_gzip(tmp_path: Path):
    lines = [line("IsA", f"/c/en/a{chr(97 + i % 26)}", "/c/en/b") for i in range(5000)]
    path = write(tmp_path / "raw", lines)
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(InputError, match="truncated or corrupt gzip stream"):
        prepare_source("conceptnet", tmp_path / "raw", tmp_path / "out")


def test_deterministic_bytes(tmp_path: Path):
    raw = tmp_path / "raw"
    write(raw, [line("IsA", f"/c/en/{w}", "/c/en/thing", i / 4) for i, w in enumerate(["b", "a", "c", "a"])])
    prepare_source("conceptnet", raw, tmp_path / "x")
    prepare_source("conceptnet", raw, tmp_path / "y")
    for name in ("nodes", "edges", "relations"):
        x, y = (tmp_path / d / f"{name}.parquet" for d in "xy")
        assert x.read_bytes() == y.read_bytes()


def test_single_file_of_any_name(tmp_path: Path):
    path = write(tmp_path / "raw", [line("IsA", "/c/en/dog", "/c/en/animal")]).rename(tmp_path / "en.csv.gz")
    prepare_source("conceptnet", path, tmp_path / "out")
    assert read(tmp_path / "out")[1] == [("dog", "isa", "animal", 1.0)]
