"""The PyG dataset and collate over subgraph Parquet (kg_ml.graphs.dataset)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from torch.utils.data import DataLoader

from kg_ml.errors import InputError
from kg_ml.graphs.build import subgraph_columns
from kg_ml.graphs.dataset import SubgraphDataset, collate
from kg_ml.graphs.extract import SubgraphExtractor
from kg_ml.graphs.schema import graph_schema
from kg_ml.io import write_parquet
from kg_ml.kg import KnowledgeGraph

EDGES = [(0, 0, 2), (1, 1, 2), (0, 2, 3), (3, 0, 1), (4, 1, 0)]
# (question, choice, gold?, question concepts, answer concepts); q1's rows are stored out of choice order
STATEMENTS = [("q1", 1, False, [0], [4]), ("q1", 0, True, [0], [1]), ("q1", 2, False, [0], [3]),
              ("q2", 0, False, [], []), ("q2", 1, True, [4], [2])]
DIM = 4


def write_graphs(path: Path) -> np.ndarray:
    """A subgraph table of STATEMENTS over a 5-node, 3-relation graph; returns the embeddings."""
    h, r, t = (np.array(c) for c in zip(*EDGES))
    kg = KnowledgeGraph(names=list("abcde"), texts=list("abcde"), relation_names=["x", "y", "z"],
                        head=h.astype(np.int32), relation=r.astype(np.int16), tail=t.astype(np.int32),
                        weight=np.ones(len(h), np.float32))
    vectors = np.arange(5 * DIM, dtype=np.float32).reshape(5, DIM) + 1
    fn = lambda ids: np.where(ids >= 0, vectors[np.maximum(ids, 0), 0], 0.0).astype(np.float32)
    graphs = SubgraphExtractor(kg).extract_batch([(q, a) for *_, q, a in STATEMENTS], [fn] * len(STATEMENTS))
    rows = pa.table({"statement_id": [f"{q}:{c}" for q, c, *_ in STATEMENTS],
                     "question_id": [s[0] for s in STATEMENTS], "choice": pa.array([s[1] for s in STATEMENTS], pa.int8()),
                     "is_gold": [s[2] for s in STATEMENTS]})
    schema = graph_schema("toy", 3, 200, "cosine")
    write_parquet(pa.table(subgraph_columns(rows, graphs), schema=schema), path)
    return vectors


@pytest.fixture
def table(tmp_path: Path) -> tuple[Path, np.ndarray]:
    path = tmp_path / "train.parquet"
    return path, write_graphs(path)


def test_items_are_questions_with_choices_in_order(table) -> None:
    path, vectors = table
    ds = SubgraphDataset(path, vectors)
    assert len(ds) == 2 and ds.num_edge_types == 10 and ds.num_node_types == 4
    q1 = ds[0]
    assert q1.question_id == "q1" and q1.label == 0 and [int(g.choice) for g in q1.graphs] == [0, 1, 2]
    g = q1.graphs[0]  # q1:0: question a=0, answer b=1, extras d=3 and c=2 (by score)
    assert g.node_ids.tolist() == [-1, 0, 1, 3, 2] and g.node_type.tolist() == [0, 1, 2, 3, 3]
    assert g.num_nodes == 5 and g.node_score.shape == (5, 1) and g.node_score.dtype == torch.float32
    assert torch.equal(g.x[0], torch.zeros(DIM)) and torch.equal(g.x[1:], torch.from_numpy(vectors[[0, 1, 3, 2]]))
    assert g.edge_index.dtype == torch.long and g.edge_index.shape == (2, g.edge_type.numel())
    assert int(g.edge_index.max()) < g.num_nodes and g.edge_type.max() < 10 and bool(g.is_gold)
    assert ds[1].label == 1 and ds[1].graphs[0].node_ids.tolist() == [-1]


def test_collate_batches_questions(table) -> None:
    path, vectors = table
    ds = SubgraphDataset(path, torch.from_numpy(vectors).half())
    batch = next(iter(DataLoader(ds, batch_size=2, collate_fn=collate)))
    assert batch.question_ids == ["q1", "q2"]
    assert batch.labels.tolist() == [0, 1] and batch.num_choices.tolist() == [3, 2]
    assert batch.graph_question.tolist() == [0, 0, 0, 1, 1]
    graphs = batch.graphs
    sizes = [g.num_nodes for q in (ds[0], ds[1]) for g in q.graphs]
    assert graphs.num_graphs == 5 and graphs.ptr.tolist() == np.concatenate([[0], np.cumsum(sizes)]).tolist()
    assert graphs.x.shape == (sum(sizes), DIM) and graphs.x.dtype == torch.float32
    assert graphs.node_type.shape == graphs.node_ids.shape == (sum(sizes),)
    # edge_index is offset per graph: every edge stays inside its own graph
    assert torch.equal(graphs.batch[graphs.edge_index[0]], graphs.batch[graphs.edge_index[1]])
    assert graphs.edge_type.numel() == graphs.edge_index.shape[1]
    assert graphs.is_gold.tolist() == [True, False, False, False, True]
    moved = batch.to("cpu")
    assert moved.graphs.num_graphs == 5


def test_without_embeddings_x_is_left_to_the_model(table) -> None:
    ds = SubgraphDataset(table[0])
    assert "x" not in ds[0].graphs[0] and ds[0].graphs[0].node_ids[0] == -1


def test_bad_tables_fail_naming_row_and_field(table, tmp_path: Path) -> None:
    path, vectors = table
    with pytest.raises(InputError, match="node id 4 out of range for the embeddings"):
        SubgraphDataset(path, vectors[:4])
    t = pq.read_table(path)
    src = t.column("edge_src").to_pylist()
    src[2][0] = 99
    bad = tmp_path / "bad.parquet"
    pq.write_table(t.set_column(t.schema.get_field_index("edge_src"), "edge_src", pa.array(src, pa.list_(pa.int32()))),
                   bad)
    with pytest.raises(InputError, match=r"bad.parquet: field 'edge_src': row 2: node position 99 out of range"):
        SubgraphDataset(bad)
    pq.write_table(t.drop_columns(["edge_type"]), bad)
    with pytest.raises(InputError, match=r"missing column\(s\) \['edge_type'\]"):
        SubgraphDataset(bad)
    with pytest.raises(InputError, match="run subgraph first"):
        SubgraphDataset(tmp_path / "none.parquet")
