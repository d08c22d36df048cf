"""Comext web-export workbooks: one sheet per product, periods across, REPORTER x PARTNER down.

A sheet: PRODUCT, FLOW and INDICATORS rows (VALUE_IN_EUROS only), a TIME row naming the
period of each column, then one row per reporter and partner until the first blank row
(footnotes follow); `:` marks no data. Read with python-calamine (Rust). The header block is
parsed cell by cell; the data block, which holds nearly every cell, one column at a time with
list comprehensions and Arrow, so the Python cost per cell is a type check.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from transship.errors import InputError
from transship.sources.formats import cell_text

_MISSING = ("", ":", "-", "NA")  # Eurostat's "not available"
COLUMNS = ("line", "reporter", "partner", "product", "flow", "period", "value")
XlsxRow = tuple[str, int, str, str, str, str, str, str]
_WORKERS = min(2, os.cpu_count() or 1)  # workbooks read at once (see xlsx_pool)


def xlsx_tables(path: Path, code: Callable[[str], str]) -> Iterator[tuple[str, pa.Table]]:
    """(sheet label, table of COLUMNS as text) for every data sheet of a workbook."""
    from python_calamine import CalamineWorkbook

    name = str(path)
    try:
        wb = CalamineWorkbook.from_path(name)
    except Exception as e:  # calamine's own error types for broken workbooks
        raise InputError(f"not a readable xlsx workbook: {e}", file=name) from None
    titles = [t for t in wb.sheet_names if t not in ("Summary", "Structure")]

    def parse(title: str) -> list[list[Any]]:
        rows: list[list[Any]] = wb.get_sheet_by_name(title).to_python(skip_empty_area=False)
        return rows

    try:
        for title in titles:
            label = f"{name} [{title}]"
            yield label, _sheet(parse(title), label, code)
    finally:
        wb.close()


def read_workbook(path: str) -> list[tuple[str, pa.Table]]:
    """Every data sheet of one workbook (run in a worker process by `xlsx_pool`)."""
    from transship.sources.comext_fields import product_code

    return list(xlsx_tables(Path(path), product_code))


@contextmanager
def xlsx_pool(books: list[Path]) -> Iterator[Callable[[Path], Any]]:
    """Read several workbooks in worker processes (calamine holds the GIL, so threads would
    not overlap); yields a lookup path -> its sheets (None: read it in this process). A
    worker's error (naming file and row) is raised when its workbook is asked for."""
    workers = min(_WORKERS, len(books))
    if workers < 2:
        yield lambda _: None
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # fork (spawn would re-run the caller's main module): comext_source starts the pool
    # before it opens its DuckDB connection, and the workers only run calamine and Arrow
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
        futures = {p: pool.submit(read_workbook, str(p)) for p in books}
        try:
            yield lambda p: futures[p].result() if p in futures else None
        finally:
            for f in futures.values():
                f.cancel()


def xlsx_rows(path: Path, code: Callable[[str], str]) -> Iterator[XlsxRow]:
    """(sheet, row, reporter, partner, product, flow, period, value) of every data cell."""
    for label, t in xlsx_tables(path, code):
        for r in t.to_pylist():
            yield (label, *(r[c] for c in COLUMNS))


def _sheet(rows: list[list[Any]], name: str, code: Callable[[str], str]) -> pa.Table:
    product = flow = None
    periods: list[tuple[int, str]] = []
    start = None
    for i, row in enumerate(rows):
        head = cell_text(row[0]).strip() if row else ""
        value = cell_text(row[2]) if len(row) > 2 else ""
        line = i + 1
        if head.startswith("PRODUCT"):
            product = code(value)
        elif head == "FLOW":
            flow = value
        elif head == "INDICATORS" and "EURO" not in value.upper():
            raise InputError("only VALUE_IN_EUROS sheets are read", file=name, line=line,
                             value=value)  # fmt: skip
        elif head == "TIME":
            periods = [(j, cell_text(c)) for j, c in enumerate(row[2:], start=2)
                       if cell_text(c).strip()]  # fmt: skip
        elif head.startswith("REPORTER"):
            if product is None or flow is None or not periods:
                raise InputError("sheet lacks its PRODUCT, FLOW or TIME rows", file=name,
                                 line=line)  # fmt: skip
            start = i + 1
            break
    if start is None or product is None or flow is None:
        return pa.table({c: pa.array([], pa.int64() if c == "line" else pa.string())
                         for c in COLUMNS})  # fmt: skip
    end = start
    while end < len(rows):  # the data block ends at the first blank row (footnotes follow)
        r = rows[end]
        if len(r) < 2 or _blank(r[0]) or _blank(r[1]):
            break
        end += 1
    block = rows[start:end]
    cols = [j for j, _ in periods]
    # every cell of the block, row by row, in one object array: numpy's C loops then find the
    # missing cells and read the floats, so no Python code runs per cell on the usual sheet
    if len(cols) > 1 and all(len(r) > cols[-1] for r in block):
        flat = list(chain.from_iterable(map(itemgetter(*cols), block)))
    else:
        flat = [r[j] if j < len(r) else "" for r in block for j in cols]
    cells = np.empty(len(flat), dtype=object)
    cells[:] = flat
    missing = cells == ":"  # one pass for Eurostat's usual marker; the others only if needed
    cells[missing] = np.nan
    values: np.ndarray | None = None
    text: list[str] | None = None
    try:
        values = cells.astype(np.float64)
    except (TypeError, ValueError):  # other text: kept as written, so the checks name it
        text = [cell_text(v).strip() for v in flat]
        missing = np.array([t in _MISSING for t in text], dtype=bool)
    keep = np.flatnonzero(~missing)
    width = len(cols)
    at_row, at_col = keep // width, keep % width
    if values is not None:
        value = pa.array(values[keep]).cast(pa.string())
    else:
        assert text is not None
        value = pa.array([text[k] for k in keep], pa.string())
    reps = pa.array([_text(r[0]) for r in block], pa.string())
    pars = pa.array([_text(r[1]) for r in block], pa.string())
    labels = pa.array([p for _, p in periods], pa.string())
    n = len(keep)
    return pa.table({
        "line": pa.array(at_row + start + 1, pa.int64()),
        "reporter": reps.take(pa.array(at_row)),
        "partner": pars.take(pa.array(at_row)),
        "product": pa.array([product] * n, pa.string()),
        "flow": pa.array([flow] * n, pa.string()),
        "period": labels.take(pa.array(at_col)),
        "value": value,
    })  # fmt: skip


def _blank(v: Any) -> bool:
    return v == "" or v is None or (v.__class__ is str and not v.strip())


def _text(v: Any) -> str:
    return v if v.__class__ is str else cell_text(v)
