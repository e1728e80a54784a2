"""`train`: the one training loop of every training stage."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, closing, contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from kg_ml.errors import ConfigError
from kg_ml.training import checkpoint as ckpt_io
from kg_ml.training.config import TrainConfig, TrainResult
from kg_ml.training.data import EpochPlan, count_tokens, make_loader, to_device
from kg_ml.training.distributed import (
    all_reduce_sum,
    barrier,
    broadcast_flag,
    process_group,
    rank,
    resolve_device,
    world_size,
)
from kg_ml.training.optim import LM, OTHER, build_optimizer, linear_schedule, lm_parameter_names, warmup_steps
from kg_ml.training.rng import derive_seed, get_rng_state, seed_all, set_rng_state
from kg_ml.training.step import LossFn, Metrics, autocast_for, compiled, micro_step, update
from kg_ml.training.tracking import Tracker, format_metrics

log = logging.getLogger("kg_ml.training")


@dataclass
class _Progress:
    """Where the run stands; stored in checkpoints as a plain dict."""

    epoch: int = 0
    step_in_epoch: int = 0
    global_step: int = 0
    best_value: float | None = None
    best_step: int = 0
    best_metrics: dict[str, float] = field(default_factory=dict)
    bad_evals: int = 0


def train(model: nn.Module, train_dataset: Any, *, collate_fn: Callable[[list], Any], loss_fn: LossFn,
          config: TrainConfig, out_dir: str | Path,
          eval_fn: Callable[[nn.Module], Mapping[str, float]] | None = None,
          checkpoint_dir: str | Path | None = None, log_dir: str | Path | None = None,
          is_lm_param: Callable[[str], bool] | None = None,
          save_extra: Callable[[Path], None] | None = None,
          resume_key: str | None = None) -> TrainResult:
    """Train ``model`` on ``train_dataset`` (map-style) and write the best model to ``out_dir``.

    ``loss_fn(model, batch)`` gets the batch on the device and the model to call (DDP-wrapped under
    torchrun: call its forward) and returns (mean loss of the micro-batch, extra metrics to log;
    0-dim tensors there avoid a host sync). ``eval_fn(model)`` runs on rank 0 in eval mode under
    no_grad and autocast and returns metrics including ``config.metric_for_best``; without it the
    final model is the result. ``is_lm_param(name)`` selects the parameters trained at ``lm_lr`` and
    frozen for ``freeze_lm_epochs`` (default: none). ``checkpoint_dir`` enables resuming (declare it
    ``persist: true``); ``log_dir`` receives DVCLive step metrics; ``save_extra(tmp_out_dir)`` adds
    files (a tokenizer) to ``out_dir`` before it is moved into place; ``resume_key`` (e.g. a hash of
    the inputs) must also match for a checkpoint to be resumed. The model ends on the device with
    the best weights (rank 0) and ``TrainResult.best_metrics`` is filled on rank 0.
    """
    device = resolve_device(config.device)
    checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
    with ExitStack() as stack:
        stack.enter_context(process_group())
        stack.enter_context(_deterministic_on_cpu(device))
        stack.enter_context(logging_redirect_tqdm())
        main, world, my_rank = rank() == 0, world_size(), rank()

        seed_all(derive_seed(config.seed, "init", my_rank))
        model.to(device).train()
        lm_names = lm_parameter_names(model, is_lm_param)
        if config.freeze_lm_epochs and not lm_names:
            raise ConfigError(f"train.freeze_lm_epochs: {config.freeze_lm_epochs} epochs requested, but "
                              "is_lm_param selects no trainable parameter")
        plan = EpochPlan(len(train_dataset), config.batch_size, config.grad_accum, world, my_rank,
                         config.seed)
        total = config.max_steps or config.epochs * plan.steps_per_epoch
        optimizer = build_optimizer(model, config, lm_names, device)
        scheduler = linear_schedule(optimizer, total, warmup_steps(config, total))
        key = ckpt_io.fingerprint(config, model, len(train_dataset), world, resume_key)
        progress = _resume_or_start(checkpoint_dir, key, model, optimizer, scheduler)
        log.info("training %d steps from step %d (%d per epoch, global batch %d, %d process(es), %s)",
                 total, progress.global_step, plan.steps_per_epoch, plan.global_batch, world, device)

        loader = make_loader(train_dataset, plan, collate_fn, num_workers=config.num_workers,
                             pin_memory=device.type == "cuda")
        tracker = stack.enter_context(closing(Tracker(
            None if log_dir is None else Path(log_dir), enabled=main, resume_step=progress.global_step)))
        bar = stack.enter_context(tqdm(total=total, initial=progress.global_step, desc="train", unit="step",
                                       disable=None if main else True, dynamic_ncols=True))
        autocast = autocast_for(config.precision, device)
        compile_forward = config.compile and device.type == "cuda"
        if config.compile and not compile_forward:
            log.info("train.compile: the forward runs eager on %s (torch.compile is for CUDA runs)", device)
        best = _BestWeights(checkpoint_dir)
        window = _Window(device, config.batch_size * world)
        ddp: nn.Module = model
        forward: nn.Module = model  # what loss_fn calls: ddp, compiled when config.compile
        frozen: bool | None = None
        batches: Iterator | None = None
        stop = False
        train_loss = None

        while progress.global_step < total and not stop:
            if batches is None:  # start (or resume) an epoch
                if (epoch_frozen := progress.epoch < config.freeze_lm_epochs) != frozen:
                    frozen = epoch_frozen
                    _set_trainable(model, lm_names, not frozen)
                    ddp = _wrap_ddp(model, ddp, device, config)
                    forward = compiled(ddp, compile_forward)
                    if lm_names:
                        log.info("LM parameters %s", "frozen" if frozen else "trainable")
                plan.set_epoch(progress.epoch, progress.step_in_epoch)
                batches = iter(loader)

            for micro in range(config.grad_accum):
                batch = to_device(next(batches), device)
                # Per-step seeds: dropout does not depend on where a run was resumed or on rank layout.
                seed_all(derive_seed(config.seed, "step", my_rank, progress.global_step, micro))
                accumulate = world > 1 and micro < config.grad_accum - 1
                with ddp.no_sync() if accumulate else nullcontext():
                    loss, extra = micro_step(forward, batch, loss_fn, autocast, config.grad_accum)
                window.add(loss, extra, count_tokens(batch))
            step_lrs = _learning_rates(optimizer)  # the rates this update uses, before the schedule moves
            grad_norm = update(model, optimizer, scheduler, config.max_grad_norm)

            progress.global_step += 1
            progress.step_in_epoch += 1
            if end_of_epoch := progress.step_in_epoch == plan.steps_per_epoch:
                progress.epoch, progress.step_in_epoch, batches = progress.epoch + 1, 0, None
            step = progress.global_step
            last = step == total
            bar.update()

            if step % config.log_every == 0 or last:
                metrics = window.read(grad_norm) | step_lrs
                train_loss = metrics["train/loss"]
                tracker.log(step, metrics)
                bar.set_postfix(loss=f"{train_loss:.4g}")
                log.info("step %d/%d | %s", step, total, format_metrics(metrics))

            eval_due = step % config.eval_every == 0 if config.eval_every else end_of_epoch
            if eval_fn is not None and (eval_due or last):
                with window.paused():
                    stop = _evaluate(model, eval_fn, autocast, config, progress, best, tracker, device)

            save_due = end_of_epoch or (config.checkpoint_every and step % config.checkpoint_every == 0)
            if checkpoint_dir is not None and save_due and not (last or stop):
                with window.paused():
                    if main:
                        ckpt_io.save(checkpoint_dir / ckpt_io.LAST, {
                            "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                            "scheduler": scheduler.state_dict(), "progress": asdict(progress),
                            "data": {"epoch_seed": plan.epoch_seed(progress.epoch)},
                            "rng": get_rng_state(), "fingerprint": key})
                    barrier()

        bar.close()
        _set_trainable(model, lm_names, True)  # hand the model back as it came
        if stop:
            log.info("early stopping at step %d: %s did not improve in %d evaluations",
                     progress.global_step, config.metric_for_best, config.early_stopping_patience)
        if main:
            if eval_fn is not None:
                best.restore(model)
                log.info("best %s %.4g at step %d", config.metric_for_best, progress.best_value,
                         progress.best_step)
            ckpt_io.save_model_dir(model, Path(out_dir), save_extra)
            if checkpoint_dir is not None:
                ckpt_io.mark_complete(checkpoint_dir, {"global_step": progress.global_step,
                                                       "best_step": progress.best_step})
        barrier()
        return TrainResult(
            best_metrics=dict(progress.best_metrics),
            best_step=progress.best_step if eval_fn is not None else progress.global_step,
            global_step=progress.global_step,
            epochs_run=progress.epoch + (progress.step_in_epoch > 0),
            train_loss=train_loss,
            stopped_early=stop,
        )


def _resume_or_start(checkpoint_dir: Path | None, key: str, model: nn.Module,
                     optimizer: torch.optim.Optimizer, scheduler: Any) -> _Progress:
    """Load the checkpoint of an interrupted run with these settings, else clear the directory."""
    resumed = ckpt_io.load_resumable(checkpoint_dir, key)
    if resumed is not None:
        model.load_state_dict(resumed["model"])
        optimizer.load_state_dict(resumed["optimizer"])
        scheduler.load_state_dict(resumed["scheduler"])
        set_rng_state(resumed["rng"])
        progress = _Progress(**resumed["progress"])
        log.info("resuming from %s at epoch %d, step %d", checkpoint_dir / ckpt_io.LAST,
                 progress.epoch, progress.global_step)
    else:
        progress = _Progress()
        if checkpoint_dir is not None and rank() == 0:
            ckpt_io.start_fresh(checkpoint_dir)
    barrier()  # every rank has read the checkpoint before rank 0 may replace it
    return progress


def _evaluate(model: nn.Module, eval_fn: Callable, autocast: Callable, config: TrainConfig,
              progress: _Progress, best: _BestWeights, tracker: Tracker, device: torch.device) -> bool:
    """Evaluate on rank 0, keep the best weights, and return the early-stopping decision on every rank."""
    stop = False
    if rank() == 0:
        model.eval()
        with torch.no_grad(), autocast():
            metrics = {k: float(v) for k, v in eval_fn(model).items()}
        model.train()
        if config.metric_for_best not in metrics:
            raise ConfigError(f"train.metric_for_best: {config.metric_for_best!r} is not among the "
                              f"evaluation metrics {sorted(metrics)}")
        value = metrics[config.metric_for_best]
        if progress.best_value is None or (value > progress.best_value if config.greater_is_better
                                           else value < progress.best_value):
            progress.best_value, progress.best_step = value, progress.global_step
            progress.best_metrics, progress.bad_evals = metrics, 0
            best.keep(model)
        else:
            progress.bad_evals += 1
        stop = (config.early_stopping_patience is not None
                and progress.bad_evals >= config.early_stopping_patience)
        tracker.log(progress.global_step, {f"eval/{k}": v for k, v in metrics.items()})
        log.info("eval at step %d | %s", progress.global_step, format_metrics(metrics))
    return broadcast_flag(stop, device)


class _BestWeights:
    """Where the best weights wait: ``best.pt`` in the checkpoint dir (survives a kill), else host memory."""

    def __init__(self, checkpoint_dir: Path | None) -> None:
        self.path = checkpoint_dir / ckpt_io.BEST if checkpoint_dir is not None else None
        self.state: dict[str, torch.Tensor] | None = None

    def keep(self, model: nn.Module) -> None:
        if self.path is not None:
            ckpt_io.save(self.path, model.state_dict())
        else:
            self.state = ckpt_io.cpu_state(model)

    def restore(self, model: nn.Module) -> None:
        state = ckpt_io.load(self.path) if self.path is not None and self.path.exists() else self.state
        if state is not None:
            model.load_state_dict(state)


class _Window:
    """Training signals summed since the last log line; kept on the device until read (one sync)."""

    def __init__(self, device: torch.device, samples_per_micro: int) -> None:
        self.device, self.samples_per_micro = device, samples_per_micro
        self._reset()

    def _reset(self) -> None:
        self.loss = torch.zeros((), device=self.device)
        self.tokens = torch.zeros((), device=self.device)
        self.has_tokens = False
        self.extra: dict[str, torch.Tensor | float] = {}
        self.micro = 0
        self.start = time.perf_counter()

    def add(self, loss: torch.Tensor, extra: Metrics, tokens: torch.Tensor | None) -> None:
        self.loss += loss.detach().float()
        if tokens is not None:
            self.tokens += tokens.to(self.device).float()
            self.has_tokens = True
        for k, v in extra.items():
            v = v.detach().float() if isinstance(v, torch.Tensor) else float(v)
            self.extra[k] = self.extra.get(k, 0.0) + v
        self.micro += 1

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Leave evaluation and checkpoint time out of the throughput."""
        t0 = time.perf_counter()
        yield
        self.start += time.perf_counter() - t0

    def read(self, grad_norm: torch.Tensor | None) -> dict[str, float]:
        names = sorted(self.extra)
        parts = [self.loss, self.tokens, *(torch.as_tensor(self.extra[k], dtype=torch.float32,
                                                          device=self.device) for k in names)]
        totals = all_reduce_sum(torch.stack(parts)).tolist()
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        n = self.micro * world_size()
        out = {"train/loss": totals[0] / n, **{f"train/{k}": v / n for k, v in zip(names, totals[2:])},
               "train/samples_per_s": self.micro * self.samples_per_micro / elapsed}
        if self.has_tokens:
            out["train/tokens_per_s"] = totals[1] / elapsed
        if grad_norm is not None:
            out["train/grad_norm"] = float(grad_norm)
        self._reset()
        return out


