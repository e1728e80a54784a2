"""The subgraph Parquet as PyTorch Geometric input: one item per question, all its choices.

``SubgraphDataset`` is a plain ``torch.utils.data.Dataset``, not a PyG ``InMemoryDataset``: an
item is a question (the graphs of all its choices, in choice order), not a single graph, and the
Parquet table stays the only on-disk form (``InMemoryDataset`` would write its own pickled
``processed/`` copy). The table is held as flat numpy arrays; ``Data`` objects are built per item.

Each statement is a ``torch_geometric.data.Data``:

| attribute | shape, dtype | meaning |
|---|---|---|
| x | [n, dim] float32 | concept embedding rows (only when embeddings are given); row 0, the context node, is zeros: the model puts its own vector there (learned, or the LM's [CLS] as in GreaseLM) |
| node_ids | [n] long | KG node ids, -1 for the context node (for a model with its own embedding table) |
| node_type | [n] long | 0 context, 1 question, 2 answer, 3 other |
| node_score | [n, 1] float32 | relevance scores (subgraph@ stage) |
| edge_index | [2, E] long | (source, target) node positions |
| edge_type | [E] long | 0..2(R+2)-1 (``kg_ml.graphs.extract``) |
| choice, is_gold | [1] long, [1] bool | the statement's choice index and whether it is the gold one |

``collate`` batches questions into one ``Batch`` (question-major, choice order; PyG offsets
``edge_index``) plus question-level tensors: ``labels`` (gold choice, -1 if none) and
``num_choices``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import torch
from torch_geometric.data import Batch, Data

from kg_ml.errors import InputError
from kg_ml.graphs.embeddings import load_embeddings
from kg_ml.graphs.extract import NUM_NODE_TYPES
from kg_ml.graphs.schema import GRAPH_SCHEMA, graph_info

_LISTS = ("node_ids", "node_types", "node_scores", "edge_src", "edge_dst", "edge_type")


@dataclass(frozen=True)
class QuestionGraphs:
    """One question: the subgraph of each choice, in choice order."""

    question_id: str
    graphs: list[Data]
    label: int  # position of the gold choice, -1 if none


@dataclass
class QuestionBatch:
    """A batch of questions: ``graphs`` holds sum(num_choices) graphs, question by question."""

    graphs: Batch
    labels: torch.Tensor  # [B] long
    num_choices: torch.Tensor  # [B] long
    question_ids: list[str]

    @property
    def graph_question(self) -> torch.Tensor:
        """[num graphs] long: the question index of each graph."""
        return torch.repeat_interleave(torch.arange(len(self.num_choices), device=self.num_choices.device),
                                       self.num_choices)

    def to(self, device: torch.device | str) -> QuestionBatch:
        return QuestionBatch(self.graphs.to(device), self.labels.to(device), self.num_choices.to(device),
                             self.question_ids)


def collate(questions: Sequence[QuestionGraphs]) -> QuestionBatch:
    """``DataLoader(dataset, collate_fn=collate)``: questions -> one PyG ``Batch`` + labels."""
    return QuestionBatch(
        graphs=Batch.from_data_list([g for q in questions for g in q.graphs]),
        labels=torch.tensor([q.label for q in questions], dtype=torch.long),
        num_choices=torch.tensor([len(q.graphs) for q in questions], dtype=torch.long),
        question_ids=[q.question_id for q in questions],
    )


def _flat(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(values, offsets) of a list column; offsets start at 0."""
    array = column.combine_chunks()
    offsets = array.offsets.to_numpy().astype(np.int64)
    return pc.list_flatten(array).to_numpy(zero_copy_only=False), offsets - offsets[0]


