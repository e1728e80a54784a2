"""Build KG-LMs from ``kg_lm.model`` params: tokenizer, config, fresh models and checkpoints."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, TypeVar

import torch
from transformers import AutoConfig, AutoModelForTextEncoding, AutoTokenizer, PreTrainedTokenizerBase

from kg_ml.errors import ConfigError, InputError
from kg_ml.models.kg_lm import KGLMConfig, KGLMForMultipleChoice, KGLMPreTrainedModel
from kg_ml.models.params import ModelParams
from kg_ml.models.pretrained import resolve_pretrained

log = logging.getLogger(__name__)

M = TypeVar("M", bound=KGLMPreTrainedModel)


def load_tokenizer(params: ModelParams, *, offline: bool = True) -> PreTrainedTokenizerBase:
    ref = params.tokenizer or params.encoder
    tokenizer = AutoTokenizer.from_pretrained(resolve_pretrained(ref, offline=offline))
    if tokenizer.mask_token_id is None:  # T5's vocabulary has no [MASK]: use its first sentinel
        sentinel = "<extra_id_0>"
        if sentinel not in tokenizer.get_vocab():
            raise ConfigError(f"kg_lm.model.tokenizer: {ref} has neither a mask token nor {sentinel}")
        tokenizer.mask_token = sentinel
    return tokenizer


def encoder_config(params: ModelParams, tokenizer: PreTrainedTokenizerBase, *, offline: bool = True) -> dict:
    """The encoder's config dict: pretrained, or ``encoder_config`` sized to the tokenizer; plus overrides."""
    if params.encoder is None:
        cfg = AutoConfig.for_model(**{"vocab_size": len(tokenizer), **params.encoder_config,
                                      **params.encoder_overrides})
    else:
        cfg = AutoConfig.from_pretrained(resolve_pretrained(params.encoder, offline=offline),
                                         **params.encoder_overrides)
    if getattr(cfg, "vocab_size", len(tokenizer)) < len(tokenizer):
        raise ConfigError(f"kg_lm.model: the encoder's vocabulary ({cfg.vocab_size}) is smaller than the "
                          f"tokenizer's ({len(tokenizer)})")
    return cfg.to_dict()


def kg_lm_config(params: ModelParams, encoder: dict, *, use_kg: bool, node_feature_dim: int,
                 num_edge_types: int, lp_scorer: str = "distmult", lp_gamma: float = 12.0) -> KGLMConfig:
    return KGLMConfig(encoder=encoder, use_kg=use_kg, fusion_layers=params.fusion_layers,
                      gnn_dim=params.gnn_dim, gnn_heads=params.gnn_heads, gnn_dropout=params.gnn_dropout,
                      node_feature_dim=node_feature_dim, num_edge_types=num_edge_types,
                      head_hidden=params.head_hidden, head_dropout=params.head_dropout,
                      lp_scorer=lp_scorer, lp_gamma=lp_gamma)


def new_model(cls: type[M], params: ModelParams, config: KGLMConfig, *, offline: bool = True) -> M:
    """``cls(config)``; with a pretrained ``encoder``, its weights replace the random encoder's."""
    model = cls(config)
    if params.encoder is not None:
        path = resolve_pretrained(params.encoder, offline=offline)
        pretrained = AutoModelForTextEncoding.from_pretrained(path, config=config.encoder_config())
        missing, unexpected = model.kg_lm.encoder.load_state_dict(pretrained.state_dict(), strict=False)
        if missing:
            raise ConfigError(f"kg_lm.model.encoder: {params.encoder} lacks weights {missing[:3]}")
        log.info("encoder weights from %s (%d unused: %s)", params.encoder, len(unexpected), unexpected[:3])
    return model


