"""Tables out: a Rich table on a terminal, or CSV / JSON / Parquet / xlsx for other programs.

One function, `emit`, so every command writes the same way:

- ``out``'s suffix names the format (.csv .json .parquet .xlsx); files are written through
  `transship.safepath` (never over the warehouse, its WAL or an input; atomically);
- CSV and xlsx text cells a spreadsheet would run as a formula are neutralised;
- terminal tables fit the width without cutting a number (text columns wrap; when the numbers
  alone do not fit, one block per row); an empty result says so and why; totals where asked.

`OutputOptions` (``--quiet``, ``--notes``, ``--limit`` in the CLI) live in a context variable
set once per command, so commands need not pass them down.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from transship import safepath
from transship.errors import ParameterError

Format = Literal["table", "csv", "json", "parquet", "xlsx"]
FILE_FORMATS: dict[str, Format] = {
    ".csv": "csv",
    ".json": "json",
    ".parquet": "parquet",
    ".xlsx": "xlsx",
}


@dataclass(frozen=True)
class OutputOptions:
    quiet: bool = False  # results only: no progress, notes or messages
    notes: bool = False  # every note, not the one-line summary
    limit: int | None = None  # rows shown or written (None: all)


_DEFAULT = OutputOptions()
_options: ContextVar[OutputOptions | None] = ContextVar("transship_output", default=None)


def options() -> OutputOptions:
    return _options.get() or _DEFAULT


@contextlib.contextmanager
def using(opts: OutputOptions) -> Iterator[OutputOptions]:
    token = _options.set(opts)
    try:
        yield opts
    finally:
        _options.reset(token)


def resolve_format(fmt: str | None, out: Path | None, *, parameter: str = "out") -> Format:
    """The format to write: `fmt` if given (not "table"), else the one `out`'s suffix names."""
    if out is None:
        if fmt == "xlsx":
            raise ParameterError(parameter, "xlsx is a file format; name a FILE.xlsx")
        return fmt or "table"  # type: ignore[return-value]
    named = FILE_FORMATS.get(out.suffix.lower())
    if fmt in (None, "table"):
        if named is None:
            raise ParameterError(
                parameter,
                f"{out}: name the file .csv, .json, .parquet or .xlsx (its suffix picks the "
                "format), or give the format",
            )
        return named
    if named is not None and named != fmt:
        raise ParameterError(parameter, f"{out} names {named} but the format asked is {fmt}")
    return fmt  # type: ignore[return-value]


# -- cells ----------------------------------------------------------------------------------
def _label_column(column: str) -> bool:
    """Integer columns that name something (a year, a sequence number), not an amount."""
    return column in ("year", "seq", "id") or column.endswith(("_year", "_seq", "_id"))


def _cell(v: Any, column: str = "") -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if column.endswith("usd"):
            return f"{v:,.0f}"  # dollar amounts in whole dollars, zero included
        if v != 0 and abs(v) < 0.01:
            return f"{v:.2g}"  # small shares and p-values keep their digits
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"
    if isinstance(v, int):
        return str(v) if _label_column(column) else f"{v:,}"
    if isinstance(v, date | datetime):
        return v.isoformat()
    return str(v)


