"""The ``joint:`` section of params.yaml: joint multitask finetuning (finetune_joint).

    joint.tasks          which heads train together (medqa, hotpotqa, kgqa)
    joint.init           pretrained (models/pretrain, as finetune_medqa@kg) | encoder (kg_lm.model fresh)
    joint.use_kg         MedQA statements read their subgraphs (GNN + fusion); HotpotQA and KGQA are text only
    joint.adapters       VLM mode: residual adapters + task embeddings, backbone frozen
    joint.mixing         kg_ml.multitask.MixingConfig: strategy, per-task micro-batch sizes and loss weights
    joint.hotpotqa       span windows (must fit the encoder's positions) and n-best post-processing
    joint.kgqa           entity classification: candidates (topic neighbours | all entities)
    joint.train          kg_ml.training.TrainConfig; one step = one task's micro-batch (batch_size unused)
    joint.full           the full profile's replacements (deep-merged)

The architecture is ``kg_lm.model`` (shared with pretrain and finetune_medqa).
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from kg_ml.config_base import StrictModel
from kg_ml.multitask.adapter_config import AdapterConfig
from kg_ml.multitask.mixing import MixingConfig
from kg_ml.qa.profiles import Profiled
from kg_ml.training import TrainConfig

TASKS = ("medqa", "hotpotqa", "kgqa")
Task = Literal["medqa", "hotpotqa", "kgqa"]


class AdapterParams(AdapterConfig):
    """enabled: adapters after every encoder layer + task embeddings, the encoder frozen; train_kg:
    also train the KG side (node encoder, GNN, fusion, graph pooling; false: frozen too, only
    adapters and heads train); bottleneck / default_bottleneck: adapter width per task."""

    enabled: bool = False
    train_kg: bool = False


class SpanParams(StrictModel):
    """HotpotQA windows (kg_ml.qa.features) and n-best span post-processing (kg_ml.qa.postprocess)."""

    max_seq_length: int = Field(128, ge=16)
    doc_stride: int = Field(32, ge=0)
    max_query_length: int = Field(32, ge=1)
    n_best: int = Field(20, ge=1)
    max_answer_length: int = Field(30, ge=1)

    @model_validator(mode="after")
    def _windows_fit(self) -> Self:
        room = self.max_seq_length - self.max_query_length - 3  # [CLS] q [SEP] context [SEP]
        if self.doc_stride >= room:
            raise ValueError(f"doc_stride {self.doc_stride} must be below max_seq_length - max_query_length - 3 = {room}")
        return self


class EntityParams(StrictModel):
    """KGQA as entity classification.

    candidates: "neighbours" scores the entities linked to the question's topic entity in the KG
    (all triple splits; each candidate carries the relation that links it), "all" scores every
    entity. max_length: question tokens; name_tokens: tokens of an entity name that form its
    representation (mean of the encoder's input embeddings).
    """

    candidates: Literal["neighbours", "all"] = "neighbours"
    max_length: int = Field(32, ge=8)
    name_tokens: int = Field(8, ge=1)


class JointParams(Profiled):
    """Use ``for_profile(profile)``: the ``full:`` block replaces values in the full profile."""

    tasks: list[Task] = Field(default_factory=lambda: list(TASKS), min_length=1)
    init: Literal["pretrained", "encoder"] = "pretrained"
    use_kg: bool = True
    adapters: AdapterParams = AdapterParams()
    mixing: MixingConfig = MixingConfig()
    hotpotqa: SpanParams = SpanParams()
    kgqa: EntityParams = EntityParams()
    eval_batch_size: int = Field(64, ge=1)
    train: TrainConfig = TrainConfig(metric_for_best="score")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(set(self.tasks)) != len(self.tasks):
            raise ValueError(f"tasks repeat: {self.tasks}")
        if "batch_size" in self.train.model_fields_set and self.train.batch_size != 1:
            raise ValueError("train.batch_size: set the per-task micro-batch sizes in mixing.batch_size")
        if self.train.freeze_lm_epochs:
            raise ValueError("train.freeze_lm_epochs: not supported by joint training (the run is one pass "
                             "over a mixed schedule); use adapters.enabled to train with a frozen backbone")
        for section in ("batch_size", "loss_weight"):
            if unknown := sorted(set(getattr(self.mixing, section)) - set(TASKS)):
                raise ValueError(f"mixing.{section}: unknown task(s) {unknown}; known: {list(TASKS)}")
        if unknown := sorted(set(self.adapters.bottleneck) - set(TASKS)):
            raise ValueError(f"adapters.bottleneck: unknown task(s) {unknown}; known: {list(TASKS)}")
        return self
