"""Late-interaction (ColBERT-style) reranker over a BERT-family encoder with a frozen lower stack.

    question -> frozen layers [0, split) -> trainable layers [split, L) -> query_proj -> L2 norm
    passage  -> frozen layers [0, split) ---------------------------------> doc_proj  -> L2 norm
    score(q, p) = mean over question tokens of max over passage tokens of cos(q_i, p_j)

Why this shape: KARD's reranker is ColBERT on a BERT encoder. Training it end to end re-encodes
~64 candidate passages per (question, rationale) example, far too slow for the 2-core sample
budget. Freezing the lower stack and keeping passages below the trainable part means the frozen
token states of every question and passage are computed once and reused each epoch (as ColBERT
precomputes passage embeddings), while the question side still learns a contextual layer and
both sides learn their projections. ``trainable_layers = 0`` trains only the projections.
The score is length-normalised (mean, not ColBERT's sum) so it lies in [-1, 1] for any question
length and the loss temperature means the same thing for every question.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel

from kg_ml.errors import ConfigError
from kg_ml.models.pretrained import resolve_pretrained


class LateInteractionConfig(PretrainedConfig):
    model_type = "kg_ml_late_interaction"

    def __init__(self, encoder: dict | None = None, dim: int = 128, trainable_layers: int = 1,
                 query_max_length: int = 128, doc_max_length: int = 128, **kwargs) -> None:
        super().__init__(**kwargs)
        self.encoder = encoder or {"model_type": "bert"}
        self.dim = dim
        self.trainable_layers = trainable_layers
        self.query_max_length = query_max_length
        self.doc_max_length = doc_max_length

    def encoder_config(self) -> PretrainedConfig:
        spec = dict(self.encoder)
        return AutoConfig.for_model(spec.pop("model_type"), **spec)


def additive_mask(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """[B, L] 0/1 -> [B, 1, 1, L] additive attention mask (0 keep, dtype-min drop)."""
    return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


class LateInteractionReranker(PreTrainedModel):
    config_class = LateInteractionConfig
    base_model_prefix = "reranker"

    def __init__(self, config: LateInteractionConfig) -> None:
        super().__init__(config)
        self.encoder = AutoModel.from_config(config.encoder_config(), add_pooling_layer=False)
        if not (hasattr(self.encoder, "embeddings") and hasattr(getattr(self.encoder, "encoder", None), "layer")):
            raise ConfigError(f"reranker encoder {type(self.encoder).__name__}: need a BERT-style encoder "
                              "(embeddings + encoder.layer)")
        n_layers = len(self.encoder.encoder.layer)
        if config.trainable_layers > n_layers:
            raise ConfigError(f"reranker trainable_layers {config.trainable_layers} exceeds the encoder's "
                              f"{n_layers} layers")
        self.split = n_layers - config.trainable_layers
        hidden = self.encoder.config.hidden_size
        self.query_proj = nn.Linear(hidden, config.dim, bias=False)
        self.doc_proj = nn.Linear(hidden, config.dim, bias=False)
        self.post_init()
        self.freeze_lower()

    @classmethod
    def from_encoder(cls, ref: str, *, offline: bool = True, **config) -> "LateInteractionReranker":
        """A new reranker whose encoder starts from the pretrained weights at ``ref``."""
        encoder = AutoModel.from_pretrained(resolve_pretrained(ref, offline=offline))
        model = cls(LateInteractionConfig(encoder=encoder.config.to_diff_dict(), **config))
        weights = {k: v for k, v in encoder.state_dict().items() if not k.startswith("pooler.")}
        model.encoder.load_state_dict(weights)
        return model

    def freeze_lower(self) -> None:
        """Stop gradients below ``split`` (``from_pretrained`` may hand back all-trainable weights)."""
        for p in self.encoder.embeddings.parameters():
            p.requires_grad_(False)
        for layer in self.encoder.encoder.layer[: self.split]:
            for p in layer.parameters():
                p.requires_grad_(False)

    # -- towers ------------------------------------------------------------------------------

    def frozen_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Token states after the frozen stack [B, L, H] (no gradient)."""
        with torch.no_grad():
            h = self.encoder.embeddings(input_ids=input_ids)
            mask = additive_mask(attention_mask, h.dtype)
            for layer in self.encoder.encoder.layer[: self.split]:
                h = layer(h, mask)
        return h

    def query_vectors(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Frozen question states -> trainable top layers -> normalised token vectors [B, L, dim]."""
        h = states
        add = additive_mask(mask, h.dtype)
        for layer in self.encoder.encoder.layer[self.split:]:
            h = layer(h, add)
        return nn.functional.normalize(self.query_proj(h), dim=-1)

    def doc_vectors(self, states: torch.Tensor) -> torch.Tensor:
        """Frozen passage states -> normalised token vectors [..., L, dim]."""
        return nn.functional.normalize(self.doc_proj(states), dim=-1)

    @staticmethod
    def late_interaction(q: torch.Tensor, q_mask: torch.Tensor, d: torch.Tensor,
                         d_mask: torch.Tensor) -> torch.Tensor:
        """Scores [B, C]: q [B, Lq, dim], q_mask [B, Lq], d [B, C, Ld, dim], d_mask [B, C, Ld]."""
        sim = torch.einsum("bqh,bcdh->bcqd", q, d)
        sim = sim.masked_fill(~d_mask.bool()[:, :, None, :], -2.0)  # below any cosine
        best = sim.max(dim=-1).values  # [B, C, Lq]
        qm = q_mask.to(best.dtype)[:, None, :]
        return (best * qm).sum(-1) / qm.sum(-1).clamp(min=1.0)

    def forward(self, query_states: torch.Tensor, query_mask: torch.Tensor, doc_states: torch.Tensor,
                doc_mask: torch.Tensor, cand_index: torch.Tensor) -> torch.Tensor:
        """Scores [B, C] from frozen states: questions [B, Lq, H] + mask, the batch's distinct passages
        [U, Ld, H] + mask, and ``cand_index`` [B, C] picking each question's candidates among them
        (-1 = padding, scored as passage 0: mask those out)."""
        q = self.query_vectors(query_states, query_mask)
        d = self.doc_vectors(doc_states)
        idx = cand_index.clamp(min=0)
        return self.late_interaction(q, query_mask, d[idx], doc_mask[idx])

    def score_tokens(self, query_input_ids: torch.Tensor, query_attention_mask: torch.Tensor,
                     doc_input_ids: torch.Tensor, doc_attention_mask: torch.Tensor) -> torch.Tensor:
        """Scores [B, C] of C passages (token ids [B, C, Ld]) for each of B questions (ids [B, Lq])."""
        b, c, ld = doc_input_ids.shape
        q_states = self.frozen_states(query_input_ids, query_attention_mask)
        d_states = self.frozen_states(doc_input_ids.reshape(b * c, ld), doc_attention_mask.reshape(b * c, ld))
        index = torch.arange(b * c, device=doc_input_ids.device).reshape(b, c)
        return self(q_states, query_attention_mask, d_states, doc_attention_mask.reshape(b * c, ld), index)
