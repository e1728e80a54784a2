"""Training settings (`TrainConfig`) and the outcome of a run (`TrainResult`).

Every field of `TrainConfig`, as it appears in a `train:` section of params.yaml:

- ``epochs`` (1): passes over the training set; ignored when ``max_steps`` is set.
- ``max_steps`` (None): total optimizer steps; None = ``epochs`` decide. With it set, epochs
  repeat (each with a fresh shuffle) until the step count is reached.
- ``batch_size`` (8): micro-batch per process. One optimizer step sees
  ``batch_size * grad_accum * world_size`` examples (the global batch); the last incomplete
  global batch of an epoch is dropped so every step averages equally sized micro-batches.
- ``grad_accum`` (1): micro-batches accumulated per optimizer step.
- ``lr`` (1e-4): peak learning rate of non-LM parameters (all parameters without ``is_lm_param``).
- ``lm_lr`` (None = ``lr``): peak learning rate of the parameters ``is_lm_param(name)`` selects.
- ``weight_decay`` (0.01): decoupled weight decay; never applied to biases and norm weights
  (every parameter with fewer than two dimensions).
- ``warmup_ratio`` (0.0): share of the total steps with a linear warmup; the rest decays linearly.
- ``max_grad_norm`` (1.0): clip the global gradient norm to this; None or 0 = no clipping.
- ``freeze_lm_epochs`` (0): LM parameters get no updates (no gradients, no optimizer state)
  during the first N epochs (DRAGON's ``unfreeze_epoch``).
- ``optimizer`` ("adamw"): "adamw", "radam" (decoupled weight decay, DRAGON's choice) or
  "adafactor" (transformers' Adafactor as KGT5 runs it: each parameter's step scaled by its RMS,
  so T5's unit-scale embeddings move as fast as its small-init matrices, but with an external
  learning rate, not a relative step, so the shared warmup/decay applies).
- ``betas`` ([0.9, 0.999]), ``eps`` (1e-8): Adam(W)/RAdam moments and epsilon.
- ``eval_every`` (0): evaluate every N optimizer steps; 0 = at the end of each epoch. The final
  step is always evaluated.
- ``early_stopping_patience`` (None = off): stop after this many evaluations without improvement.
- ``metric_for_best`` ("loss"): key of the ``eval_fn`` result that selects the best checkpoint.
- ``greater_is_better`` (None): None = False when ``metric_for_best`` ends in "loss", else True.
- ``seed`` (0): seeds initial RNG state, the data order (a fresh permutation per epoch from
  ``seed`` and the epoch) and per-step random streams.
- ``num_workers`` (0): DataLoader worker processes per rank.
- ``log_every`` (10): optimizer steps between log lines / DVCLive rows (the only host syncs).
- ``checkpoint_every`` (0): optimizer steps between resumable checkpoints; a checkpoint is also
  written at the end of every epoch. 0 = only at epoch ends.
- ``precision`` ("auto"): "auto" = bf16 autocast on CUDA (fp32 where bf16 is unsupported), fp32
  on CPU; "bf16" = bf16 autocast anywhere; "fp32" = no autocast.
- ``device`` ("auto"): "auto" = CUDA when present, else CPU; "cpu"; "cuda".
- ``ddp_find_unused_parameters`` (False): pass to DDP when some parameters get no gradient in a
  step (e.g. a head used only by another task).
- ``compile`` (False): on CUDA, run the training forward through ``torch.compile`` (worth it for
  long runs; compiling costs tens of seconds up front). Evaluation and saving use the plain model.
  A CPU run stays eager and says so: the full profile sets it, and on a CPU inductor compiles C++
  for minutes (the CPU rehearsal of the full profile).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from kg_ml.config_base import StrictModel
from kg_ml.errors import ConfigError


class TrainConfig(StrictModel):
    """Settings of one training run; see the module docstring for every field."""

    epochs: int = Field(1, ge=1)
    max_steps: int | None = Field(None, ge=1)
    batch_size: int = Field(8, ge=1)
    grad_accum: int = Field(1, ge=1)
    lr: float = Field(1e-4, ge=0)
    lm_lr: float | None = Field(None, ge=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.0, ge=0, le=1)
    max_grad_norm: float | None = Field(1.0, ge=0)
    freeze_lm_epochs: int = Field(0, ge=0)
    optimizer: Literal["adamw", "radam", "adafactor"] = "adamw"
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = Field(1e-8, gt=0)
    eval_every: int = Field(0, ge=0)
    early_stopping_patience: int | None = Field(None, ge=1)
    metric_for_best: str = "loss"
    greater_is_better: bool | None = None
    seed: int = Field(0, ge=0)
    num_workers: int = Field(0, ge=0)
    log_every: int = Field(10, ge=1)
    checkpoint_every: int = Field(0, ge=0)
    precision: Literal["auto", "bf16", "fp32"] = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    ddp_find_unused_parameters: bool = False
    compile: bool = False

    @model_validator(mode="after")
    def _infer_direction(self) -> TrainConfig:
        if self.greater_is_better is None:
            object.__setattr__(self, "greater_is_better", not self.metric_for_best.endswith("loss"))
        return self

    @property
    def lm_learning_rate(self) -> float:
        return self.lr if self.lm_lr is None else self.lm_lr


# Fields that change how a run is observed or executed, not its result: a checkpoint written
# with other values of these may still be resumed.
RESUME_INSENSITIVE = frozenset({"num_workers", "log_every", "checkpoint_every", "eval_every",
                                "early_stopping_patience"})


def train_config(section: Mapping[str, Any] | None, *, where: str = "train",
                 **overrides: Any) -> TrainConfig:
    """Validate a params.yaml section (plus CLI ``overrides`` that are not None) as a TrainConfig.

    Problems become a one-line ConfigError naming ``where.<field>``.
    """
    raw = dict(section or {})
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return TrainConfig.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join([where, *(str(p) for p in first["loc"])])
        value = first.get("input")
        got = f" (got {value!r})" if "input" in first and not isinstance(value, dict) else ""
        raise ConfigError(f"{loc}: {first['msg']}{got}") from None


@dataclass(frozen=True)
class TrainResult:
    """What a run ended with.

    best_metrics: the ``eval_fn`` result of the selected checkpoint (empty without ``eval_fn``);
    best_step: its optimizer step (the last step without ``eval_fn``); global_step: optimizer
    steps done; epochs_run: epochs entered (a partial last epoch counts); train_loss: mean
    training loss over the last logging window; stopped_early: early stopping ended the run.
    """

    best_metrics: dict[str, float] = field(default_factory=dict)
    best_step: int = 0
    global_step: int = 0
    epochs_run: int = 0
    train_loss: float | None = None
    stopped_early: bool = False
