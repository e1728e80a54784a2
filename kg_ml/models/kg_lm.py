"""KG-enhanced language model: a Hugging Face encoder fused with a relational GAT (GreaseLM/DRAGON).

The last ``fusion_layers`` layers of the encoder each get a GNN hop over the batch's subgraphs;
after every such layer, the LM's first token ([CLS]; the first token for T5) and each graph's
context node are concatenated, passed through an MLP and added back to both (modality
interaction). The fusion runs in forward hooks on the encoder's own layers, so any encoder
whose layers form one ``nn.ModuleList`` works unchanged (BERT/RoBERTa family, the T5 encoder)
and its weight names stay those of the plain encoder. The fusion MLPs' output layers start at
zero, so an untrained KG-LM computes exactly what its encoder does.

Graph input: a PyG ``Batch`` with one graph per text sequence, in the same order, whose first
node is the context node, with ``x`` [N, node_feature_dim] (concept features; the context
node's row is ignored), ``node_type`` [N], ``node_score`` [N] or [N, 1], ``edge_index`` [2, E],
``edge_type`` [E], ``batch`` [N] and ``ptr`` [B + 1].

Models: `KGLMModel` (the fused encoder), `KGLMForMultipleChoice` (one score per (statement,
subgraph); ``use_kg: false`` builds the same encoder without any GNN: the text-only baseline),
`KGLMForPretraining` (masked LM + link prediction over dropped subgraph edges).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from huggingface_hub.dataclasses import strict
from torch import nn
from torch_geometric.utils import softmax
from transformers import (AutoConfig, AutoModel, AutoModelForMultipleChoice, AutoModelForPreTraining,
                          AutoModelForTextEncoding, PreTrainedConfig, PreTrainedModel)
from transformers import initialization as init
from transformers.utils import ModelOutput

from kg_ml.models.gnn import GNNLayer
from kg_ml.models.link_prediction import LinkPredictor

T5_LIKE = ("t5", "mt5", "umt5", "t5gemma")  # encoders without a [CLS]: mean pooling by default


@strict
class KGLMConfig(PreTrainedConfig):
    """Architecture of a KG-LM. ``encoder``: the encoder's own config as a dict (``to_dict()``).

    use_kg: build the GNN and fusion (false: the text-only baseline, same encoder and head).
    fusion_layers: k, the number of last encoder layers each followed by a GNN hop and fusion.
    gnn_dim / gnn_heads / gnn_dropout: node state width, attention heads, dropout.
    node_feature_dim: width of the input concept features (``graph.x``).
    num_node_types: context, question, answer, other. num_edge_types: the subgraph's edge types
    (2 (R + 2) for a graph with R relations). pooling: "cls" | "mean" | "auto" (mean for T5).
    head_hidden / head_dropout: the scoring MLP. lp_scorer / lp_gamma: link prediction
    (distmult | transe | rotate; gamma: margin of TransE/RotatE).
    """

    model_type = "kg_lm"

    encoder: dict | None = None
    use_kg: bool = True
    fusion_layers: int = 2
    gnn_dim: int = 64
    gnn_heads: int = 4
    gnn_dropout: float = 0.1
    node_feature_dim: int = 384
    num_node_types: int = 4
    num_edge_types: int = 28
    pooling: str = "auto"
    head_hidden: int = 128
    head_dropout: float = 0.1
    lp_scorer: str = "distmult"
    lp_gamma: float = 12.0

    def encoder_config(self) -> PreTrainedConfig:
        if not self.encoder or "model_type" not in self.encoder:
            raise ValueError("KGLMConfig.encoder must be an encoder config dict with a 'model_type'")
        return AutoConfig.for_model(**self.encoder)

    def resolved_pooling(self) -> str:
        if self.pooling != "auto":
            return self.pooling
        return "mean" if (self.encoder or {}).get("model_type") in T5_LIKE else "cls"


# So AutoConfig / AutoTokenizer can read a saved KG-LM directory (its config.json says "kg_lm").
AutoConfig.register(KGLMConfig.model_type, KGLMConfig, exist_ok=True)


def is_lm_param(name: str) -> bool:
    """Parameters of the encoder itself (trained at the LM learning rate, frozen for ``freeze_lm_epochs``)."""
    return name.startswith("kg_lm.encoder.")


def build_encoder(config: PreTrainedConfig) -> PreTrainedModel:
    """A randomly initialised text encoder for ``config`` (T5: the encoder stack only), without
    BERT's pooler, which nothing here uses (DDP requires every parameter to get a gradient)."""
    encoder = AutoModelForTextEncoding.from_config(config)
    if getattr(encoder, "pooler", None) is not None:
        encoder.pooler = None
    return encoder


