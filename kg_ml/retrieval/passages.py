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


def passage_texts(table: pa.Table, *, include_title: bool, batch_rows: int = 65_536) -> Iterator[str]:
    """Texts to index, in table order: ``title\\ntext`` (Pyserini's contents) or just the text."""
    for batch in table.to_batches(max_chunksize=batch_rows):
        texts = batch.column("text").to_pylist()
        if include_title:
            yield from (f"{t}\n{x}" for t, x in zip(batch.column("title").to_pylist(), texts))
        else:
            yield from texts


def display_texts(table: pa.Table, rows: np.ndarray) -> list[str]:
    """``title\\ntext`` of the given rows: what the reranker reads for a passage."""
    picked = table.take(pa.array(rows, pa.int64()))
    return [f"{t}\n{x}" for t, x in zip(picked.column("title").to_pylist(), picked.column("text").to_pylist())]


def write_ids(index_dir: Path, ids: pa.Array | pa.ChunkedArray) -> None:
    write_parquet(pa.table({"id": ids}, schema=IDS_SCHEMA), index_dir / IDS_FILE)


def read_ids(index_dir: Path) -> pa.Array:
    path = index_dir / IDS_FILE
    if not path.is_file():
        raise InputError(path, "missing passage-id list of the index (run index_kb first)")
    return pq.read_table(path).column("id").combine_chunks()
