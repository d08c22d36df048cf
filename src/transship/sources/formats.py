"""Parquet and spreadsheet inputs as text batches for the tabular converters.

Every column is read as text, as a CSV would be, so one set of converters (tabular.py) checks
and names every bad cell whatever the file format. Rows are numbered as the user sees them:
a spreadsheet's row number (the header is row 1), a Parquet file's data row + 1 (as if it had
a header line). Spreadsheets are read with python-calamine (Rust; .xlsx, .xlsm, .xls, .ods).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transship.errors import InputError

TextBatches = Iterator[tuple[list[str], pa.RecordBatch, np.ndarray]]
_ROWS = 200_000  # rows per batch


def read_parquet(path: Path, wanted: Callable[[list[str]], list[str]]) -> TextBatches:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise InputError(f"not a readable Parquet file: {e}", file=str(path)) from None
    header = list(pf.schema_arrow.names)
    cols = [c for c in wanted(header) if c in header]
    done = 0
    for batch in pf.iter_batches(batch_size=_ROWS, columns=cols):
        n = batch.num_rows
        arrays = [_as_text(batch.column(c)) for c in cols]
        lines = np.arange(done + 2, done + 2 + n, dtype=np.int64)
        done += n
        yield header, pa.RecordBatch.from_arrays(arrays, names=cols), lines


def _as_text(a: pa.Array) -> pa.Array:
    """Text as a CSV would hold it: dates as YYYY-MM-DD, integers without a decimal point."""
    t = a.type
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return pc.strftime(a, format="%Y-%m-%d")
    if pa.types.is_dictionary(t):
        return _as_text(a.cast(t.value_type))
    if pa.types.is_floating(t):  # 8542310000.0 -> "8542310000", 1.5 -> "1.5"
        integral = pc.fill_null(pc.equal(pc.round(a), a), False)
        text = pc.if_else(
            integral, a.cast(pa.int64(), safe=False).cast(pa.string()), a.cast(pa.string())
        )
        return pc.if_else(pc.is_finite(a), text, a.cast(pa.string()))
    return a.cast(pa.string())


def read_xlsx(path: Path, wanted: Callable[[list[str]], list[str]]) -> TextBatches:
    """The first sheet: header in row 1, one row per record."""
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        rows = wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as e:  # calamine raises its own error types for broken workbooks
        raise InputError(f"not a readable spreadsheet: {e}", file=str(path)) from None
    if not rows:
        raise InputError("missing header: the sheet is empty", file=str(path), line=1)
    header = [cell_text(c).strip() for c in rows[0]]
    cols = [c for c in wanted(header) if c in header]
    idx = [header.index(c) for c in cols]
    for start in range(1, len(rows), _ROWS):
        chunk = rows[start : start + _ROWS]
        data = {
            c: pa.array([cell_text(r[i]) if i < len(r) else "" for r in chunk], pa.string())
            for c, i in zip(cols, idx, strict=True)
        }
        lines = np.arange(start + 1, start + 1 + len(chunk), dtype=np.int64)
        yield header, pa.RecordBatch.from_pydict(data), lines


def cell_text(v: Any) -> str:
    """A spreadsheet cell as text: whole floats without '.0' (codes), dates ISO."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)