def encoder_layers(encoder: nn.Module) -> nn.ModuleList:
    """The encoder's transformer layers: the ``nn.ModuleList`` with one entry per layer."""
    n = getattr(encoder.config, "num_hidden_layers", None) or getattr(encoder.config, "num_layers", None)
    for _, module in encoder.named_modules():
        if isinstance(module, nn.ModuleList) and len(module) == n:
            return module
    raise ValueError(f"cannot find the {n} transformer layers of {type(encoder).__name__}")


# Module markers read by KGLMPreTrainedModel._init_weights (it sees one module at a time).
_TORCH_INIT, _ZERO_INIT = "_kg_lm_torch_init", "_kg_lm_zero_init"


class FusionMLP(nn.Module):
    """GreaseLM's modality interaction: [h_cls; x_ctx] -> MLP -> updates for both (zero at init)."""

    def __init__(self, lm_dim: int, gnn_dim: int, dropout: float) -> None:
        super().__init__()
        self.lm_dim = lm_dim
        self.net = nn.Sequential(nn.Linear(lm_dim + gnn_dim, lm_dim + gnn_dim), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(lm_dim + gnn_dim, lm_dim + gnn_dim))

    def forward(self, h_cls: torch.Tensor, x_ctx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        delta = self.net(torch.cat([h_cls.to(x_ctx.dtype), x_ctx], dim=-1))
        return delta[:, :self.lm_dim], delta[:, self.lm_dim:]


class NodeEncoder(nn.Module):
    """Initial node states (projected concept features; a learned vector for context nodes) and
    the type/score features every GNN hop sees (DRAGON's ``node_feature_extra``)."""

    def __init__(self, feature_dim: int, dim: int, num_node_types: int) -> None:
        super().__init__()
        self.proj = nn.Sequential(nn.Linear(feature_dim, dim), nn.GELU(), nn.Linear(dim, dim))
        self.context = nn.Parameter(torch.zeros(dim))
        self.type_emb = nn.Embedding(num_node_types, dim)
        self.score_proj = nn.Sequential(nn.Linear(1, dim), nn.GELU(), nn.Linear(dim, dim))
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, node_type: torch.Tensor, node_score: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        is_context = (node_type == 0).unsqueeze(-1)
        states = torch.where(is_context, self.context.to(x.dtype), self.proj(x))
        extra = self.type_emb(node_type) + self.score_proj(node_score.reshape(-1, 1).to(x.dtype))
        return self.norm(states), extra


@dataclass
class KGLMOutput(ModelOutput):
    """last_hidden_state [B, L, d]; pooled [B, d] (the LM summary); node_states [N, gnn_dim];
    context_states [B, gnn_dim] (each graph's context node); graph_pooled [B, gnn_dim]
    (attention pooling of the nodes, queried by the LM summary)."""

    last_hidden_state: torch.Tensor | None = None
    pooled: torch.Tensor | None = None
    node_states: torch.Tensor | None = None
    context_states: torch.Tensor | None = None
    graph_pooled: torch.Tensor | None = None


class KGLMPreTrainedModel(PreTrainedModel):
    config_class = KGLMConfig
    config: KGLMConfig
    base_model_prefix = "kg_lm"
    _supports_sdpa = True

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        # The graph side (marked by KGLMModel) gets PyTorch's default fan-in scaled init: with
        # BERT's N(0, 0.02) its edge-type and node-type embeddings would be ~1e-3 of the node
        # states, and the GNN nearly blind to the graph's structure when training starts.
        if getattr(module, _ZERO_INIT, False):
            init.zeros_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, NodeEncoder):
            init.normal_(module.context)
        elif getattr(module, _TORCH_INIT, False) and callable(getattr(module, "reset_parameters", None)):
            module.reset_parameters()
        elif isinstance(module, LinkPredictor):
            module.reset_parameters()
        elif isinstance(module, MaskedLMHead):
            init.zeros_(module.bias)
        else:
            super()._init_weights(module)


