"""KARD: answer extraction, the verification filter, student prompts, and a tiny distill + evaluate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kg_ml.errors import InputError
from kg_ml.kard.answers import extract_answer, majority_vote
from kg_ml.kard.config import KardParams, Variant
from kg_ml.kard.data import Question, training_examples
from kg_ml.kard.infer import predict_by_score, rationale_of
from kg_ml.kard.prompts import strip_conclusion, student_input, student_target

OPTIONS = ["risavir", "teriprazole", "suloetam", "kalemab"]


@pytest.mark.parametrize("text, expected", [
    ("Suloetam treats it. Therefore, the answer is (C) suloetam.", 2),
    ("... Answer: (B) teriprazole", 1),
    ("... Answer: teriprazole (B)", 1),                               # the student's own format
    ("(A) is unlikely because ... so the answer is (D).", 3),       # the conclusion, not the first letter
    ("the answer is b", 1),
    ("Answer:(c)", 2),
    ("It is treated with Kalemab.", 3),                               # no letter: option text
    ("risavir is wrong; suloetam is right", 2),                       # the last option named
    ("Therefore, the answer is (E) foo", None),                       # E is not an option; no option text
    ("no idea", None),
    ("", None),
])
def test_extract_answer(text, expected):
    assert extract_answer(text, OPTIONS) == expected


def test_extract_answer_prefers_longer_option_at_same_end():
    assert extract_answer("the patient has heart disease", ["disease", "heart disease"]) == 1


def test_majority_vote():
    assert majority_vote([1, 2, 2, None, 1, 2]) == 2
    assert majority_vote([3, 1, 1, 3]) == 3  # tie: the answer sampled first
    assert majority_vote([None, None]) is None


def test_prompts():
    src = student_input("Which drug?", OPTIONS[:2], ["P one.", "P two."], rationale=True)
    assert src == "Question: Which drug? Options: (A) risavir (B) teriprazole Knowledge: P one. P two. Explanation:"
    assert student_input("Q?", OPTIONS[:2], None, rationale=False).endswith("(B) teriprazole Answer:")
    assert student_target("Because. ", 2, OPTIONS) == "Because. Answer: suloetam (C)"
    assert student_target("", 2, OPTIONS) == "Answer: suloetam (C)"
    assert student_target(None, 0, OPTIONS) == "risavir (A)"


@pytest.mark.parametrize("text, expected", [
    ("X points to M. Suloetam treats M. Therefore, the answer is (C) suloetam.", "X points to M. Suloetam treats M."),
    ("Based on the information given, the best choice is (C) suloetam.", ""),
    ("The dose is 2.5 mg. Thus (B), i.e. teriprazole.", "The dose is 2.5 mg."),
    ("M is treated with suloetam. So it is suloetam.", "M is treated with suloetam. So it is suloetam."),  # no letter
    ("(A) is unlikely. M is treated with suloetam.", "(A) is unlikely. M is treated with suloetam."),
])
def test_strip_conclusion(text, expected):
    assert strip_conclusion(text) == expected


def test_rationale_of_and_vote_by_score():
    assert rationale_of("M fits. Answer: suloetam (C)") == "M fits. "
    assert rationale_of("M fits, no answer yet") == "M fits, no answer yet"
    scores = [[np.array([-3.0, -1.0, -2.0, -9.0])],                                   # greedy: argmax
              [np.array([-1.0, -2, -3, -4]), np.array([-5.0, -1, -3, -4]), np.array([-5.0, -1, -3, -4])]]
    assert predict_by_score(scores) == [1, 1]


def _question():
    return Question("train-00002", "Which treatment?", OPTIONS, 2)


RATIONALES = {"train-00002": [(0, "X points to M. Suloetam treats M. Therefore, the answer is (C) suloetam."),
                              (1, "These suggest S. Therefore, the answer is (D) kalemab."),
                              (2, "It is suloetam.")]}
RETRIEVED = {("train-00002", 0): ["p1", "p2"], ("train-00002", 2): ["p2"], ("train-00002", 1): ["p3"]}
PASSAGES = {"p1": "M presents with X.", "p2": "Suloetam treats M.", "p3": "S is treated with kalemab."}


def test_verification_filter_and_variants():
    kard = Variant(knowledge=True, rationale=True)
    ex, stats = training_examples([_question()], RATIONALES, RETRIEVED, PASSAGES, kard, verify=True,
                                  retrieved_path=Path("r.parquet"))
    assert [e.rationale_id for e in ex] == [0, 2] and stats["rationales_rejected"] == 1
    assert "Knowledge: M presents with X. Suloetam treats M. Explanation:" in ex[0].source
    assert ex[0].target.endswith("Answer: suloetam (C)")
    assert ex[0].target.count("Therefore") == 1
    ex, _ = training_examples([_question()], RATIONALES, RETRIEVED, PASSAGES, kard, verify=True,
                              retrieved_path=Path("r.parquet"), strip=True)
    assert [e.target for e in ex] == ["X points to M. Suloetam treats M. Answer: suloetam (C)",
                                      "It is suloetam. Answer: suloetam (C)"]
    ex, _ = training_examples([_question()], RATIONALES, RETRIEVED, PASSAGES, kard, verify=False,
                              retrieved_path=Path("r.parquet"), per_question=2)
    assert [e.rationale_id for e in ex] == [0, 1]
    ex, _ = training_examples([_question()], RATIONALES, {}, {}, Variant(knowledge=False, rationale=True),
                              verify=True, retrieved_path=Path("r.parquet"))
    assert all("Knowledge:" not in e.source for e in ex)
    ex, _ = training_examples([_question()], {}, {}, {}, Variant(knowledge=False, rationale=False), verify=True,
                              retrieved_path=Path("r.parquet"))
    assert [(e.rationale_id, e.target) for e in ex] == [(-1, "suloetam (C)")]
    with pytest.raises(InputError, match=r"r\.parquet: field 'question_id': no passages retrieved for rationale 0"):
        training_examples([_question()], RATIONALES, {}, PASSAGES, kard, verify=True, retrieved_path=Path("r.parquet"))


def test_knowledge_without_rationale_is_rejected():
    with pytest.raises(ValueError, match="knowledge: true needs rationale: true"):
        Variant(knowledge=True, rationale=False)


def _tables(d: Path) -> None:
    qs = pa.table({"id": ["train-00002", "train-00003"], "question": ["Which treatment?", "Which drug?"],
                   "options": [OPTIONS, OPTIONS], "label": pa.array([2, 0], pa.int8())})
    for split in ("train", "test"):
        pq.write_table(qs, d / f"{split}.parquet")
    pq.write_table(pa.table({"question_id": ["train-00002", "train-00003"], "split": ["train", "train"],
                             "rationale_id": pa.array([0, 0], pa.int16()),
                             "text": ["Suloetam treats M. Therefore, the answer is (C) suloetam.",
                                      "Risavir treats N. Therefore, the answer is (A) risavir."]}), d / "rationales.parquet")
    pq.write_table(pa.table({"query_id": ["a", "b"], "question_id": ["train-00002", "train-00003"],
                             "rationale_id": pa.array([0, 0], pa.int16()), "rank": pa.array([1, 1], pa.int16()),
                             "passage_id": ["p2", "p1"]}), d / "retrieved.parquet")
    pq.write_table(pa.table({"id": ["p1", "p2"], "title": ["N", "M"],
                             "text": ["Risavir treats N.", "Suloetam treats M."]}), d / "passages.parquet")


def test_tiny_distill_and_evaluate_are_deterministic(tmp_path):
    from kg_ml.kard.distill import DistillInputs, distill
    from kg_ml.kard.infer import evaluate_kard

    _tables(tmp_path)
    params = KardParams.model_validate({
        "passages": 1, "max_input_length": 64, "max_target_length": 32,
        "student": {"tokenizer": {"vocab_size": 400, "min_frequency": 1},
                    "size": {"d_model": 16, "d_ff": 32, "d_kv": 8, "num_heads": 2, "num_layers": 1,
                             "num_decoder_layers": 1, "dropout_rate": 0.0}},
        "variants": {"kard": {"knowledge": True, "rationale": True},
                     "answer_only": {"knowledge": False, "rationale": False}},
        "train": {"epochs": 2, "batch_size": 2, "lr": 1e-3, "device": "cpu"},
        "inference": {"max_new_tokens": 8, "splits": ["test"]},
    })
    inputs = DistillInputs(tmp_path / "train.parquet", tmp_path / "rationales.parquet", tmp_path / "retrieved.parquet",
                           tmp_path / "passages.parquet")
    runs = []
    for name in ("a", "b"):
        metrics = distill("kard", params, inputs, out_dir=tmp_path / name, checkpoint_dir=None, log_dir=None)
        assert metrics["examples"] == 2 and metrics["steps"] == 2
        runs.append((tmp_path / name / "model.safetensors").read_bytes())
    assert runs[0] == runs[1]
    calls = []

    def retrieve(split, questions):
        calls.append((split, [q.id for q in questions]))
        return [["p2"] for _ in questions]

    metrics, table = evaluate_kard(params, {"kard": tmp_path / "a"}, tmp_path, tmp_path / "passages.parquet", retrieve)
    assert calls == [("test", table.column("question_id").to_pylist())]  # one lookup per split
    assert set(metrics["kard"]) == {"test_accuracy", "test_answered"}
    assert table.num_rows == 2 and table.column("passage_ids").to_pylist() == [["p2"], ["p2"]]
    assert len(table.column("generations")[0].as_py()) == 1
    assert metrics["kard"]["test_answered"] == 1.0 and len(table.column("option_scores")[0].as_py()) == 4

    # An answer-only student is scored without generating anything.
    distill("answer_only", params, inputs, out_dir=tmp_path / "ao", checkpoint_dir=None, log_dir=None)
    metrics, table = evaluate_kard(params, {"answer_only": tmp_path / "ao"}, tmp_path, tmp_path / "passages.parquet",
                                   retrieve)
    assert metrics["answer_only"]["test_answered"] == 1.0
    assert table.column("generations").to_pylist() == [[], []]
    assert table.column("passage_ids").to_pylist() == [[], []]


def test_option_scores_are_the_targets_log_likelihood(tmp_path):
    """Each option's score is the student's teacher-forced log-likelihood of its whole target
    (the generated rationale, then ``Answer: <option> (X)``), so argmax picks the option the
    student itself finds most likely after its rationale."""
    import torch

    from kg_ml.kard.config import Student
    from kg_ml.kard.infer import option_scores
    from kg_ml.kard.student import build_student

    torch.manual_seed(0)
    student = Student.model_validate({"tokenizer": {"vocab_size": 300, "min_frequency": 1},
                                      "size": {"d_model": 16, "d_ff": 32, "d_kv": 8, "num_heads": 2, "num_layers": 1,
                                               "num_decoder_layers": 1, "dropout_rate": 0.0}})
    model, tok = build_student(student, ["Which drug? Suloetam treats M. Answer: " + " ".join(OPTIONS)] * 4)
    model.eval()
    q = _question()
    ids = tok(["Question: Which drug? Explanation:"]).input_ids
    gen = "Suloetam treats M. Answer: kalemab (D)"  # the student's own (wrong) answer is discarded
    [[scores]] = option_scores(model, tok, ids, [[gen]], [q], batch_size=4)
    assert scores.shape == (4,)
    for i in range(4):
        labels = torch.tensor(tok([student_target("Suloetam treats M. ", i, OPTIONS)]).input_ids)
        with torch.no_grad():
            loss = model(input_ids=torch.tensor(ids), labels=labels).loss
        assert scores[i] == pytest.approx(-loss.item() * labels.shape[1], rel=1e-4)
    [[answer_only]] = option_scores(model, tok, ids, None, [q], batch_size=4)
    labels = torch.tensor(tok([student_target(None, 2, OPTIONS)]).input_ids)
    with torch.no_grad():
        assert answer_only[2] == pytest.approx(-model(input_ids=torch.tensor(ids), labels=labels).loss.item()
                                               * labels.shape[1], rel=1e-4)


def test_hub_student_missing_from_an_offline_cache_is_one_line(tmp_path, monkeypatch) -> None:
    """The full profile's student (a hub name) resolves like every hub model: under
    HF_HUB_OFFLINE=1 a cache without it stops with one line naming it and the fill command."""
    import huggingface_hub.constants

    from kg_ml.errors import ConfigError
    from kg_ml.kard.config import Student
    from kg_ml.kard.student import build_student

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError) as e:
        build_student(Student(pretrained="google/flan-t5-base"), [], offline=False)
    message = str(e.value)
    assert message.startswith("google/flan-t5-base: hub model not in the local Hugging Face cache")
    assert "python -m kg_ml.models.hub --download" in message and "\n" not in message


def _retrieved(path, retriever="reranked", questions=("test-00000", "test-00001")):
    rows = [(q, rank, f"p{i}{rank}") for i, q in enumerate(questions) for rank in (3, 1, 2)]
    pq.write_table(pa.table({"query_id": [q for q, _, _ in rows], "question_id": [q for q, _, _ in rows],
                             "rationale_id": pa.array([-1] * len(rows), pa.int16()),
                             "rank": pa.array([r for _, r, _ in rows], pa.int16()),
                             "passage_id": [p for _, _, p in rows], "score": [0.5] * len(rows),
                             "retriever": [retriever] * len(rows)}), path)


def test_retrieved_knowledge_reads_the_retrieve_stage_rankings(tmp_path):
    """evaluate_kard takes retrieve@<task>'s question rankings (top kard.passages by rank), and
    refuses a table ranked by another retriever or one that lacks a question."""
    from kg_ml.errors import ConfigError, InputError
    from kg_ml.kard.data import Question
    from kg_ml.kard.knowledge import retrieved_knowledge

    _retrieved(tmp_path / "test.parquet")
    qs = [Question("test-00001", "q?", ["a", "b"], 0), Question("test-00000", "q?", ["a", "b"], 1)]
    assert retrieved_knowledge(tmp_path, "reranked", 2)("test", qs) == [["p11", "p12"], ["p01", "p02"]]
    with pytest.raises(ConfigError, match="ranked by \\['reranked'\\], but kard.inference.retriever is 'bm25'"):
        retrieved_knowledge(tmp_path, "bm25", 2)("test", qs)
    with pytest.raises(InputError, match="no ranking for question test-00009"):
        retrieved_knowledge(tmp_path, "reranked", 2)("test", qs + [Question("test-00009", "q?", ["a"], 0)])
    with pytest.raises(InputError, match="dev.parquet.*run retrieve first"):
        retrieved_knowledge(tmp_path, "reranked", 2)("dev", qs)