def _set_trainable(model: nn.Module, names: set[str], trainable: bool) -> None:
    for name, p in model.named_parameters():
        if name in names:
            p.requires_grad_(trainable)


def _learning_rates(optimizer: torch.optim.Optimizer) -> dict[str, float]:
    names = {OTHER: "train/lr", LM: "train/lm_lr"}
    out: dict[str, float] = {}
    for group in optimizer.param_groups:
        out.setdefault(names[group["name"]], group["lr"])
    return out


def _wrap_ddp(model: nn.Module, previous: nn.Module, device: torch.device, config: TrainConfig) -> nn.Module:
    """Wrap for DDP; rewrapped when the trainable set changes, since DDP fixes it at construction."""
    if world_size() == 1:
        return model
    if isinstance(previous, DistributedDataParallel):
        previous._remove_autograd_hooks()  # else the old reducer would still fire on every backward
    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None,
                                   find_unused_parameters=config.ddp_find_unused_parameters)


@contextmanager
def _deterministic_on_cpu(device: torch.device) -> Iterator[None]:
    """Deterministic kernels on CPU, where identical weights are promised; restored afterwards."""
    if device.type != "cpu":
        yield
        return
    enabled, warn_only = (torch.are_deterministic_algorithms_enabled(),
                          torch.is_deterministic_algorithms_warn_only_enabled())
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
