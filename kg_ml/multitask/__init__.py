"""Joint multitask finetuning pieces: per-step task mixing (`mixing`) and VLM-style residual
adapters with learned task embeddings over a frozen encoder, plus merging single-task adapters
into one model (`adapters`).

The `finetune@joint` stage that wires these to the MedQA / HotpotQA / KGQA heads is not built
yet (see README, "Joint multitask finetuning"): this package is the tested library it will use.
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
