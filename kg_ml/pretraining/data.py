"""Pretraining examples (a tokenized text + its subgraph) and the collate that applies both objectives.

The collate draws from the global torch RNG unless given a generator: the training loop
reseeds that from the batch position before every call (`kg_ml.training.data`), so masks and
dropped edges are the same for any worker count and after a resume.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import Dataset
from torch_geometric.data import Batch, Data
from transformers import PreTrainedTokenizerBase

from kg_ml.models.params import ObjectiveParams
from kg_ml.pretraining.links import link_targets
from kg_ml.pretraining.masking import whole_word_mask


@dataclass(frozen=True)
class Tokenized:
    """Token ids and, per token, the index of its word (-1 at special tokens) of each text."""

    input_ids: list[list[int]]
    word_ids: list[list[int]]


def tokenize_texts(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_length: int) -> Tokenized:
    enc = tokenizer(list(texts), truncation=True, max_length=max_length)
    words = [[-1 if w is None else w for w in enc.word_ids(i)] for i in range(len(texts))]
    return Tokenized(list(enc["input_ids"]), words)


class PretrainDataset(Dataset):
    """Item i: (token ids, word ids, subgraph ``Data``) of corpus row ``rows[i]``; ``tokens`` and
    ``graphs`` (a `SubgraphDataset` or anything with ``graph(row)``) are indexed by corpus row."""

    def __init__(self, tokens: Tokenized, graphs: Any, rows: Sequence[int]) -> None:
        self.tokens, self.graphs, self.rows = tokens, graphs, list(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> tuple[list[int], list[int], Data]:
        row = self.rows[i]
        return self.tokens.input_ids[row], self.tokens.word_ids[row], self.graphs.graph(row)


class PretrainCollator:
    """Pad the texts, mask whole words, drop KG edges and sample link-prediction negatives."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, objective: ObjectiveParams, *, num_edge_types: int,
                 kg_types: range, generator: torch.Generator | None = None) -> None:
        self.pad_id, self.mask_id = tokenizer.pad_token_id, tokenizer.mask_token_id
        self.vocab_size = len(tokenizer)
        self.objective, self.num_edge_types, self.kg_types = objective, num_edge_types, kg_types
        self.generator = generator

    def __call__(self, items: list[tuple[list[int], list[int], Data]]) -> dict[str, Any]:
        length = max(len(ids) for ids, _, _ in items)
        input_ids = torch.full((len(items), length), self.pad_id, dtype=torch.long)
        word_ids = torch.full((len(items), length), -1, dtype=torch.long)
        for b, (ids, words, _) in enumerate(items):
            input_ids[b, :len(ids)] = torch.tensor(ids)
            word_ids[b, :len(words)] = torch.tensor(words)
        attention_mask = (torch.arange(length) < torch.tensor([len(ids) for ids, _, _ in items]).unsqueeze(1)).long()
        masked = whole_word_mask(input_ids, word_ids, mask_token_id=self.mask_id, vocab_size=self.vocab_size,
                                 probability=self.objective.mlm_probability, generator=self.generator)
        graph, lp = self._graphs([g for _, _, g in items])
        return {"input_ids": masked.input_ids, "attention_mask": attention_mask, "mlm_positions": masked.positions,
                "mlm_labels": masked.labels, "graph": graph, "lp": lp,
                "num_tokens": torch.tensor(sum(len(ids) for ids, _, _ in items))}

    def _graphs(self, graphs: list[Data]) -> tuple[Batch, dict[str, torch.Tensor]]:
        kept, parts, offset = [], {k: [] for k in ("head", "relation", "tail", "neg_head", "neg_tail", "neg_valid")}, 0
        for g in graphs:
            t = link_targets(g.edge_index, g.edge_type, g.node_type, kg_types=self.kg_types,
                             num_edge_types=self.num_edge_types, drop_probability=self.objective.link_drop,
                             negatives=self.objective.negatives, generator=self.generator)
            kept.append(g.clone().update({"edge_index": g.edge_index[:, t.keep], "edge_type": g.edge_type[t.keep]}))
            for name in ("head", "tail", "neg_head", "neg_tail"):
                parts[name].append(getattr(t, name) + offset)
            parts["relation"].append(t.relation)
            parts["neg_valid"].append(t.neg_valid)
            offset += g.num_nodes
        return Batch.from_data_list(kept), {k: torch.cat(v) for k, v in parts.items()}


def pretrain_loss(weights: ObjectiveParams):
    """The loss_fn of `kg_ml.training.train`: weighted MLM + link prediction, components as extras."""

    def loss_fn(model: torch.nn.Module, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        out = model(**{k: v for k, v in batch.items() if k != "num_tokens"})
        loss = weights.mlm_weight * out.mlm_loss
        extra = {"mlm_loss": out.mlm_loss.detach(), "mlm_accuracy": out.mlm_accuracy.detach()}
        if out.lp_loss is not None:
            loss = loss + weights.lp_weight * out.lp_loss
            extra["lp_loss"] = out.lp_loss.detach()
        return loss, extra

    return loss_fn
