"""Question/context features for span extraction: long contexts become overlapping windows
(``doc_stride`` tokens of overlap), each with the character offsets of its context tokens.

As Hugging Face's ``run_qa`` (LinkBERT's script): a training window whose context does not hold
the first gold answer is labelled with the [CLS] position; evaluation windows keep their offsets
(``None`` outside the context) so spans map back to the original text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerFast

from kg_ml.errors import ConfigError

Offset = tuple[int, int] | None
CHUNK = 1000  # examples tokenized per call: bounded memory, a progress bar on big sets


@dataclass(frozen=True)
class Windows:
    """Tokenizer settings of the feature windows."""

    max_seq_length: int
    doc_stride: int
    max_query_length: int


@dataclass
class EvalFeatures:
    """Windows for inference: ``example[i]`` is the example row window ``i`` came from."""

    encodings: list[dict[str, list[int]]]
    example: list[int]
    offsets: list[list[Offset]]


def check_fast(tokenizer) -> PreTrainedTokenizerFast:
    if not getattr(tokenizer, "is_fast", False):
        raise ConfigError(f"{tokenizer.name_or_path}: span extraction needs a fast tokenizer (offset mappings)")
    return tokenizer


def clip_questions(tokenizer: PreTrainedTokenizerFast, questions: Sequence[str], max_tokens: int) -> list[str]:
    """Left-strip questions (as run_qa) and cut any longer than ``max_tokens`` tokens at a token end."""
    questions = [q.lstrip() for q in questions]
    enc = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
    return [q if len(offs) <= max_tokens else q[:offs[max_tokens - 1][1]]
            for q, offs in zip(questions, enc["offset_mapping"])]


def _tokenize(tokenizer: PreTrainedTokenizerFast, questions: Sequence[str], contexts: Sequence[str],
              windows: Windows):
    question_first = tokenizer.padding_side == "right"  # XLNet-style tokenizers put the context first
    questions = clip_questions(tokenizer, questions, windows.max_query_length)
    first, second = (questions, contexts) if question_first else (contexts, questions)
    enc = tokenizer(list(first), list(second), truncation="only_second" if question_first else "only_first",
                    max_length=windows.max_seq_length, stride=windows.doc_stride,
                    return_overflowing_tokens=True, return_offsets_mapping=True, padding=False)
    return enc, 1 if question_first else 0


def _chunks(n: int, desc: str):
    return tqdm(range(0, n, CHUNK), desc=desc, unit=f"x{CHUNK}", disable=None, leave=False)


def _inputs(enc, i: int) -> dict[str, list[int]]:
    return {k: enc[k][i] for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc}


def span_label(offsets: Sequence[tuple[int, int]], sequence_ids: Sequence[int | None], context_id: int,
               start_char: int, end_char: int, cls_index: int) -> tuple[int, int]:
    """Token (start, end) of the answer ``[start_char, end_char)`` in one window, or (cls, cls)
    when the window's context does not hold all of it."""
    first = sequence_ids.index(context_id)
    last = len(sequence_ids) - 1 - sequence_ids[::-1].index(context_id)
    if not (offsets[first][0] <= start_char and offsets[last][1] >= end_char):
        return cls_index, cls_index
    start = first
    while start <= last and offsets[start][0] <= start_char:
        start += 1
    end = last
    while end >= first and offsets[end][1] >= end_char:
        end -= 1
    return start - 1, end + 1


def train_features(tokenizer: PreTrainedTokenizerFast, questions: Sequence[str], contexts: Sequence[str],
                   answer_starts: Sequence[int], answer_texts: Sequence[str],
                   windows: Windows) -> list[dict[str, list[int] | int]]:
    """Training windows with ``start_positions`` / ``end_positions`` of the given (first) answer."""
    check_fast(tokenizer)
    out: list[dict] = []
    for lo in _chunks(len(questions), "train features"):
        hi = lo + CHUNK
        enc, context_id = _tokenize(tokenizer, questions[lo:hi], contexts[lo:hi], windows)
        for i, row in enumerate(enc["overflow_to_sample_mapping"]):
            ids = enc["input_ids"][i]
            cls = ids.index(tokenizer.cls_token_id) if tokenizer.cls_token_id in ids else 0
            start_char = int(answer_starts[lo + row])
            start, end = span_label(enc["offset_mapping"][i], enc.sequence_ids(i), context_id,
                                    start_char, start_char + len(answer_texts[lo + row]), cls)
            out.append(_inputs(enc, i) | {"start_positions": start, "end_positions": end})
    return out


def eval_features(tokenizer: PreTrainedTokenizerFast, questions: Sequence[str], contexts: Sequence[str],
                  windows: Windows) -> EvalFeatures:
    """Inference windows with context offsets (``None`` for question and special tokens)."""
    check_fast(tokenizer)
    feats = EvalFeatures([], [], [])
    for lo in _chunks(len(questions), "eval features"):
        enc, context_id = _tokenize(tokenizer, questions[lo:lo + CHUNK], contexts[lo:lo + CHUNK], windows)
        for i, row in enumerate(enc["overflow_to_sample_mapping"]):
            seq = enc.sequence_ids(i)
            feats.encodings.append(_inputs(enc, i))
            feats.example.append(lo + row)
            feats.offsets.append([tuple(o) if s == context_id else None
                                  for o, s in zip(enc["offset_mapping"][i], seq)])
    return feats
