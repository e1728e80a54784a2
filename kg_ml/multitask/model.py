"""One shared KG-enhanced encoder (`KGLMModel`) with a head per task.

- medqa: the multiple-choice `ScoreHead` of `KGLMForMultipleChoice` over the fused summary of each
  (statement, subgraph), softmax over a question's choices.
- hotpotqa: a span head (start / end logit per token), Hugging Face's QA loss.
- kgqa: entity classification. A candidate entity is the mean of the encoder's input embeddings
  of its name tokens, projected, plus an embedding of the relation that links it to the
  question's topic entity; its score is the dot product with the projected question summary.
  Entities are described by their names, not a learned table, so the head has no per-entity
  parameters (it scales to any KG) and scores entities that no training question answered.

``forward(task=..., **batch)`` runs one task's batch and returns its loss (and outputs);
`TaskView` makes one task of the model look like a single-task model to the single-task
prediction code (`kg_ml.tasks.medqa.predict`, `kg_ml.qa.model.window_logits`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from kg_ml.models.kg_lm import KGLMConfig, KGLMForMultipleChoice, KGLMModel, ScoreHead
from kg_ml.multitask.adapters import PREFIX as ADAPTER_PREFIX
from kg_ml.multitask.adapters import AdapterConfig, add_adapters, freeze_backbone, set_task

HEAD_PREFIX = "heads."
# The KG side of KGLMModel: trainable in adapter mode with ``train_kg`` (the encoder stays frozen).
KG_PREFIXES = ("kg_lm.node_encoder.", "kg_lm.gnn.", "kg_lm.fusion.", "kg_lm.pool_query.", "kg_lm.pool_key.")


@dataclass
class JointOutput:
    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None  # medqa [questions, choices]; kgqa [questions, candidates]
    start_logits: torch.Tensor | None = None
    end_logits: torch.Tensor | None = None


class SpanHead(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.qa_outputs = nn.Linear(hidden, 2)

    def forward(self, hidden: torch.Tensor, start_positions: torch.Tensor | None = None,
                end_positions: torch.Tensor | None = None) -> JointOutput:
        start, end = self.qa_outputs(hidden).float().unbind(-1)
        loss = None
        if start_positions is not None:
            # As Hugging Face's QA heads: positions outside the sequence are ignored.
            n = start.size(1)
            loss = (F.cross_entropy(start, start_positions.clamp(0, n), ignore_index=n)
                    + F.cross_entropy(end, end_positions.clamp(0, n), ignore_index=n)) / 2
        return JointOutput(loss=loss, start_logits=start, end_logits=end)


class EntityHead(nn.Module):
    """Scores candidate entities ``[B, C]`` (entity positions, with the id of the relation that
    links each to the topic entity) against the question summary.

    ``set_entities`` gives every entity's name token ids ``[N, T]`` (non-persistent buffers: they
    are data, rebuilt from the KG and the tokenizer, not weights).
    """

    def __init__(self, hidden: int, num_relation_ids: int) -> None:
        super().__init__()
        self.query = nn.Linear(hidden, hidden)
        self.name = nn.Linear(hidden, hidden)
        self.relation = nn.Embedding(num_relation_ids, hidden)
        nn.init.normal_(self.relation.weight, std=0.02)
        self.register_buffer("name_ids", torch.zeros(0, 1, dtype=torch.long), persistent=False)
        self.register_buffer("name_mask", torch.zeros(0, 1, dtype=torch.bool), persistent=False)

    def set_entities(self, name_ids: torch.Tensor, name_mask: torch.Tensor) -> None:
        device = self.query.weight.device
        self.name_ids, self.name_mask = name_ids.to(device), name_mask.to(device)

    def forward(self, pooled: torch.Tensor, embeddings: torch.Tensor, entities: torch.Tensor,
                relations: torch.Tensor, candidate_mask: torch.Tensor,
                gold: torch.Tensor | None = None) -> JointOutput:
        # Name vectors once per distinct entity of the batch, then spread to the candidate slots.
        unique, inverse = torch.unique(entities, return_inverse=True)
        m = self.name_mask[unique].unsqueeze(-1).to(embeddings.dtype)
        names = (embeddings[self.name_ids[unique]] * m).sum(1) / m.sum(1).clamp(min=1)
        candidates = self.name(names)[inverse] + self.relation(relations)
        logits = torch.einsum("bd,bcd->bc", self.query(pooled), candidates).float()
        logits = logits.masked_fill(~candidate_mask, float("-inf"))
        loss = None
        if gold is not None:
            # Several answers may be right: maximise their total probability.
            gold_logits = logits.masked_fill(~(gold & candidate_mask), float("-inf"))
            loss = (torch.logsumexp(logits, -1) - torch.logsumexp(gold_logits, -1)).mean()
        return JointOutput(loss=loss, logits=logits)


class JointModel(nn.Module):
    """The shared encoder (``kg_lm``) and ``heads.<task>``; ``config`` is saved beside the weights."""

    def __init__(self, kg_lm: KGLMModel, medqa_head: ScoreHead | None, tasks: list[str],
                 num_relation_ids: int = 1) -> None:
        super().__init__()
        self.kg_lm = kg_lm
        self.tasks = sorted(tasks)
        hidden = kg_lm.lm_dim
        heads: dict[str, nn.Module] = {}
        if "medqa" in tasks:
            heads["medqa"] = medqa_head
        if "hotpotqa" in tasks:
            heads["hotpotqa"] = SpanHead(hidden)
        if "kgqa" in tasks:
            heads["kgqa"] = EntityHead(hidden, num_relation_ids)
        self.heads = nn.ModuleDict(heads)
        self.use_adapters = False
        self.config = {"kg_lm": kg_lm.config.to_dict(), "tasks": self.tasks, "num_relation_ids": num_relation_ids,
                       "adapters": None}

    @classmethod
    def from_multiple_choice(cls, mc: KGLMForMultipleChoice, tasks: list[str], num_relation_ids: int = 1
                             ) -> JointModel:
        """Share the encoder (and the MedQA head) of a KG-LM multiple-choice model."""
        return cls(mc.kg_lm, mc.head, tasks, num_relation_ids)

    def add_adapters(self, config: AdapterConfig, *, train_kg: bool = False) -> None:
        """VLM mode: adapters + task embeddings on the encoder; everything but them and the heads (and,
        with ``train_kg``, the GNN side) frozen."""
        add_adapters(self, self.kg_lm.encoder, self.tasks, config)
        freeze_backbone(self, trainable_prefixes=(HEAD_PREFIX, *(KG_PREFIXES if train_kg else ())))
        self.use_adapters = True
        self.config["adapters"] = config.model_dump() | {"train_kg": train_kg}

    def is_lm_param(self, name: str) -> bool:
        """The encoder's own weights (``lm_lr``); adapters, GNN, fusion and heads use ``lr``."""
        return name.startswith("kg_lm.encoder.") and ADAPTER_PREFIX not in name

    def forward(self, task: str, **batch: Any) -> JointOutput:
        if self.use_adapters:
            set_task(self, task)
        batch.pop("num_tokens", None)
        if task == "medqa":
            return self._medqa(**batch)
        if task == "hotpotqa":
            return self._span(**batch)
        if task == "kgqa":
            return self._entity(**batch)
        raise ValueError(f"unknown task {task!r}")

    def _medqa(self, input_ids, attention_mask, num_choices, token_type_ids=None, graph=None, labels=None):
        """`KGLMForMultipleChoice.forward` over the shared encoder."""
        cfg: KGLMConfig = self.kg_lm.config
        out = self.kg_lm(input_ids, attention_mask, token_type_ids, graph if cfg.use_kg else None)
        parts = [out.pooled.float()]
        if cfg.use_kg:
            parts += [out.context_states.float(), out.graph_pooled.float()]
        logits = self.heads["medqa"](torch.cat(parts, dim=-1)).view(-1, int(num_choices))
        loss = F.cross_entropy(logits.float(), labels) if labels is not None else None
        return JointOutput(loss=loss, logits=logits)

    def _span(self, input_ids, attention_mask, token_type_ids=None, start_positions=None, end_positions=None):
        hidden = self.kg_lm(input_ids, attention_mask, token_type_ids).last_hidden_state
        return self.heads["hotpotqa"](hidden, start_positions, end_positions)

    def _entity(self, input_ids, attention_mask, entities, relations, candidate_mask, token_type_ids=None,
                gold=None):
        pooled = self.kg_lm(input_ids, attention_mask, token_type_ids).pooled
        embeddings = self.kg_lm.get_input_embeddings().weight
        return self.heads["kgqa"](pooled, embeddings, entities, relations, candidate_mask, gold)


class TaskView(nn.Module):
    """One task of a `JointModel` as a single-task model: ``view(**batch)`` = ``model(task, **batch)``."""

    def __init__(self, model: JointModel, task: str) -> None:
        super().__init__()
        self.model, self.task = model, task

    def forward(self, **batch: Any) -> JointOutput:
        return self.model(self.task, **batch)


def parameter_counts(model: nn.Module) -> dict[str, int]:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"parameters": total, "trainable_parameters": trainable}
