"""Params of the KGT5 stages (``text_kg.kgt5``) and the KGQA stages (``text_kg.kgqa``).

Defaults are KGT5's full-size recipe (T5-small from scratch, 32k BPE with byte fallback,
Adafactor, 500 samples per query); params.yaml writes the sample profile's values and lists the
full profile's in each section's ``full:`` block (`kg_ml.qa.profiles`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kg_ml.config_base import StrictModel
from kg_ml.qa.profiles import Profiled
from kg_ml.training.config import TrainConfig

SPLITS = ("train", "valid", "test")  # the prepared KG's triple tables (`kg_ml.kgt5.kg`)


class TokenizerParams(StrictModel):
    """tokenizer: trained on the verbalised training triples (inputs and targets).

    kind: "bpe" (KGT5's SentencePiece BPE) or "unigram"; both with byte fallback, so no string is
    ever unknown. split_by_whitespace: pieces never span a space (SentencePiece's default, KGT5);
    false lets whole multi-word names become single tokens. max_pairs: verbalised pairs sampled
    (seeded) for training; null = all.
    """

    kind: Literal["bpe", "unigram"] = "bpe"
    split_by_whitespace: bool = True
    vocab_size: int = Field(32000, ge=300)
    min_frequency: int = Field(2, ge=1)
    max_pairs: int | None = Field(2_000_000, ge=1)
    seed: int = 0


class T5Size(StrictModel):
    """The T5 architecture trained from scratch (defaults: T5-small, ~60M parameters at 32k vocab)."""

    d_model: int = Field(512, ge=8)
    d_ff: int = Field(2048, ge=8)
    d_kv: int = Field(64, ge=4)
    num_heads: int = Field(8, ge=1)
    num_layers: int = Field(6, ge=1)
    num_decoder_layers: int = Field(6, ge=1)
    dropout_rate: float = Field(0.1, ge=0, lt=1)
    relative_attention_num_buckets: int = Field(32, ge=2)
    relative_attention_max_distance: int = Field(128, ge=2)


class GenerationParams(StrictModel):
    """evaluate@kgt5: KGT5's sampling evaluation.

    num_samples strings are sampled per query at ``temperature`` (plus the greedy string), scored
    by their summed log-probability under the model (temperature 1), filtered to entity names and
    ranked. batch_size: queries per generation batch. max_triples: evaluate a seeded sample of this
    many of the split's triples (both directions; null: all of them, as KGT5), for quick runs.
    """

    num_samples: int = Field(500, ge=1)
    temperature: float = Field(1.0, gt=0)
    top_k: int | None = Field(None, ge=1)
    batch_size: int = Field(64, ge=1)
    max_new_tokens: int = Field(32, ge=1)
    seed: int = 0
    max_triples: int | None = Field(None, ge=1)


class KGT5Params(Profiled):
    """tokenizer, train@kgt5 and evaluate@kgt5.

    max_input_length / max_target_length: token limits of the verbalised queries / answers;
    context_neighbours: KGT5-context, up to this many training-graph edges of the query entity
    follow the query (0: plain KGT5); saved in the model's config, so evaluate@kgt5 and the KGQA
    stages build their inputs the same way; eval_queries: validation queries (seeded sample, both
    directions) whose greedy hits@1 selects the checkpoint during training.
    """

    tokenizer: TokenizerParams = TokenizerParams()
    model: T5Size = T5Size()
    max_input_length: int = Field(64, ge=4)
    max_target_length: int = Field(32, ge=2)
    context_neighbours: int = Field(0, ge=0)
    eval_queries: int = Field(1000, ge=1)
    train: TrainConfig = TrainConfig(optimizer="adafactor", lr=1e-3, batch_size=64, epochs=10, weight_decay=0.0,
                                     warmup_ratio=0.01, metric_for_best="hits@1")
    evaluate: GenerationParams = GenerationParams()


class KGQAParams(Profiled):
    """finetune@kgqa / evaluate@kgqa: KGT5 finetuned from the KG-completion checkpoint on
    ``predict answer: <question>`` -> answer entity (one example per answer).

    max_input_length / max_target_length: token limits; eval_batch_size: greedy decoding batch.
    """

    max_input_length: int = Field(64, ge=4)
    max_target_length: int = Field(32, ge=2)
    eval_batch_size: int = Field(64, ge=1)
    train: TrainConfig = TrainConfig(optimizer="adafactor", lr=1e-3, batch_size=64, epochs=10, weight_decay=0.0,
                                     metric_for_best="hits@1")