def from_checkpoint(cls: type[M], model_dir: str | Path, config: KGLMConfig) -> M:
    """Load a saved KG-LM into ``cls`` with ``config``: heads the checkpoint lacks start fresh, weights
    ``cls`` lacks are dropped. The encoder must match; GNN weights of another shape (a checkpoint
    pretrained on another graph, e.g. ConceptNet's 38 edge types for the medical graph's 28) start
    fresh with a warning."""
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise InputError(model_dir, "no config.json: not a saved KG-LM (run pretrain first)")
    saved = KGLMConfig.from_pretrained(model_dir)
    have, want = _comparable(saved.encoder), _comparable(config.encoder)
    if have != want:
        diff = sorted(k for k in set(have) | set(want) if have.get(k) != want.get(k))[:3]
        raise InputError(model_dir / "config.json", f"checkpoint encoder has {({k: have.get(k) for k in diff})}, "
                         f"the params ask for {({k: want.get(k) for k in diff})} (rerun pretrain)", field="encoder")
    changed = [k for k in ("fusion_layers", "gnn_dim", "gnn_heads", "node_feature_dim", "num_edge_types")
               if config.use_kg and saved.use_kg and getattr(saved, k) != getattr(config, k)]
    if changed:
        log.warning("%s: GNN settings differ (%s); GNN weights of another shape start fresh", model_dir,
                    ", ".join(f"{k} {getattr(saved, k)} -> {getattr(config, k)}" for k in changed))
    return cls.from_pretrained(model_dir, config=config, ignore_mismatched_sizes=bool(changed))


Init = Literal["pretrained", "encoder"]


def finetune_config(params: ModelParams, *, init: Init, pretrained_dir: str | Path, use_kg: bool,
                    graph_shape: tuple[int, int], offline: bool = True,
                    init_key: str = "init") -> tuple[PreTrainedTokenizerBase, KGLMConfig]:
    """The tokenizer and KG-LM config a finetune starts from: the pretrained KG-LM's (``init:
    pretrained``; ``init_key`` names the setting in the error when there is none) or ``params``'
    encoder's (``init: encoder``). ``graph_shape``: (node feature width, edge types) of the GNN."""
    if init == "pretrained":
        if not (Path(pretrained_dir) / "config.json").is_file():
            raise InputError(pretrained_dir,
                             f"no pretrained KG-LM here (run pretrain first, or set {init_key}: encoder)")
        tokenizer = AutoTokenizer.from_pretrained(pretrained_dir)
        encoder = KGLMConfig.from_pretrained(pretrained_dir).encoder
    else:
        tokenizer = load_tokenizer(params, offline=offline)
        encoder = encoder_config(params, tokenizer, offline=offline)
    tokenizer.model_max_length = params.max_length  # saved with the model: evaluation uses the same
    feature_dim, edge_types = graph_shape
    return tokenizer, kg_lm_config(params, encoder, use_kg=use_kg, node_feature_dim=feature_dim,
                                   num_edge_types=edge_types)


def multiple_choice_model(params: ModelParams, config: KGLMConfig, *, init: Init, pretrained_dir: str | Path,
                          seed: int, offline: bool = True) -> KGLMForMultipleChoice:
    """The multiple-choice KG-LM of ``finetune_config``: the pretrained KG-LM's weights (``init:
    pretrained``) or ``params``' encoder's; what is fresh (the head, or all with ``init: encoder``)
    is drawn after ``torch.manual_seed(seed)``."""
    torch.manual_seed(seed)
    if init == "pretrained":
        return from_checkpoint(KGLMForMultipleChoice, pretrained_dir, config)
    return new_model(KGLMForMultipleChoice, params, config, offline=offline)


_VOLATILE = {"_name_or_path", "transformers_version", "architectures", "dtype"}


def _comparable(value: object) -> object:
    """A config value as JSON would give it back, without keys that do not describe the architecture."""
    if isinstance(value, dict):
        return {k: v for k, v in json.loads(json.dumps(value, sort_keys=True, default=str)).items()
                if k not in _VOLATILE}
    return value


def resume_key(inputs: Sequence[str | Path], settings: str = "") -> str:
    """What, besides the TrainConfig, must match for a killed run's checkpoint to be resumed: the
    bytes of the input files and the caller's other settings (`kg_ml.training.train`'s resume_key)."""
    h = hashlib.sha256(settings.encode())
    for path in inputs:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()
