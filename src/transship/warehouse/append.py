"""Appending a source's batches to trade_rows inside the caller's transaction.

Batches are read and converted in a thread (`prefetch`) while DuckDB writes. They reach
DuckDB as one Arrow stream per run of alike batches (`append_stream`), so one INSERT
statement writes many batches and DuckDB's threads write them in parallel, instead of one
statement a batch written by one thread. Columns that hold one value in every row of a run
(flow, hs_rev, valuation: constants of the file) are written as SQL constants: DuckDB
stores a constant for a fraction of what converting the Arrow column costs. A run whose flow,
hs_rev, freq and valuation are constant and that has no quantity goes to trade_rows_narrow,
those four stored once in the batch's ingest_batches row (warehouse/ddl.py). The batches'
`source` column is not stored (the batch's row holds it); it is checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import Any

import pyarrow as pa

from transship import compute as pc
from transship.ahead import prefetch as prefetch  # re-exported: the ingest's import
from transship.errors import InputError
from transship.schema import BATCH_CONSTANTS, NARROW_COLUMNS, STORED_COLUMNS, TRADE_FLOWS

_SQL_TYPES = {c.name: c.sql_type for c in TRADE_FLOWS}
_STORED = tuple(c.name for c in STORED_COLUMNS)
_NARROW = tuple(c.name for c in NARROW_COLUMNS)
ROW_GROUP_ROWS = 122_880  # DuckDB's row group size (its default, which transship keeps)
_MISSING = object()


def widen(lo: Any, hi: Any, batch: Any) -> tuple[Any, Any]:
    """The period range seen so far, widened by `batch`'s."""
    mm = pc.min_max(batch.column("period"))
    bmin, bmax = mm["min"].as_py(), mm["max"].as_py()
    if bmin is None:
        return lo, hi
    return (bmin if lo is None else min(lo, bmin), bmax if hi is None else max(hi, bmax))


def row_groups(
    batches: Iterator[pa.RecordBatch], rows: int = ROW_GROUP_ROWS
) -> Iterator[pa.RecordBatch]:
    """The batches re-cut into DuckDB row groups (`rows` rows each, the last short).

    DuckDB's threads each append whole Arrow batches; a batch that does not end on a row
    group boundary leaves a part-filled one, and the checkpoint at close rewrites the table
    to merge them (seconds, and much of the table in memory). Slices copy nothing; only the
    rows joining one batch's tail to the next one's head are copied.
    """
    tail: pa.RecordBatch | None = None
    for b in batches:
        if not b.num_rows:
            continue
        if tail is not None:
            if tail.schema != b.schema:  # cannot be joined (another type): written as is
                yield tail
            else:
                need = rows - tail.num_rows
                joined = pa.concat_batches([tail, b.slice(0, need)])
                b = b.slice(min(need, b.num_rows))
                if joined.num_rows < rows:  # still short: wait for more rows
                    tail = joined
                    continue
                yield joined
            tail = None
        full = b.num_rows - b.num_rows % rows
        for start in range(0, full, rows):
            yield b.slice(start, rows)
        if full < b.num_rows:
            tail = b.slice(full)
    if tail is not None:
        yield tail


def constant_columns(batch: pa.RecordBatch) -> dict[str, object]:
    """Columns holding one value (or only nulls) in every row: a dictionary array using one
    entry (sources write their constants so), or an all-null column."""
    out: dict[str, object] = {}
    for name, col in zip(batch.schema.names, batch.columns, strict=True):
        if name not in _SQL_TYPES or not len(col):
            continue
        if col.null_count == len(col):
            out[name] = None
        elif isinstance(col, pa.DictionaryArray) and not col.null_count:
            if len(col.dictionary) == 1:
                out[name] = col.dictionary[0].as_py()
            elif len(col.dictionary) <= 8:  # a fixed vocabulary (freq's M, A): one used?
                mm = pc.min_max(col.indices)
                if mm["min"] == mm["max"]:
                    out[name] = col.dictionary[mm["min"].as_py()].as_py()
    return out


def check_source(batch: pa.RecordBatch, source: str, consts: dict[str, object]) -> None:
    """Every row of `batch` is of `source` (the batch's, which is all trade_rows stores)."""
    if "source" in consts:
        same = consts["source"] == source
    else:
        same = bool(pc.all(pc.equal(batch.column("source"), source)).as_py())
    if not same:
        raise InputError(f"a batch of source {source!r} holds rows of another source")


def append_stream(
    con: Any,
    batches: Iterator[pa.RecordBatch],
    batch: tuple[int, str],
    on_batch: Callable[[pa.RecordBatch], None],
) -> None:
    """INSERT every batch into trade_rows (`batch`: its number and source): one statement
    per run of batches sharing their schema and constant columns. `on_batch` sees each
    batch before DuckDB writes it."""
    batch_no, source = batch
    narrow_as: dict[str, object] | None = None  # the batch's constants, once it has some
    failure: list[BaseException] = []
    batches = row_groups(batches)
    nxt = next(batches, None)
    while nxt is not None:
        first: pa.RecordBatch = nxt
        nxt = None
        consts = constant_columns(first)
        schema = first.schema
        following: list[pa.RecordBatch] = []

        def run(
            first: pa.RecordBatch = first,
            consts: dict[str, object] = consts,
            following: list[pa.RecordBatch] = following,
        ) -> Iterator[pa.RecordBatch]:
            b: pa.RecordBatch | None = first
            try:
                check_source(first, source, consts)
                while b is not None:
                    on_batch(b)
                    yield b
                    b = next(batches, None)
                    if b is not None and (
                        b.schema != first.schema or constant_columns(b) != consts
                    ):
                        following.append(b)  # starts the next statement
                        return
                    if b is not None and "source" not in consts:
                        check_source(b, source, consts)
            except BaseException as e:  # DuckDB sees only a failed stream: keep the cause
                failure.append(e)
                raise

        fixed = {c: consts.get(c) for c in BATCH_CONSTANTS}
        narrow = (
            None not in fixed.values()
            and all(c in consts and consts[c] is None for c in ("qty", "qty_unit"))
            and narrow_as in (None, fixed)
        )
        if narrow and narrow_as is None:  # stored once, in the batch's row
            narrow_as = fixed
            con.execute(
                "UPDATE ingest_batches SET "
                + ", ".join(f"{c} = ?" for c in BATCH_CONSTANTS)
                + " WHERE batch_no = ?",
                [*fixed.values(), batch_no],
            )
        select, params = [], []
        for c in _NARROW if narrow else _STORED:
            value = consts.get(c, _MISSING)
            if value is _MISSING:
                select.append(c)
            elif value is None:
                select.append(f"NULL::{_SQL_TYPES[c]}")
            else:
                select.append(f"CAST(? AS {_SQL_TYPES[c]})")
                params.append(value)
        reader = pa.RecordBatchReader.from_batches(schema, run())
        con.register("_incoming", reader)
        try:
            con.execute(
                f"INSERT INTO {'trade_rows_narrow' if narrow else 'trade_rows'} "
                f"SELECT ?, {', '.join(select)} FROM _incoming",
                [batch_no, *params],
            )
        except Exception:
            if failure:
                raise failure[0] from None
            raise
        finally:
            with suppress(Exception):  # an aborted transaction refuses it; the view is gone
                con.unregister("_incoming")
        if failure:  # a stream that failed after DuckDB stopped reading it
            raise failure[0]
        nxt = following[0] if following else None