class KGLMModel(KGLMPreTrainedModel):
    """The fused encoder. Without a graph (or with ``use_kg: false``) it is the plain encoder."""

    def __init__(self, config: KGLMConfig) -> None:
        super().__init__(config)
        self.encoder = build_encoder(config.encoder_config())
        self.lm_dim = int(self.encoder.config.hidden_size)
        self._fusion: _FusionPass | None = None
        if config.use_kg:
            layers = encoder_layers(self.encoder)
            if not 1 <= config.fusion_layers <= len(layers):
                raise ValueError(f"fusion_layers must be between 1 and the encoder's {len(layers)} layers, "
                                 f"got {config.fusion_layers}")
            self.node_encoder = NodeEncoder(config.node_feature_dim, config.gnn_dim, config.num_node_types)
            self.gnn = nn.ModuleList(GNNLayer(config.gnn_dim, config.gnn_heads, config.num_edge_types,
                                              config.num_node_types, config.gnn_dropout)
                                     for _ in range(config.fusion_layers))
            self.fusion = nn.ModuleList(FusionMLP(self.lm_dim, config.gnn_dim, config.gnn_dropout)
                                        for _ in range(config.fusion_layers))
            self.pool_query = nn.Linear(self.lm_dim, config.gnn_dim)
            self.pool_key = nn.Linear(config.gnn_dim, config.gnn_dim)
            for part in (self.node_encoder, self.gnn, self.fusion):
                for module in part.modules():
                    setattr(module, _TORCH_INIT, True)
            for fusion in self.fusion:
                setattr(fusion.net[-1], _ZERO_INIT, True)
            for i, layer in enumerate(layers[len(layers) - config.fusion_layers:]):
                layer.register_forward_hook(_FuseHook(self, i))
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.encoder.get_input_embeddings()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None, graph: Any = None) -> KGLMOutput:
        text = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None and self.config.encoder.get("model_type") not in T5_LIKE:
            text["token_type_ids"] = token_type_ids
        if not self.config.use_kg or graph is None:
            hidden = self.encoder(**text).last_hidden_state
            return KGLMOutput(last_hidden_state=hidden, pooled=self._pool(hidden, attention_mask))

        x, extra = self.node_encoder(graph.x, graph.node_type, graph.node_score)
        self._fusion = _FusionPass(x, extra, graph, graph.ptr[:-1])
        try:
            hidden = self.encoder(**text).last_hidden_state
            nodes = self._fusion.x
        finally:
            self._fusion = None
        pooled = self._pool(hidden, attention_mask)
        return KGLMOutput(last_hidden_state=hidden, pooled=pooled, node_states=nodes,
                          context_states=nodes[graph.ptr[:-1]],
                          graph_pooled=self._graph_pool(pooled, nodes, graph.batch))

    def _pool(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.config.resolved_pooling() == "cls":
            return hidden[:, 0]
        m = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * m).sum(1) / m.sum(1).clamp(min=1)

    def _graph_pool(self, pooled: torch.Tensor, nodes: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
        """Attention over each graph's nodes with the LM summary as the query (GreaseLM's pooler)."""
        query = self.pool_query(pooled)[batch]
        scores = (query * self.pool_key(nodes)).sum(-1) / math.sqrt(nodes.size(-1))
        alpha = softmax(scores.float(), batch, num_nodes=nodes.size(0)).unsqueeze(-1)
        out = torch.zeros(pooled.size(0), nodes.size(-1), device=nodes.device, dtype=alpha.dtype)
        return out.index_add(0, batch, alpha * nodes.float())


@dataclass
class _FusionPass:
    """The graph side of one forward pass, advanced layer by layer by `_FuseHook`."""

    x: torch.Tensor
    extra: torch.Tensor
    graph: Any
    context: torch.Tensor  # index of each graph's context node


class _FuseHook:
    """After fused encoder layer ``i``: one GNN hop, then the [CLS] <-> context node interaction."""

    def __init__(self, model: KGLMModel, i: int) -> None:
        self.model, self.i = [model], i  # a list, so the layer does not register the model as a child

    def __call__(self, module: nn.Module, args: Any, output: Any) -> Any:
        model = self.model[0]
        run = model._fusion
        if run is None:
            return None
        g = run.graph
        x = model.gnn[self.i](run.x, run.extra, g.edge_index, g.edge_type, g.node_type)
        hidden = output[0] if isinstance(output, tuple) else output
        d_cls, d_ctx = model.fusion[self.i](hidden[:, 0], x[run.context])
        run.x = x.index_add(0, run.context, d_ctx.to(x.dtype))
        hidden = torch.cat([(hidden[:, 0] + d_cls.to(hidden.dtype)).unsqueeze(1), hidden[:, 1:]], dim=1)
        return (hidden, *output[1:]) if isinstance(output, tuple) else hidden


class ScoreHead(nn.Module):
    """MLP from the fused summary (LM pooled; + context node and graph pool with a KG) to one score."""

    def __init__(self, in_dim: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_dim, hidden), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, 1))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features).squeeze(-1)


@dataclass
class MultipleChoiceOutput(ModelOutput):
    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None  # [questions, choices]


