"""`kard:` section of params.yaml (distill@<variant>, evaluate_kard)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from kg_ml.config_base import StrictModel
from kg_ml.kgt5.config import T5Size, TokenizerParams
from kg_ml.qa.profiles import Profiled
from kg_ml.training.config import TrainConfig


class Variant(StrictModel):
    """One student: with ``knowledge`` the input carries retrieved passages; with ``rationale`` the
    target is the teacher's rationale + answer, else the answer alone (plain finetuning)."""

    task: str = "medqa"
    knowledge: bool
    rationale: bool

    @model_validator(mode="after")
    def _knowledge_needs_rationale(self) -> Variant:
        # KARD retrieves training passages with the rationale as the query: no rationale, no query.
        if self.knowledge and not self.rationale:
            raise ValueError("knowledge: true needs rationale: true (training passages are retrieved per rationale)")
        return self


class Student(StrictModel):
    """pretrained: a hub name or local path (full profile: google/flan-t5-base) whose tokenizer is
    used too; null = a T5 of ``size`` from scratch with a ``tokenizer`` trained on the task's texts."""

    pretrained: str | None = None
    tokenizer: TokenizerParams = TokenizerParams(vocab_size=4000)
    size: T5Size = T5Size()


class Inference(StrictModel):
    """evaluate_kard: passages retrieved with the question + options (``bm25`` or ``reranked``);
    ``greedy`` decoding or ``self_consistency`` (``num_samples`` at ``temperature``, majority vote).

    answer: how a generation becomes an option. ``score``: the student's log-likelihood of each
    option's ``Answer: <option> (X)`` continuation after its own rationale (answer-only students:
    of ``<option> (X)`` alone, so they need no generation); always answers. ``extract``: the letter
    or option text the generated text names (`kg_ml.kard.answers.extract_answer`), or none.
    """

    retriever: Literal["bm25", "reranked"] = "bm25"
    decoding: Literal["greedy", "self_consistency"] = "greedy"
    answer: Literal["score", "extract"] = "score"
    num_samples: int = Field(5, ge=1)
    temperature: float = Field(0.7, gt=0)
    max_new_tokens: int = Field(160, ge=1)
    batch_size: int = Field(32, ge=1)
    splits: list[str] = Field(default_factory=lambda: ["dev", "test"], min_length=1)
    seed: int = 0


class KardParams(Profiled):
    """The ``full:`` block holds the full profile's replacements (`for_profile`).

    passages: knowledge passages per input (KARD's k); verify: keep only teacher rationales that
    conclude with the gold answer; rationales_per_question: at most this many kept rationales per
    question, by rationale id (null = all); strip_conclusion: drop a rationale's closing sentence
    when it names an option letter ("Therefore, the answer is (C) ..."), since the target's
    ``Answer: <option> (C)`` follows anyway (shorter targets); max_*_length: token limits
    (over-long inputs lose knowledge tokens, not the final marker). CPU threads are the stage
    runner's (params ``numerics``).
    """

    passages: int = Field(3, ge=1)
    verify: bool = True
    rationales_per_question: int | None = Field(None, ge=1)
    strip_conclusion: bool = False
    max_input_length: int = Field(512, ge=8)
    max_target_length: int = Field(192, ge=4)
    student: Student = Student()
    variants: dict[str, Variant] = Field(min_length=1)
    train: TrainConfig = TrainConfig()
    inference: Inference = Inference()
