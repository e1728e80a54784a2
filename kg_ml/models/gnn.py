"""Relational graph attention over a question's KG subgraph (DRAGON's GATConvE).

Every message sees the relation type of its edge and the node types of both ends: the three
are embedded, summed and passed through an MLP (DRAGON one-hot-concatenates them before a
linear layer, which is the same function). Attention keys and messages are computed from the
source node's state, its type/score features and that edge embedding; queries from the target
node. Each node also receives a self-loop message of its own edge type, so a node without
neighbours keeps its state.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import softmax


class RelationalGATConv(MessagePassing):
    """One multi-head attention hop over typed edges between typed nodes."""

    def __init__(self, dim: int, heads: int, num_edge_types: int, num_node_types: int,
                 dropout: float = 0.1) -> None:
        super().__init__(aggr="add", node_dim=0)
        if dim % heads:
            raise ValueError(f"gnn_dim {dim} is not divisible by gnn_heads {heads}")
        self.dim, self.heads, self.head_dim = dim, heads, dim // heads
        self.self_loop_type = num_edge_types  # one extra edge type for the self-loops
        self.edge_type_emb = nn.Embedding(num_edge_types + 1, dim)
        self.src_type_emb = nn.Embedding(num_node_types, dim)
        self.dst_type_emb = nn.Embedding(num_node_types, dim)
        self.edge_mlp = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))
        self.query = nn.Linear(2 * dim, dim)
        self.key = nn.Linear(3 * dim, dim)
        self.value = nn.Linear(3 * dim, dim)
        self.out = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))
        self.attn_dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, node_extra: torch.Tensor, edge_index: torch.Tensor,
                edge_type: torch.Tensor, node_type: torch.Tensor) -> torch.Tensor:
        """x, node_extra: [N, dim]; edge_index: [2, E] (source, target); edge_type: [E]; node_type: [N]."""
        n = x.size(0)
        loops = torch.arange(n, device=x.device)
        edge_index = torch.cat([edge_index, torch.stack([loops, loops])], dim=1)
        edge_type = torch.cat([edge_type, torch.full_like(loops, self.self_loop_type)])
        src, dst = edge_index
        edge_attr = self.edge_mlp(self.edge_type_emb(edge_type) + self.src_type_emb(node_type[src])
                                  + self.dst_type_emb(node_type[dst]))
        h = torch.cat([x, node_extra], dim=-1)
        out = self.propagate(edge_index, h=h, edge_attr=edge_attr, size=(n, n))
        return self.out(out)

    def message(self, h_i: torch.Tensor, h_j: torch.Tensor, edge_attr: torch.Tensor, index: torch.Tensor,
                ptr: torch.Tensor | None, size_i: int | None) -> torch.Tensor:
        source = torch.cat([h_j, edge_attr], dim=-1)
        q = self.query(h_i).view(-1, self.heads, self.head_dim)
        k = self.key(source).view(-1, self.heads, self.head_dim)
        v = self.value(source).view(-1, self.heads, self.head_dim)
        scores = (q * k).sum(-1) / math.sqrt(self.head_dim)  # [E, heads]
        alpha = self.attn_dropout(softmax(scores, index, ptr, size_i))
        return (v * alpha.unsqueeze(-1)).view(-1, self.dim)


class GNNLayer(nn.Module):
    """A relational GAT hop with a residual connection and layer norm."""

    def __init__(self, dim: int, heads: int, num_edge_types: int, num_node_types: int, dropout: float) -> None:
        super().__init__()
        self.conv = RelationalGATConv(dim, heads, num_edge_types, num_node_types, dropout)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, node_extra: torch.Tensor, edge_index: torch.Tensor,
                edge_type: torch.Tensor, node_type: torch.Tensor) -> torch.Tensor:
        update = self.conv(x, node_extra, edge_index, edge_type, node_type)
        return self.norm(x + self.dropout(nn.functional.gelu(update)))