class SubgraphDataset(torch.utils.data.Dataset):
    """Questions of one ``data/graphs/<task>/<split>.parquet``.

    ``embeddings``: the concept embeddings (a ``concepts.safetensors`` path, or an array
    [num_nodes, dim]) to fill ``x``; ``None`` leaves ``x`` out (models embedding ``node_ids``).
    """

    def __init__(self, path: str | Path, embeddings: str | Path | np.ndarray | torch.Tensor | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(self.path, "missing file (run subgraph first)")
        table = pq.read_table(self.path)
        if missing := [n for n in GRAPH_SCHEMA.names if n not in table.column_names]:
            raise InputError(self.path, f"missing column(s) {missing}")
        info = graph_info(table.schema)
        self.num_node_types = int(info.get("num_node_types", NUM_NODE_TYPES))
        self.num_edge_types = info.get("num_edge_types")
        self._lists = {name: _flat(table.column(name)) for name in _LISTS}
        self._choice = table.column("choice").to_numpy()
        self._is_gold = table.column("is_gold").to_numpy(zero_copy_only=False)
        self._embeddings = self._load_embeddings(embeddings)
        self._check()
        self._questions = self._group(table.column("question_id").to_pylist())

    def _load_embeddings(self, embeddings) -> np.ndarray | None:
        if embeddings is None:
            return None
        if isinstance(embeddings, str | Path):
            embeddings = load_embeddings(embeddings).vectors
        if isinstance(embeddings, torch.Tensor):
            embeddings = embeddings.detach().cpu().float().numpy()
        return np.asarray(embeddings, np.float32)

    def _fail(self, field: str, offsets: np.ndarray, flat_index: int, message: str) -> None:
        row = int(np.searchsorted(offsets, flat_index, "right") - 1)
        raise InputError(self.path, f"row {row}: {message}", field=field)

    def _check(self) -> None:
        """Every row's lists agree in length and every index is in range."""
        ids, node_offsets = self._lists["node_ids"]
        for name in ("node_types", "node_scores"):
            if not np.array_equal(self._lists[name][1], node_offsets):
                row = int(np.flatnonzero(self._lists[name][1] != node_offsets)[0]) - 1
                raise InputError(self.path, f"row {max(row, 0)}: length differs from node_ids", field=name)
        edge_offsets = self._lists["edge_src"][1]
        for name in ("edge_dst", "edge_type"):
            if not np.array_equal(self._lists[name][1], edge_offsets):
                row = int(np.flatnonzero(self._lists[name][1] != edge_offsets)[0]) - 1
                raise InputError(self.path, f"row {max(row, 0)}: length differs from edge_src", field=name)
        types = self._lists["node_types"][0]
        if (bad := np.flatnonzero((types < 0) | (types >= self.num_node_types))).size:
            self._fail("node_types", node_offsets, bad[0], f"node type {types[bad[0]]} out of range")
        if self.num_edge_types is not None:
            etypes = self._lists["edge_type"][0]
            if (bad := np.flatnonzero((etypes < 0) | (etypes >= self.num_edge_types))).size:
                self._fail("edge_type", edge_offsets, bad[0], f"edge type {etypes[bad[0]]} out of range")
        sizes = np.repeat(np.diff(node_offsets), np.diff(edge_offsets))
        for name in ("edge_src", "edge_dst"):
            pos = self._lists[name][0]
            if (bad := np.flatnonzero((pos < 0) | (pos >= sizes))).size:
                self._fail(name, edge_offsets, bad[0], f"node position {pos[bad[0]]} out of range")
        limit = len(self._embeddings) if self._embeddings is not None else np.iinfo(np.int32).max
        if (bad := np.flatnonzero((ids < -1) | (ids >= limit))).size:
            self._fail("node_ids", node_offsets, bad[0], f"node id {ids[bad[0]]} out of range for the embeddings")

    def _group(self, question_ids: list[str]) -> list[tuple[str, list[int], int]]:
        """(question id, its rows in choice order, gold position) in order of first appearance."""
        rows: dict[str, list[int]] = {}
        for row, qid in enumerate(question_ids):
            rows.setdefault(qid, []).append(row)
        out = []
        for qid, members in rows.items():
            members.sort(key=lambda r: self._choice[r])
            gold = [i for i, r in enumerate(members) if self._is_gold[r]]
            out.append((qid, members, gold[0] if gold else -1))
        return out

    def __len__(self) -> int:
        return len(self._questions)

    def _slice(self, name: str, row: int) -> np.ndarray:
        values, offsets = self._lists[name]
        return values[offsets[row]: offsets[row + 1]]

    def graph(self, row: int) -> Data:
        """The ``Data`` of table row ``row``."""
        ids = self._slice("node_ids", row)
        data = Data(
            node_ids=torch.from_numpy(ids.astype(np.int64)),
            node_type=torch.from_numpy(self._slice("node_types", row).astype(np.int64)),
            node_score=torch.from_numpy(self._slice("node_scores", row).astype(np.float32)).unsqueeze(1),
            edge_index=torch.from_numpy(np.stack([self._slice("edge_src", row), self._slice("edge_dst", row)])
                                        .astype(np.int64)),
            edge_type=torch.from_numpy(self._slice("edge_type", row).astype(np.int64)),
            choice=torch.tensor([int(self._choice[row])]),
            is_gold=torch.tensor([bool(self._is_gold[row])]),
            num_nodes=len(ids),
        )
        if self._embeddings is not None:  # numpy: torch's threaded gather costs more than it saves here
            x = self._embeddings[np.maximum(ids, 0)]
            x[ids < 0] = 0.0
            data.x = torch.from_numpy(x)
        return data

    def __getitem__(self, index: int) -> QuestionGraphs:
        qid, rows, label = self._questions[index]
        return QuestionGraphs(qid, [self.graph(r) for r in rows], label)


def graph_shape(graphs_dir: str | Path, embeddings: str | Path) -> tuple[int, int]:
    """(node feature width, number of edge types) of a task's subgraphs (``<graphs_dir>/train.parquet``)
    with these concept embeddings: what a KG-LM's GNN is sized by."""
    path = Path(graphs_dir) / "train.parquet"
    stage = f"subgraph@{Path(graphs_dir).name}"
    if not path.is_file():
        raise InputError(path, f"missing file (run {stage} first)")
    info = graph_info(pq.read_schema(path))
    if "num_edge_types" not in info:
        raise InputError(path, f"no kg_ml.subgraph metadata (rerun {stage})", field="num_edge_types")
    return int(load_embeddings(embeddings).vectors.shape[1]), int(info["num_edge_types"])
