"""The ``text_kg`` section of params.yaml: HotpotQA extractive QA, KGT5 and KGQA.

Each task's values are the sample profile's; its ``full:`` block holds what the full profile
replaces (`kg_ml.qa.profiles`). Stages read ``profile`` and their own sub-section.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import Field, model_validator

from kg_ml.config_base import StrictModel
from kg_ml.kgt5.config import KGQAParams, KGT5Params
from kg_ml.qa.profiles import Profiled
from kg_ml.training.config import TrainConfig

# LinkBERT's base recipe (MRQA HotpotQA): lr 3e-5, batch 12 x grad-acc 2, 4 epochs.
_LINKBERT_TRAIN = TrainConfig(epochs=4, batch_size=12, grad_accum=2, lr=3e-5, warmup_ratio=0.1,
                              metric_for_best="f1")


class HotpotQAParams(Profiled):
    """finetune@hotpotqa / evaluate@hotpotqa: an encoder with a span head (defaults: LinkBERT base).

    encoder: a Hugging Face reference with a fast tokenizer (hub name, local directory, or
    ``package:NAME`` for a model directory shipped in an installed package);
    num_hidden_layers: keep only the first N transformer layers of the encoder (null: all);
    encoder_overrides: encoder config values replaced before loading (e.g. dropout);
    max_seq_length / doc_stride / max_query_length: feature windows in tokens (doc_stride = the
    overlap of consecutive windows, Hugging Face's convention); n_best / max_answer_length:
    span post-processing.
    """

    encoder: str = "bert-base-uncased"
    num_hidden_layers: int | None = Field(None, ge=1)
    encoder_overrides: dict[str, Any] = Field(default_factory=dict)
    max_seq_length: int = Field(384, ge=16)
    doc_stride: int = Field(128, ge=0)
    max_query_length: int = Field(64, ge=1)
    n_best: int = Field(20, ge=1)
    max_answer_length: int = Field(30, ge=1)
    eval_batch_size: int = Field(64, ge=1)
    train: TrainConfig = _LINKBERT_TRAIN

    @model_validator(mode="after")
    def _windows_fit(self) -> Self:
        # [CLS] question [SEP] context [SEP]: at least one context token beyond the overlap.
        room = self.max_seq_length - self.max_query_length - 3
        if self.doc_stride >= room:
            raise ValueError(f"doc_stride {self.doc_stride} must be below max_seq_length - max_query_length - 3 "
                             f"= {room}")
        return self


class TextKgParams(StrictModel):
    """``text_kg``: one sub-section per task family."""

    hotpotqa: HotpotQAParams = HotpotQAParams()
    kgt5: KGT5Params = KGT5Params()
    kgqa: KGQAParams = KGQAParams()