def _numeric(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _json_value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None  # NaN / Infinity are not JSON
    return v


def _plain(v: Any) -> Any:
    """A value a CSV or spreadsheet cell can hold (lists and dicts as JSON text)."""
    if isinstance(v, list | dict):
        return json.dumps(v, default=str, ensure_ascii=False)
    return v


# -- emit -----------------------------------------------------------------------------------
def emit(
    rows: Sequence[dict[str, Any]] | Any,
    fmt: str | None = None,
    *,
    out: Path | None = None,
    title: str | None = None,
    caption: str | None = None,
    inputs: Iterable[str | Path] = (),
    parameter: str = "out",
    totals: Sequence[str] = (),
    empty: str | None = None,
) -> None:
    """Write rows (a list of dicts or a pyarrow Table) as `fmt` to `out` or stdout.

    `fmt` None or "table" with `out` takes the format from the suffix. `inputs` are files
    the command read (never overwritten); `parameter` names where `out` came from. `totals`
    are columns summed in a total row of the terminal table; `empty` says why a result
    can be empty (shown with "no matching rows").
    """
    if out is not None:  # refused before anything else is said about it
        safepath.check_target(out, parameter=parameter, inputs=inputs)
    kind = resolve_format(fmt, out, parameter=parameter)
    opts = options()
    table: Any = rows if hasattr(rows, "to_pylist") else None
    records: list[dict[str, Any]] | None = None if table is not None else list(rows)
    total_rows = table.num_rows if table is not None else len(records or [])
    if opts.limit is not None and total_rows > opts.limit:
        if table is not None:
            table = table.slice(0, opts.limit)
        else:
            records = (records or [])[: opts.limit]
    if kind == "table":
        recs = records if records is not None else table.to_pylist()
        from transship.termtable import print_table

        print_table(recs, title, caption, totals, empty, shown_of=total_rows)
        return
    if total_rows == 0:
        message(f"no matching rows{': ' + empty if empty else ''}")
    if kind == "parquet":
        if out is None:
            raise ParameterError(parameter, "parquet is a file format; name a FILE.parquet")
        import pyarrow as pa
        import pyarrow.parquet as pq

        data = table if table is not None else pa.Table.from_pylist(records or [])
        safepath.write_with(
            out, lambda tmp: pq.write_table(data, tmp), parameter=parameter, inputs=inputs
        )
        return
    if kind == "xlsx":
        assert out is not None  # resolve_format insists on a file
        columns, values = _columns_values(table, records)
        safepath.write_with(
            out,
            lambda tmp: _write_xlsx(tmp, columns, values, title),
            parameter=parameter,
            inputs=inputs,
        )
        return
    buf = io.StringIO()
    if kind == "csv":
        # CRLF rows (RFC 4180) so that a CR inside a cell is quoted too; None -> empty field
        w = csv.writer(buf, lineterminator="\r\n")
        if table is not None:  # column-wise: no dict per row; text neutralised in Arrow
            table = safepath.safe_table(table)
            w.writerow(safepath.safe_row(table.column_names))
            w.writerows(zip(*(_csv_column(c) for c in table.columns), strict=True))
        elif records:
            columns = list(records[0])
            w.writerow(safepath.safe_row(columns))
            w.writerows(safepath.safe_row(_plain(r.get(c)) for c in columns) for r in records)
    elif kind == "json":
        recs = records if records is not None else table.to_pylist()
        json.dump(
            [{k: _json_value(v) for k, v in r.items()} for r in recs],
            buf,
            default=str,
            ensure_ascii=False,
            indent=1,
        )
        buf.write("\n")
    else:
        raise ParameterError("format", f"unknown format {kind!r}")
    if out is None:
        sys.stdout.write(buf.getvalue())
    else:
        safepath.write_bytes(
            out, buf.getvalue().encode("utf-8"), parameter=parameter, inputs=inputs
        )


def _csv_column(column: Any) -> list[Any]:
    """A column's Python values for a CSV writer: nested values as (neutralised) JSON."""
    import pyarrow as pa

    values = column.to_pylist()
    t = column.type
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_struct(t):
        return [safepath.safe_cell(_plain(v)) for v in values]
    return list(values)


def _columns_values(table: Any, records: list[dict[str, Any]] | None) -> tuple[list[str], Any]:
    if table is not None:
        names = list(table.column_names)
        return names, zip(*(c.to_pylist() for c in table.columns), strict=True)
    recs = records or []
    names = list(recs[0]) if recs else []
    return names, ([r.get(c) for c in names] for r in recs)


def _xlsx_format(values: list[Any]) -> str | None:
    nums = [v for v in values if _numeric(v) and math.isfinite(v)]
    if not nums:
        return None
    if all(isinstance(v, int) for v in nums):
        return "#,##0"
    return "#,##0" if max(abs(v) for v in nums) >= 100 else "#,##0.00##"


def _write_xlsx(path: Path, columns: list[str], rows: Iterable[Sequence[Any]], title: Any) -> None:
    """One sheet, bold frozen header, number formats per column, text neutralised."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_sheet_name(title))
    ws.freeze_panes = "A2"  # the header stays in view
    data = [list(r) for r in rows]
    sample = data[:1000]
    formats = [_xlsx_format([r[i] for r in sample]) for i in range(len(columns))]
    widths = [
        min(60, max([len(c)] + [len(_cell(r[i])) for r in sample]) + 2)
        for i, c in enumerate(columns)
    ]
    for i, w in enumerate(widths):
        ws.column_dimensions[_col_letter(i)].width = w
    bold = Font(bold=True)
    header = []
    for c in columns:
        cell = WriteOnlyCell(ws, value=safepath.safe_cell(c))
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for r in data:
        out_row: list[Any] = []
        for i, v in enumerate(r):
            if isinstance(v, str):  # the common case, without a styled cell object
                out_row.append(safepath.safe_cell(v))
                continue
            v = _plain(v)
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            elif isinstance(v, datetime) and v.tzinfo is not None:
                v = v.replace(tzinfo=None)  # xlsx has no time zones; values are UTC
            fmt = (
                formats[i]
                if _numeric(v)
                else "yyyy-mm-dd hh:mm:ss"
                if isinstance(v, datetime)
                else "yyyy-mm-dd"
                if isinstance(v, date)
                else None
            )
            if fmt is None:
                out_row.append(safepath.safe_cell(v))
                continue
            cell = WriteOnlyCell(ws, value=v)
            cell.number_format = fmt
            out_row.append(cell)
        ws.append(out_row)
    wb.save(path)


def _sheet_name(title: Any) -> str:
    bad = set("[]:*?/\\")
    name = "".join(ch for ch in str(title or "data") if ch not in bad).strip("'")
    return name[:31] or "data"


def _col_letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(i + 1))


# -- terminal -------------------------------------------------------------------------------
def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr)


def paragraph(text: str, lead: str = "") -> str:
    """`text` wrapped to the terminal's width, after `lead`, later lines indented under it."""
    import textwrap

    return textwrap.fill(
        text, width=max(_console().width, 40), initial_indent=lead,
        subsequent_indent=" " * len(lead), break_long_words=False, break_on_hyphens=False,
    )  # fmt: skip


def message(text: str) -> None:
    """A one-line message on stderr (suppressed by --quiet)."""
    if not options().quiet:
        _console(stderr=True).print(text, highlight=False, soft_wrap=True, markup=False)


def print_notes(notes: Sequence[str], *, synthetic: bool, full: bool = False) -> None:
    """The SYNTHETIC label (always), then the notes: one line by default, all with `full`
    (--notes), none with --quiet."""
    opts = options()
    err = _console(stderr=True)
    if synthetic:
        err.print(
            "[bold yellow]SYNTHETIC[/]: these figures come from generated data, not real trade."
        )
    if opts.quiet or not notes:
        return
    if full or opts.notes or len(notes) == 1:
        for note in notes:
            _note(err, note)
        return
    more = f"{len(notes) - 1} more note" + ("s" if len(notes) > 2 else "")
    hint = "" if "--notes" in notes[0] else ": --notes shows all"
    _note(err, f"{notes[0]} (and {more}{hint})")


def _note(err: Any, text: str) -> None:
    # at a terminal wrapped at words, under its "note: "; piped, one line a note (for grep)
    shown = paragraph(text, "note: ") if err.is_terminal else f"note: {text}"
    err.print(shown, highlight=False, soft_wrap=True, style="dim", markup=False)
