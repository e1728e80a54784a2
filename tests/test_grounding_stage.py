"""ground@<task> on the bundled sample world: schema, coverage targets, determinism, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kg_ml.config import load_params
from kg_ml.errors import InputError
from kg_ml.grounding.run import GROUNDED_SCHEMA, ground_task
from kg_ml.io import write_parquet
from kg_ml.kg.build import build_kg
from kg_ml.sources import prepare_source

REPO = Path(__file__).resolve().parents[1]
PARAMS = load_params(REPO / "params.yaml").grounding


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """The sample's prepared sources, built graphs and grounded tasks, as the DAG makes them."""
    root = tmp_path_factory.mktemp("grounding")
    for source in ("conceptnet", "medical_kg", "medqa", "hotpotqa"):
        prepare_source(source, REPO / "data" / "sample" / source, root / "prepared" / source)
    for kg, cfg in PARAMS.kg.items():
        build_kg(cfg, root / "prepared" / cfg.source, root / "kg" / kg)
    for task, cfg in PARAMS.tasks.items():
        metrics = ground_task(task, cfg, root / "prepared" / task, root / "kg" / cfg.kg, root / "grounded" / task)
        (root / f"metrics_{task}.json").write_text(json.dumps(metrics))
    return root


def _rows(sample: Path, task: str) -> list[dict]:
    return [r for split in ("train", "dev", "test")
            for r in pq.read_table(sample / "grounded" / task / f"{split}.parquet").to_pylist()]


def _metrics(sample: Path, task: str) -> dict:
    return json.loads((sample / f"metrics_{task}.json").read_text())


@pytest.mark.parametrize("task", sorted(PARAMS.tasks))
def test_sample_coverage_targets(sample, task) -> None:
    m = _metrics(sample, task)
    assert m["share_with_question_concept"] >= 0.95, m  # the target on the sample
    rows = _rows(sample, task)
    assert m["statements"] == len(rows) and m["questions"] == len({r["question_id"] for r in rows})


@pytest.mark.parametrize("task", sorted(PARAMS.tasks))
def test_grounded_schema_and_invariants(sample, task) -> None:
    for split in ("train", "dev", "test"):
        assert pq.read_schema(sample / "grounded" / task / f"{split}.parquet").equals(GROUNDED_SCHEMA)
    for r in _rows(sample, task):
        assert r["statement_id"] == f"{r['question_id']}:{r['choice']}"
        assert r["kg"] == PARAMS.tasks[task].kg
        for col in ("question_concepts", "answer_concepts", "gold_answer_concepts"):
            assert r[col] == sorted(set(r[col])), col
        assert not set(r["question_concepts"]) & set(r["answer_concepts"])


def test_medqa_statements_per_choice(sample) -> None:
    rows = _rows(sample, "medqa")
    by_q: dict[str, list[dict]] = {}
    for r in rows:
        by_q.setdefault(r["question_id"], []).append(r)
    for rs in by_q.values():
        assert [r["choice"] for r in rs] == [0, 1, 2, 3]
        gold = [r for r in rs if r["is_gold"]]
        assert len(gold) == 1
        assert all(r["gold_answer_concepts"] == gold[0]["answer_concepts"] for r in rs)
    assert _metrics(sample, "medqa")["share_with_answer_concept"] >= 0.95


def test_hotpotqa_statement_is_the_question(sample) -> None:
    prepared = pq.read_table(sample / "prepared" / "hotpotqa" / "train.parquet").to_pylist()
    rows = pq.read_table(sample / "grounded" / "hotpotqa" / "train.parquet").to_pylist()
    assert [r["question_id"] for r in rows] == [p["id"] for p in prepared]
    assert all(r["text"] == p["question"] and r["choice"] == 0 and r["is_gold"] and r["answer_concepts"] == []
               for r, p in zip(rows, prepared))
    names = pq.read_table(sample / "kg" / "conceptnet" / "nodes.parquet").column("name").to_pylist()
    # a place answer grounds to its ConceptNet concept
    capital = next(r for r, p in zip(rows, prepared) if p["question"].startswith("What is the capital"))
    gold = next(p for p in prepared if p["id"] == capital["question_id"])["gold_answers"]
    assert [names[i] for i in capital["gold_answer_concepts"]] == [gold[0].lower()]


def test_ground_is_byte_identical(sample, tmp_path) -> None:
    cfg = PARAMS.tasks["hotpotqa"]
    ground_task("hotpotqa", cfg, sample / "prepared" / "hotpotqa", sample / "kg" / cfg.kg, tmp_path / "again")
    for split in ("train", "dev", "test"):
        assert ((tmp_path / "again" / f"{split}.parquet").read_bytes()
                == (sample / "grounded" / "hotpotqa" / f"{split}.parquet").read_bytes())


def test_null_question_names_file_row_field(sample, tmp_path) -> None:
    bad = tmp_path / "medqa"
    bad.mkdir()
    write_parquet(pa.table({"id": ["q0", "q1"], "question": ["fever and cough", None],
                            "options": [["a", "b"], ["c", "d"]], "label": pa.array([0, 1], pa.int8())}),
                  bad / "dev.parquet")
    cfg = PARAMS.tasks["medqa"]
    with pytest.raises(InputError) as e:
        ground_task("medqa", cfg, bad, sample / "kg" / cfg.kg, tmp_path / "out")
    assert str(e.value) == f"{bad / 'dev.parquet'}: field 'question': row 1: null value"
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match="no split table"):
        ground_task("medqa", cfg, tmp_path, sample / "kg" / cfg.kg, tmp_path / "out")


def test_ground_stage_cli(sample, tmp_path, run_stage) -> None:
    assert run_stage("ground", "--help").returncode == 0
    res = run_stage("ground", "--task", "nosuch")
    assert res.returncode == 1 and "unknown task 'nosuch'" in res.stderr
    res = run_stage("ground", "--task", "hotpotqa", "--input", str(sample / "prepared" / "hotpotqa"),
                    "--kg-dir", str(sample / "kg" / "conceptnet"), "--output", str(tmp_path / "g"),
                    "--metrics", str(tmp_path / "m.json"))
    assert res.returncode == 0, res.stderr
    assert json.loads((tmp_path / "m.json").read_text()) == _metrics(sample, "hotpotqa")


def test_every_configurable_task_has_a_reader() -> None:
    from kg_ml.grounding.config import TASKS
    from kg_ml.grounding.tasks import READERS

    assert set(READERS) == set(TASKS) >= set(PARAMS.tasks)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda g: g["tasks"]["medqa"].update(kg="nosuch"), "tasks.medqa.kg: unknown graph 'nosuch'"),
    (lambda g: g["tasks"].update(trivia={"kg": "conceptnet"}), "unknown task 'trivia'"),
    (lambda g: g["tasks"]["hotpotqa"].update(question_stopword_rule="some"), "question_stopword_rule"),
    (lambda g: g["kg"]["conceptnet"].update(source="wikidata5m"), "grounding.kg.conceptnet.source"),
])
def test_bad_grounding_params_fail_in_one_line(tmp_path, edit, message) -> None:
    import yaml

    from kg_ml.errors import ConfigError

    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    edit(raw["grounding"])
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as e:
        load_params(tmp_path / "params.yaml")
    assert "\n" not in str(e.value)
