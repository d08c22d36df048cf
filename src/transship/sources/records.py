"""A batch source over rows already converted in Python (API responses, spreadsheets).

Connectors whose input is small and irregular (JSON pages, xlsx sheets) build canonical row
dicts and hand them to `RowsSource`, which yields typed Arrow batches for `Warehouse.ingest`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from transship.schema import SOURCE_COLUMNS

# Arrow types of the canonical columns (the warehouse casts VARCHAR to its ENUMs).
_DOUBLES = ("value_usd", "net_kg", "qty")


class RowsSource:
    """`BatchSource` over canonical rows: a list of dicts (every SOURCE_COLUMNS key, period a
    `date`), or the same as `columns`, one list per column (less memory for large inputs)."""

    def __init__(
        self,
        source: str,
        input_name: str,
        rows: Sequence[Mapping[str, Any]] = (),
        *,
        columns: Mapping[str, Sequence[Any]] | None = None,
        parameters: Mapping[str, object],
        sha256: str | None = None,
        rows_read: int | None = None,
        rows_rejected: int = 0,
        keys_unique: bool = False,
        batch_rows: int = 100_000,
    ) -> None:
        self.source = source
        self.input_name = input_name
        self.parameters = parameters
        if columns is None:
            columns = {c: [r[c] for r in rows] for c in SOURCE_COLUMNS}
        self.columns = columns
        n = len(columns["source"])
        self.num_rows = n
        self.rows_read = n if rows_read is None else rows_read
        self.rows_rejected = rows_rejected
        self.bytes_done = 0
        self.bytes_total: int | None = n or None  # progress counts rows here
        self.sha256 = sha256
        self.keys_unique = keys_unique  # True: the warehouse may skip its duplicate-key check
        self.has_levels = False  # True: some rows are aggregates (TOTAL, HS2, HS4), see staging
        self._batch_rows = batch_rows
        self._table: Any = None

    @classmethod
    def from_arrow(cls, source: str, input_name: str, table: Any, **kwargs: Any) -> RowsSource:
        """Over a pyarrow Table that has the SOURCE_COLUMNS (extra columns are dropped)."""
        src = cls(source, input_name, columns={c: [] for c in SOURCE_COLUMNS}, **kwargs)
        src._table = table.select(list(SOURCE_COLUMNS))
        src.num_rows = table.num_rows
        src.rows_read = kwargs.get("rows_read") or table.num_rows
        src.bytes_total = table.num_rows or None
        return src

    def batches(self) -> Iterator[Any]:
        import pyarrow as pa

        types = {c: pa.float64() if c in _DOUBLES else pa.string() for c in SOURCE_COLUMNS}
        types["period"] = pa.date32()
        if self._table is not None:
            done = 0
            for batch in self._table.to_batches(max_chunksize=self._batch_rows):
                done += batch.num_rows
                self.bytes_done = done
                yield batch
            return
        for start in range(0, self.num_rows, self._batch_rows):
            stop = min(start + self._batch_rows, self.num_rows)
            arrays = [
                pa.array(self.columns[c][start:stop], types[c]).dictionary_encode()
                if types[c] == pa.string()
                else pa.array(self.columns[c][start:stop], types[c])
                for c in SOURCE_COLUMNS
            ]
            self.bytes_done = stop
            yield pa.RecordBatch.from_arrays(arrays, names=list(SOURCE_COLUMNS))

    def to_pylist(self) -> list[dict[str, Any]]:
        """The rows as dicts (tests, small inputs)."""
        if self._table is not None:
            rows: list[dict[str, Any]] = self._table.to_pylist()
            return rows
        return [{c: self.columns[c][i] for c in SOURCE_COLUMNS} for i in range(self.num_rows)]
