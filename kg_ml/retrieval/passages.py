"""The knowledge-base passages table and the passage-id order that every index shares.

Index row ``i`` is row ``i`` of passages.parquet; each index directory keeps that order in
``ids.parquet`` so results map back to DPR passage ids without the passages table.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kg_ml.errors import InputError
from kg_ml.io import write_parquet

IDS_FILE = "ids.parquet"
IDS_SCHEMA = pa.schema([("id", pa.string())])
_COLUMNS = ("id", "title", "text")


def read_passages(path: str | Path) -> pa.Table:
    """passages.parquet (id, title, text), checked for the columns and for nulls."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "missing passages table (run prepare@knowledge_base first)")
    table = pq.read_table(path)
    for name in _COLUMNS:
        if name not in table.column_names:
            raise InputError(path, "missing column", field=name)
        nulls = table.column(name).null_count
        if nulls:
            row = pc.index(pc.is_null(table.column(name)), True).as_py()
            raise InputError(path, f"null value ({nulls} in all)", line=row + 1, field=name)
    if table.num_rows == 0:
        raise InputError(path, "no passages")
    return table.select(list(_COLUMNS))


def passage_count(path: str | Path) -> int:
    """Rows of passages.parquet, from its footer (nothing else is read)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "missing passages table (run prepare@knowledge_base first)")
    return pq.ParquetFile(path).metadata.num_rows


def _check_batch(path: Path, batch: pa.RecordBatch, first_row: int) -> None:
    for name in _COLUMNS:
        if name not in batch.schema.names:
            raise InputError(path, "missing column", field=name)
        col = batch.column(name)
        if col.null_count:
            row = pc.index(pc.is_null(col), True).as_py()
            raise InputError(path, f"null value ({col.null_count} in this batch)", line=first_row + row + 1,
                             field=name)


def stream_passages(path: str | Path, *, batch_rows: int = 65_536) -> Iterator[pa.RecordBatch]:
    """passages.parquet (id, title, text) batch by batch, checked as `read_passages` checks the
    whole table: what index_kb reads when the knowledge base is too large to hold."""
    path = Path(path)
    first = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows, columns=list(_COLUMNS)):
        _check_batch(path, batch, first)
        first += batch.num_rows
        yield batch


def batch_texts(part: pa.RecordBatch | pa.Table, *, include_title: bool = True) -> list[str]:
    """The one passage formatter: ``title\\ntext`` per row (Pyserini's contents, what BM25 and the
    dense encoder index and the reranker reads), or just the text."""
    texts = part.column("text").to_pylist()
    if include_title:
        return [f"{t}\n{x}" for t, x in zip(part.column("title").to_pylist(), texts)]
    return texts


IN_MEMORY_MAX = 1_000_000  # passages held as one table; above, texts are read from the file on demand


class InMemoryPassages:
    """The whole (checked) passages table: the knowledge bases up to `IN_MEMORY_MAX` (the sample)."""

    def __init__(self, path: str | Path) -> None:
        self.table = read_passages(path)
        self.num_rows = self.table.num_rows

    def ids(self) -> pa.Array:
        return self.table.column("id").combine_chunks()

    def display_texts(self, rows: np.ndarray) -> list[str]:
        return display_texts(self.table, rows)


def open_passages(path: str | Path) -> "InMemoryPassages | LazyPassages":
    """Passages for the query side (ids, texts of given rows): whole below `IN_MEMORY_MAX`, lazily
    above (DPR's 21M passages are ~13 GB as a table)."""
    if passage_count(path) > IN_MEMORY_MAX:
        return LazyPassages(path)
    return InMemoryPassages(path)


class LazyPassages:
    """Texts of given rows read from passages.parquet on demand (the row groups that hold them),
    for knowledge bases too large to load: retrieve@ reads only its rerank candidates."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.file = pq.ParquetFile(self.path)
        sizes = [self.file.metadata.row_group(i).num_rows for i in range(self.file.num_row_groups)]
        self.starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.num_rows = int(self.starts[-1])

    def ids(self) -> pa.Array:
        return pq.read_table(self.path, columns=["id"]).column("id").combine_chunks()

    def display_texts(self, rows: np.ndarray) -> list[str]:
        """``title\\ntext`` of ``rows`` (as `display_texts`), in the order given."""
        rows = np.asarray(rows, dtype=np.int64)
        out: list[str | None] = [None] * rows.size
        group = np.searchsorted(self.starts, rows, side="right") - 1
        for g in np.unique(group):
            at = np.flatnonzero(group == g)
            part = self.file.read_row_group(int(g), columns=["title", "text"])
            picked = part.take(pa.array(rows[at] - self.starts[g], pa.int64()))
            for i, text in zip(at.tolist(), batch_texts(picked)):
                out[i] = text
            del part, picked
            pa.default_memory_pool().release_unused()  # a decoded row group is ~40 MB of DPR text
        return out


def passage_texts(table: pa.Table, *, include_title: bool, batch_rows: int = 65_536) -> Iterator[str]:
    """Texts to index, in table order: ``title\\ntext`` (Pyserini's contents) or just the text."""
    for batch in table.to_batches(max_chunksize=batch_rows):
        yield from batch_texts(batch, include_title=include_title)


def display_texts(table: pa.Table, rows: np.ndarray) -> list[str]:
    """``title\\ntext`` of the given rows: what the reranker reads for a passage."""
    return batch_texts(table.take(pa.array(rows, pa.int64())))


def write_ids(index_dir: Path, ids: pa.Array | pa.ChunkedArray) -> None:
    write_parquet(pa.table({"id": ids}, schema=IDS_SCHEMA), index_dir / IDS_FILE)


def read_ids(index_dir: Path) -> pa.Array:
    path = index_dir / IDS_FILE
    if not path.is_file():
        raise InputError(path, "missing passage-id list of the index (run index_kb first)")
    return pq.read_table(path).column("id").combine_chunks()
