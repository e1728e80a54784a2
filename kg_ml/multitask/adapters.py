"""VLM-style parameter-efficient multitask training: a residual adapter
``x + Up(ReLU(Down(LayerNorm(x))))`` after every encoder layer and a learned task embedding added
to the first layer's input, one set per task, over a frozen backbone. Adapters of single-task runs
that share a backbone merge into one model."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

import torch
from torch import nn

from kg_ml.errors import ConfigError
from kg_ml.models.kg_lm import encoder_layers
from kg_ml.multitask.adapter_config import AdapterConfig

PREFIX = "task_adapters."  # state-dict prefix of everything `add_adapters` adds


class ResidualAdapter(nn.Module):
    """``x + Up(ReLU(Down(LayerNorm(x))))``; Up starts at zero, so a new adapter is the identity."""

    def __init__(self, hidden: int, bottleneck: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        self.down = nn.Linear(hidden, bottleneck)
        self.up = nn.Linear(bottleneck, hidden)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.up(torch.relu(self.down(self.norm(x))))


class TaskAdapters(nn.Module):
    """Per task: one adapter per layer and a task embedding; ``active`` picks the task in use."""

    def __init__(self, tasks: Iterable[str], hidden: int, num_layers: int, config: AdapterConfig) -> None:
        super().__init__()
        tasks = sorted(tasks)
        self.adapters = nn.ModuleDict({t: nn.ModuleList(ResidualAdapter(hidden, config.size(t))
                                                        for _ in range(num_layers)) for t in tasks})
        self.task_embedding = nn.ParameterDict({t: nn.Parameter(torch.zeros(hidden)) for t in tasks})
        self.active: str | None = None

    def require_active(self) -> str:
        if self.active is None:
            raise RuntimeError("no active task: call set_task(model, task) before the forward pass")
        return self.active


class _AdaptedLayer(nn.Module):
    """An encoder layer followed by the active task's adapter (the first also adds the task embedding)."""

    def __init__(self, layer: nn.Module, index: int, adapters: TaskAdapters) -> None:
        super().__init__()
        self.layer = layer
        self.index = index
        # A plain attribute inside a list: the adapters are registered once, on the model, not per layer.
        self._adapters = [adapters]

    def forward(self, hidden_states: torch.Tensor, *args, **kwargs):
        bank = self._adapters[0]
        task = bank.require_active()
        if self.index == 0:
            hidden_states = hidden_states + bank.task_embedding[task]
        out = self.layer(hidden_states, *args, **kwargs)
        adapter = bank.adapters[task][self.index]
        if isinstance(out, torch.Tensor):
            return adapter(out)
        return (adapter(out[0]), *out[1:])


def add_adapters(model: nn.Module, encoder: nn.Module, tasks: Iterable[str], config: AdapterConfig) -> TaskAdapters:
    """Insert adapters after every layer of ``encoder`` (a submodule of ``model``, or the model) and
    register them on ``model`` as ``task_adapters``."""
    try:
        layers = encoder_layers(encoder)
    except ValueError as e:
        raise ConfigError(f"adapters: {e}") from None
    hidden = encoder.config.hidden_size
    bank = TaskAdapters(tasks, hidden, len(layers), config)
    for i in range(len(layers)):
        layers[i] = _AdaptedLayer(layers[i], i, bank)
    model.task_adapters = bank
    return bank


def set_task(model: nn.Module, task: str) -> None:
    bank: TaskAdapters = model.task_adapters
    if task not in bank.adapters:
        raise ConfigError(f"no adapters for task {task!r}; the model has {sorted(bank.adapters)}")
    bank.active = task


def freeze_backbone(model: nn.Module, trainable_prefixes: Iterable[str] = ()) -> None:
    """Train only the adapters, task embeddings and parameters under ``trainable_prefixes`` (heads)."""
    keep = (PREFIX, *trainable_prefixes)
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith(keep))


def trainable_share(model: nn.Module) -> float:
    total = sum(p.numel() for p in model.parameters())
    return sum(p.numel() for p in model.parameters() if p.requires_grad) / total


def backbone_fingerprint(model: nn.Module) -> str:
    """SHA-256 of every tensor outside the adapters: merging needs the same frozen backbone."""
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        if not name.startswith(PREFIX):
            h.update(name.encode())
            h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def adapter_state(model: nn.Module, task: str) -> dict[str, torch.Tensor]:
    """The adapter weights and task embedding of ``task`` (what a single-task run contributes)."""
    keys = (f"{PREFIX}adapters.{task}.", f"{PREFIX}task_embedding.{task}")
    return {k: v.detach().clone() for k, v in model.state_dict().items() if k.startswith(keys)}


def merge_adapters(model: nn.Module, states: Mapping[str, Mapping[str, torch.Tensor]],
                   backbones: Mapping[str, str] | None = None) -> None:
    """Load each task's ``adapter_state`` (from single-task runs) into ``model``, which has adapters
    for all of them; every task's tensors must be complete and match the model's shapes, and where
    ``backbones`` (task -> `backbone_fingerprint` of its run) is given, the backbones must agree."""
    own = model.state_dict()
    if backbones:
        mine = backbone_fingerprint(model)
        for task, fp in sorted(backbones.items()):
            if fp != mine:
                raise ConfigError(f"merge: task {task!r} was trained on another backbone (fingerprint {fp[:12]} != {mine[:12]})")
    for task, state in sorted(states.items()):
        wanted = {k for k in own if k.startswith((f"{PREFIX}adapters.{task}.", f"{PREFIX}task_embedding.{task}"))}
        if not wanted:
            raise ConfigError(f"merge: the model has no adapters for task {task!r}")
        if missing := sorted(wanted - set(state)):
            raise ConfigError(f"merge: adapters of task {task!r} lack {missing[0]}")
        if extra := sorted(set(state) - wanted):
            raise ConfigError(f"merge: adapters of task {task!r} hold a foreign tensor {extra[0]}")
        for k in sorted(wanted):
            if state[k].shape != own[k].shape:
                raise ConfigError(f"merge: {k} has shape {tuple(state[k].shape)}, the model {tuple(own[k].shape)}")
        model.load_state_dict({k: state[k] for k in wanted}, strict=False)
