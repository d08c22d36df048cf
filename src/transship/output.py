"""Tables out: Rich table on a terminal, or CSV / JSON / Parquet for other programs."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from transship.errors import UsageError

Format = Literal["table", "csv", "json", "parquet"]


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"
    if isinstance(v, date | datetime):
        return v.isoformat()
    return str(v)


def emit(
    rows: Sequence[dict[str, Any]] | Any,
    fmt: Format,
    *,
    out: Path | None = None,
    title: str | None = None,
    caption: str | None = None,
) -> None:
    """Write rows (a list of dicts or a pyarrow Table) in `fmt` to `out` or stdout."""
    table: Any = None
    if hasattr(rows, "to_pylist"):
        table = rows
        if fmt in ("parquet", "csv"):  # written by Arrow, no Python rows
            records: list[dict[str, Any]] = []
        else:
            records = rows.to_pylist()
    else:
        records = list(rows)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")  # writes None as an empty field
        if table is not None:  # column-wise: no dict per row
            w.writerow(table.column_names)
            w.writerows(zip(*(c.to_pylist() for c in table.columns), strict=True))
        elif records:
            w.writerow(list(records[0]))
            w.writerows([r.get(c) for c in records[0]] for r in records)
        _write(buf, out)
        return
    if fmt == "parquet":
        if out is None:
            raise UsageError("--format parquet needs --out FILE")
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(table if table is not None else pa.Table.from_pylist(records), out)
        return
    if fmt == "table" and out is None:
        from rich.console import Console
        from rich.table import Table

        t = Table(title=title, caption=caption)
        columns = list(records[0]) if records else []
        for c in columns:
            numeric = any(isinstance(r.get(c), int | float) for r in records[:50])
            t.add_column(c, justify="right" if numeric else "left")
        for r in records:
            t.add_row(*(_cell(r.get(c)) for c in columns))
        Console().print(t)
        return
    buf = io.StringIO()
    if fmt == "json" or fmt == "table":
        json.dump(records, buf, default=str, ensure_ascii=False, indent=1)
        buf.write("\n")
    else:
        raise UsageError(f"unknown format {fmt!r}")
    _write(buf, out)


def _write(buf: io.StringIO, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(buf.getvalue())
    else:
        out.write_text(buf.getvalue(), encoding="utf-8")
