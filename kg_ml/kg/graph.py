"""Load a built graph (``data/kg/<kg>/``) as numpy edge arrays and CSR adjacency."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp

from kg_ml.errors import InputError

NODES_SCHEMA = pa.schema([("id", pa.int32()), ("name", pa.string()), ("text", pa.string())])
EDGES_SCHEMA = pa.schema([("head", pa.int32()), ("relation", pa.int16()), ("tail", pa.int32()),
                          ("weight", pa.float32())])
RELATIONS_SCHEMA = pa.schema([("id", pa.int16()), ("name", pa.string())])


class TypedAdjacency(NamedTuple):
    """Directed typed edges in CSR order: the out-edges of node ``u`` are
    ``indices[indptr[u]:indptr[u+1]]`` with types ``relations[...]``, sorted by (dst, type).
    Forward edges keep their relation id; the inverse of relation ``r`` is ``r + num_relations``."""

    indptr: np.ndarray  # int64, num_nodes + 1
    indices: np.ndarray  # int32
    relations: np.ndarray  # int16


def read_table(path: Path, schema: pa.Schema) -> pa.Table:
    """Read a Parquet table and check it has ``schema``'s columns with castable types."""
    if not path.is_file():
        raise InputError(path, "missing file (run build_kg first)")
    table = pq.read_table(path)
    if missing := [n for n in schema.names if n not in table.column_names]:
        raise InputError(path, f"missing column(s) {missing}")
    try:
        return table.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        raise InputError(path, f"unexpected column types: {e}") from None


@dataclass(frozen=True, eq=False)
class KnowledgeGraph:
    """A knowledge graph with forward typed edges; ids are row positions of nodes.parquet."""

    names: list[str]
    texts: list[str]
    relation_names: list[str]
    head: np.ndarray  # int32
    relation: np.ndarray  # int16
    tail: np.ndarray  # int32
    weight: np.ndarray  # float32

    @classmethod
    def load(cls, directory: str | Path) -> KnowledgeGraph:
        d = Path(directory)
        nodes = read_table(d / "nodes.parquet", NODES_SCHEMA)
        edges = read_table(d / "edges.parquet", EDGES_SCHEMA)
        relations = read_table(d / "relations.parquet", RELATIONS_SCHEMA)
        for path, table in ((d / "nodes.parquet", nodes), (d / "relations.parquet", relations)):
            ids = table.column("id").to_numpy()
            if (bad := np.flatnonzero(ids != np.arange(len(ids)))).size:
                raise InputError(path, f"row {bad[0]}: id {ids[bad[0]]} is not the row position", field="id")
        graph = cls(names=nodes.column("name").to_pylist(), texts=nodes.column("text").to_pylist(),
                    relation_names=relations.column("name").to_pylist(),
                    **{c: edges.column(c).to_numpy() for c in ("head", "relation", "tail", "weight")})
        graph.check(d / "edges.parquet")
        return graph

    def check(self, source: str | Path = "edges") -> None:
        """Every edge names existing nodes and relations."""
        for field, values, bound in (("head", self.head, self.num_nodes), ("tail", self.tail, self.num_nodes),
                                     ("relation", self.relation, self.num_relations)):
            if (bad := np.flatnonzero((values < 0) | (values >= bound))).size:
                raise InputError(source, f"row {bad[0]}: {values[bad[0]]} out of range 0..{bound - 1}", field=field)

    @property
    def num_nodes(self) -> int:
        return len(self.names)

    @property
    def num_relations(self) -> int:
        return len(self.relation_names)

    @property
    def num_edges(self) -> int:
        return len(self.head)

    def undirected_csr(self) -> sp.csr_matrix:
        """The simple undirected graph: symmetric, no self-loops, data 1 (int32), sorted indices."""
        return self._undirected

    def typed_csr(self) -> TypedAdjacency:
        """Forward and inverse typed edges grouped by source node."""
        return self._typed

    @cached_property
    def _undirected(self) -> sp.csr_matrix:
        rows = np.concatenate([self.head, self.tail])
        cols = np.concatenate([self.tail, self.head])
        keep = rows != cols
        m = sp.csr_matrix((np.ones(int(keep.sum()), np.int32), (rows[keep], cols[keep])),
                          shape=(self.num_nodes, self.num_nodes))
        m.sum_duplicates()  # parallel edges (several relations) collapse into one
        m.data[:] = 1
        m.sort_indices()
        return m

    @cached_property
    def _typed(self) -> TypedAdjacency:
        src = np.concatenate([self.head, self.tail]).astype(np.int64)
        dst = np.concatenate([self.tail, self.head])
        rel = np.concatenate([self.relation, self.relation + self.num_relations]).astype(np.int16)
        order = np.lexsort((rel, dst, src))
        indptr = np.zeros(self.num_nodes + 1, np.int64)
        np.cumsum(np.bincount(src, minlength=self.num_nodes), out=indptr[1:])
        return TypedAdjacency(indptr, dst[order].astype(np.int32), rel[order])
