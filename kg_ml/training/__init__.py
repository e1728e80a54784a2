"""The one training loop of kg-ml, shared by every training stage.

    from kg_ml.training import TrainConfig, TrainResult, train, train_config

    config = train_config(params_section, where="finetune.medqa.train")  # one-line ConfigError on typos
    result = train(model, dataset, collate_fn=collate, loss_fn=loss, config=config,
                   out_dir="models/finetune_medqa", eval_fn=evaluate,
                   checkpoint_dir="checkpoints/finetune_medqa", log_dir="plots/finetune_medqa",
                   is_lm_param=lambda name: name.startswith("encoder."))

What it does: device auto (CUDA when present), bf16 autocast on GPU, gradient accumulation,
separate LM / non-LM learning rates (no decay on biases and norm weights), LM frozen for the
first ``freeze_lm_epochs``, linear warmup then linear decay, gradient clipping, evaluation every
``eval_every`` steps with best-checkpoint selection and early stopping, resumable checkpoints,
DVCLive step metrics from rank 0, DDP under ``torchrun`` (NCCL on GPU, gloo on CPU). The fields
of `TrainConfig` are documented in `kg_ml.training.config`.

Declaring a training stage in dvc.yaml:
- ``out_dir`` is an ordinary output: the best model, ``save_pretrained`` format (safetensors).
- ``checkpoint_dir`` must be ``persist: true`` (and ``cache: false``): DVC then keeps it when a
  killed stage reruns, and the loop resumes where the last checkpoint left it; a resumed run ends
  with the same weights as an uninterrupted one on CPU. A checkpoint made with other settings (or
  another ``resume_key``) is ignored; a completed run leaves only ``complete.json`` there.
- ``log_dir`` is a ``plots`` output (DVCLive ``plots/metrics/{train,eval}/*.tsv`` keyed by
  optimizer step, no timestamps); make it ``persist: true`` too to keep the rows before a resume.

Under ``torchrun --nproc_per_node N stages/<stage>.py`` every rank calls `train` with the same
arguments; rank 0 alone evaluates and writes ``out_dir``, checkpoints and logs. Ranks share one
filesystem (a single node). Reproducibility: data order, per-item / per-batch / per-step random
streams all derive from ``seed`` and the position in the run, never from history. The loop leaves
the number of torch threads to the caller.

`kg_ml.training.throughput` times the same step for benchmarks (tokens/s, samples/s, peak
memory, MFU).
"""

from importlib import import_module

# Exports load on first use (PEP 562): every stage validates params.yaml through the config
# models, which import `kg_ml.training.config`, and must not pay for torch to do so.
_EXPORTS = {"TrainConfig": "config", "TrainResult": "config", "train_config": "config",
            "is_main_process": "distributed", "load_weights": "checkpoint", "train": "loop"}

__all__ = ["TrainConfig", "TrainResult", "is_main_process", "load_weights", "train", "train_config"]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'kg_ml.training' has no attribute {name!r}")
    return getattr(import_module(f"kg_ml.training.{_EXPORTS[name]}"), name)