class KGLMForMultipleChoice(KGLMPreTrainedModel):
    """Scores every (statement, subgraph) of a question; cross-entropy over the choices."""

    def __init__(self, config: KGLMConfig) -> None:
        super().__init__(config)
        self.kg_lm = KGLMModel(config)
        width = self.kg_lm.lm_dim + (2 * config.gnn_dim if config.use_kg else 0)
        self.head = ScoreHead(width, config.head_hidden, config.head_dropout)
        self.post_init()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, num_choices: int,
                token_type_ids: torch.Tensor | None = None, graph: Any = None,
                labels: torch.Tensor | None = None) -> MultipleChoiceOutput:
        """Sequences (and graphs) are question-major: rows ``q * num_choices + c``."""
        out = self.kg_lm(input_ids, attention_mask, token_type_ids, graph)
        parts = [out.pooled.float()]
        if self.config.use_kg:
            if out.node_states is None:
                raise ValueError("this model was built with use_kg: true and needs a graph batch")
            parts += [out.context_states.float(), out.graph_pooled.float()]
        logits = self.head(torch.cat(parts, dim=-1)).view(-1, num_choices)
        loss = F.cross_entropy(logits.float(), labels) if labels is not None else None
        return MultipleChoiceOutput(loss=loss, logits=logits)


class MaskedLMHead(nn.Module):
    """BERT's MLM transform; the output projection is the encoder's input embedding matrix (tied
    by construction, so no weight-tying machinery is involved) plus a bias."""

    def __init__(self, dim: int, vocab_size: int) -> None:
        super().__init__()
        self.transform = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.LayerNorm(dim))
        self.bias = nn.Parameter(torch.zeros(vocab_size))

    def forward(self, hidden: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
        return F.linear(self.transform(hidden), embeddings, self.bias)


@dataclass
class PretrainingOutput(ModelOutput):
    mlm_loss: torch.Tensor | None = None
    lp_loss: torch.Tensor | None = None
    mlm_accuracy: torch.Tensor | None = None


class KGLMForPretraining(KGLMPreTrainedModel):
    """DRAGON's self-supervision: masked LM on the text and link prediction on the dropped edges."""

    def __init__(self, config: KGLMConfig) -> None:
        super().__init__(config)
        self.kg_lm = KGLMModel(config)
        vocab = self.kg_lm.get_input_embeddings().weight.shape[0]
        self.mlm = MaskedLMHead(self.kg_lm.lm_dim, vocab)
        if config.use_kg:
            self.link = LinkPredictor(config.gnn_dim, config.num_edge_types, config.lp_scorer, config.lp_gamma)
        self.post_init()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, mlm_positions: torch.Tensor,
                mlm_labels: torch.Tensor, token_type_ids: torch.Tensor | None = None, graph: Any = None,
                lp: dict[str, torch.Tensor] | None = None) -> PretrainingOutput:
        """mlm_positions [M]: flat indices into ``input_ids.view(-1)`` of the masked tokens, whose
        original ids are mlm_labels [M] (a fixed gather: no data-dependent shapes, no host sync).
        lp: the link-prediction targets of `kg_ml.pretraining.links` (node indices into the batch)."""
        out = self.kg_lm(input_ids, attention_mask, token_type_ids, graph)
        hidden = out.last_hidden_state.reshape(-1, out.last_hidden_state.size(-1))[mlm_positions]
        logits = self.mlm(hidden, self.kg_lm.get_input_embeddings().weight).float()
        mlm_loss = F.cross_entropy(logits, mlm_labels)
        accuracy = (logits.argmax(-1) == mlm_labels).float().mean()
        lp_loss = None
        if self.config.use_kg and lp is not None:
            lp_loss = self.link.loss(out.node_states, lp["head"], lp["relation"], lp["tail"],
                                     lp["neg_head"], lp["neg_tail"], lp["neg_valid"])
        return PretrainingOutput(mlm_loss=mlm_loss, lp_loss=lp_loss, mlm_accuracy=accuracy)


# So the Auto classes load a saved KG-LM directory once this module is imported, as for any
# Hugging Face architecture: AutoModel gives the fused encoder (the base model, `kg_lm.*` weights
# of a task model), AutoModelForMultipleChoice / AutoModelForPreTraining the task models.
AutoModel.register(KGLMConfig, KGLMModel, exist_ok=True)
AutoModelForMultipleChoice.register(KGLMConfig, KGLMForMultipleChoice, exist_ok=True)
AutoModelForPreTraining.register(KGLMConfig, KGLMForPretraining, exist_ok=True)
