"""Build KG-LMs from ``kg_lm.model`` params: tokenizer, config, fresh models and checkpoints."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TypeVar

from transformers import AutoConfig, AutoModelForTextEncoding, AutoTokenizer, PreTrainedTokenizerBase

from kg_ml.errors import ConfigError, InputError
from kg_ml.models.kg_lm import KGLMConfig, KGLMPreTrainedModel
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
    """The encoder's config dict: pretrained + overrides, or ``encoder_config`` sized to the tokenizer."""
    if params.encoder is None:
        cfg = AutoConfig.for_model(**{"vocab_size": len(tokenizer), **params.encoder_config})
    else:
        cfg = AutoConfig.from_pretrained(resolve_pretrained(params.encoder, offline=offline),
                                         **params.encoder_config)
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
    """Load a saved KG-LM into ``cls`` with ``config`` (its architecture must match the checkpoint;
    heads the checkpoint lacks start fresh, weights ``cls`` lacks are dropped)."""
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise InputError(model_dir, "no config.json: not a saved KG-LM (run pretrain first)")
    saved = KGLMConfig.from_pretrained(model_dir)
    keys = ["encoder"] + (["fusion_layers", "gnn_dim", "gnn_heads", "node_feature_dim", "num_edge_types"]
                          if config.use_kg and saved.use_kg else [])
    for key in keys:
        have, want = _comparable(getattr(saved, key)), _comparable(getattr(config, key))
        if have != want:
            if isinstance(have, dict):
                diff = sorted(k for k in set(have) | set(want) if have.get(k) != want.get(k))
                have, want = ({k: d.get(k) for k in diff[:3]} for d in (have, want))
            raise InputError(model_dir / "config.json", f"checkpoint has {key} {have}, the params ask for {want} "
                             "(rerun pretrain)", field=key)
    return cls.from_pretrained(model_dir, config=config)


_VOLATILE = {"_name_or_path", "transformers_version", "architectures", "dtype"}


def _comparable(value: object) -> object:
    """A config value as JSON would give it back, without keys that do not describe the architecture."""
    if isinstance(value, dict):
        return {k: v for k, v in json.loads(json.dumps(value, sort_keys=True, default=str)).items()
                if k not in _VOLATILE}
    return value
