"""Joint multitask finetuning: per-step task mixing (`mixing`), VLM-style residual adapters with
learned task embeddings over a frozen encoder and the merge of single-task adapters (`adapters`),
and the finetune_joint stage's work: one KG-LM encoder with MedQA / HotpotQA / KGQA heads
(`model`, `kgqa`), the mixed schedule through the shared loop (`steps`), per-task evaluation
(`evaluate`), the run and its metrics (`run`), the ``joint:`` params (`config`).
"""

from kg_ml.multitask.adapters import (
    AdapterConfig,
    ResidualAdapter,
    TaskAdapters,
    adapter_state,
    add_adapters,
    backbone_fingerprint,
    freeze_backbone,
    merge_adapters,
    set_task,
    trainable_share,
)
from kg_ml.multitask.mixing import MixingConfig, TaskMixer, mixing_weights

__all__ = [
    "AdapterConfig",
    "MixingConfig",
    "ResidualAdapter",
    "TaskAdapters",
    "TaskMixer",
    "adapter_state",
    "add_adapters",
    "backbone_fingerprint",
    "freeze_backbone",
    "merge_adapters",
    "mixing_weights",
    "set_task",
    "trainable_share",
]
