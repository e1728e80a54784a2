"""Deterministic Parquet writing: fixed schema, compression and row-group size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP_SIZE = 128 * 1024
_WRITE_OPTS: dict[str, Any] = {"compression": "zstd", "use_dictionary": True, "write_statistics": True}


class ParquetSink:
    """Stream record batches of one schema into a Parquet file.

    Rows are buffered to ``ROW_GROUP_SIZE`` so the row-group layout (and so the bytes) depends
    only on the data, not on how callers chunk it.
    """

    def __init__(self, path: str | Path, schema: pa.Schema) -> None:
        self.path = Path(path)
        self.schema = schema
        self.rows = 0
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._writer = pq.ParquetWriter(self.path, schema, **_WRITE_OPTS)

    def write(self, data: pa.Table | pa.RecordBatch | dict[str, list]) -> None:
        """Append a table, batch, or dict of columns (cast to the sink's schema)."""
        if isinstance(data, dict):
            data = pa.Table.from_pydict(data, schema=self.schema)
        elif isinstance(data, pa.RecordBatch):
            data = pa.Table.from_batches([data])
        table = data.cast(self.schema) if data.schema != self.schema else data
        for batch in table.to_batches():
            if batch.num_rows:
                self._pending.append(batch)
                self._pending_rows += batch.num_rows
        while self._pending_rows >= ROW_GROUP_SIZE:
            self._flush(ROW_GROUP_SIZE)

    def _flush(self, n: int) -> None:
        table = pa.Table.from_batches(self._pending, schema=self.schema)
        head, rest = table.slice(0, n), table.slice(n)
        self._writer.write_table(head, row_group_size=ROW_GROUP_SIZE)
        self.rows += head.num_rows
        self._pending = rest.combine_chunks().to_batches() if rest.num_rows else []
        self._pending_rows = rest.num_rows

    def close(self) -> None:
        if self._pending_rows:
            self._flush(self._pending_rows)
        self._writer.close()

    def __enter__(self) -> "ParquetSink":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()


def write_parquet(table: pa.Table, path: str | Path) -> None:
    """Write a whole table with the project's deterministic settings."""
    with ParquetSink(path, table.schema) as sink:
        sink.write(table)
