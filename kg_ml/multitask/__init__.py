"""Joint multitask finetuning: per-step task mixing (`mixing`), VLM-style residual adapters with
learned task embeddings over a frozen encoder and the merge of single-task adapters (`adapters`),
and the finetune_joint stage's work: one KG-LM encoder with MedQA / HotpotQA / KGQA heads
(`model`, `kgqa`), the mixed schedule through the shared loop (`steps`), per-task evaluation
(`evaluate`), the run and its metrics (`run`), the ``joint:`` params (`config`).
"""

from importlib import import_module

# Exports load on first use (PEP 562): the params models import `kg_ml.multitask.config`, which
# must not pull in torch, transformers and PyG for every stage.
_EXPORTS = {
    **dict.fromkeys(["ResidualAdapter", "TaskAdapters", "adapter_state", "add_adapters",
                     "backbone_fingerprint", "freeze_backbone", "merge_adapters", "set_task",
                     "trainable_share"], "adapters"),
    **dict.fromkeys(["MixingConfig", "TaskMixer", "mixing_weights"], "mixing"),
    "AdapterConfig": "adapter_config",
}

__all__ = ["AdapterConfig", "MixingConfig", "ResidualAdapter", "TaskAdapters", "TaskMixer", "adapter_state",
           "add_adapters", "backbone_fingerprint", "freeze_backbone", "merge_adapters", "mixing_weights",
           "set_task", "trainable_share"]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'kg_ml.multitask' has no attribute {name!r}")
    return getattr(import_module(f"kg_ml.multitask.{_EXPORTS[name]}"), name)
