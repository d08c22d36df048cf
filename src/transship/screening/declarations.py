"""Customs declarations: the documented input schema and readers for CSV, Parquet and JSON.

Every value is read as text and checked row by row during screening (engine.py), so one
malformed declaration gets an error in its own output row and the others are still screened.
Columns not in the schema are kept and passed through to the output unchanged. JSON may
nest parties as {"exporter": {"name": ..., "country": ...}}; they are read as
exporter_name / exporter_country.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transship.errors import InputError
from transship.safepath import protect


@dataclass(frozen=True)
class Field:
    name: str
    required: bool
    doc: str


SCHEMA: tuple[Field, ...] = (
    Field("id", True, "declaration id (text), reported back with the decision"),
    Field("date", True, "declaration date, YYYY-MM-DD; rules apply by their validity dates"),
    Field("exporter_name", False, "exporter (consignor) name, screened against the lists"),
    Field("exporter_country", False, "exporter country: ISO alpha-2/alpha-3 or English name"),
    Field("consignee_name", False, "consignee name, screened against the lists"),
    Field("consignee_country", False, "consignee country (as exporter_country)"),
    Field("origin_country", True, "country of origin of the goods"),
    Field("destination_country", True, "country of destination"),
    Field(
        "hs_code",
        True,
        "HS code, 6 to 12 digits (national extensions allowed; dots and spaces ignored); "
        "rules match it by prefix, so 8542310010 falls under a rule on 854231",
    ),
    Field("description", False, "goods description (passed through)"),
    Field("value", False, "declared value, a number"),
    Field("currency", False, "ISO 4217 code of the value, e.g. USD"),
    Field("quantity", False, "quantity (passed through)"),
)
COLUMNS = tuple(f.name for f in SCHEMA)
REQUIRED = tuple(f.name for f in SCHEMA if f.required)
# Columns the screening output writes besides `id` (engine.OUTPUT_COLUMNS): an input column of
# the same name could not be passed through under its own name, so it is refused.
OUTPUT_NAMES = ("row", "decision", "rules", "hits", "reasons", "error")
# Internal columns carry this prefix. conform() refuses any input column name holding a control
# character, so no CSV header, JSON key or Parquet column can reach one (issue 12: an input
# `_load_error` once forced ERROR, `_destination_country` overrode the declared destination).
INTERNAL = "\x00"
LOAD_ERROR = INTERNAL + "load_error"  # CSV lines that could not be split into the header's fields


def is_internal(name: str) -> bool:
    return name.startswith(INTERNAL)


def _as_text_table(table: Any, file: str) -> Any:
    """Flatten party structs and cast every column to text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    names = [c.replace(".", "_") for c in table.column_names]
    # Two columns of one name (a nested party and its flat field, or keys DuckDB cut at a
    # NUL) would be a KeyError below: refused, named, before either is read.
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(
            f"duplicate columns {dupes} (a nested field and a flat one, or names that differ "
            "only after a control character)",
            file=file,
            line=1,
        )
    table = table.rename_columns(names)
    cols = []
    for name, col in zip(names, table.columns, strict=True):
        if not pa.types.is_string(col.type):
            if pa.types.is_large_string(col.type) or pa.types.is_dictionary(col.type):
                col = col.cast(pa.string())
            else:
                try:
                    col = pc.cast(col, pa.string())
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    raise InputError(
                        f"cannot read column type {col.type} as text", file=file, column=name
                    ) from None
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def _refuse_hidden(name: str, file: str) -> None:
    """A column name with a control or invisible character (the internal prefix is one) is
    refused: no input name can reach an internal column."""
    if any(not ch.isprintable() for ch in name):
        raise InputError(
            f"column name {name!r} contains control or invisible characters", file=file, line=1
        )


def conform(table: Any, file: str = "<input>") -> Any:
    """Check required columns, add missing optional ones as nulls, all as text."""
    import pyarrow as pa

    table = _as_text_table(table, file)
    names = [n.strip() for n in table.column_names]
    table = table.rename_columns(names)
    for n in names:
        _refuse_hidden(n, file)
        if n in OUTPUT_NAMES:
            raise InputError(
                f"column {n!r} is a column screening writes ({', '.join(OUTPUT_NAMES)}); "
                "rename or drop it",
                file=file,
                line=1,
                column=n,
            )
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise InputError(
            f"missing required columns {missing} (schema: {', '.join(COLUMNS)})",
            file=file,
            line=1,
        )
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"duplicate columns {dupes}", file=file, line=1)
    for c in COLUMNS:
        if c not in names:
            table = table.append_column(c, pa.nulls(table.num_rows, pa.string()))
    return table


def read_declarations(path: Path, fmt: str = "auto") -> Any:
    """Declarations from CSV, Parquet or JSON (array or lines) as an all-text Arrow table."""
    import duckdb

    if not path.is_file():
        raise InputError("declarations file not found", file=str(path))
    protect(path)  # no output of this process (--out decisions) may overwrite it
    kind = fmt
    if kind == "auto":
        suffix = "".join(path.suffixes[-2:]).lower()
        kind = (
            "parquet"
            if suffix.endswith(".parquet")
            else "json"
            if suffix.endswith((".json", ".jsonl", ".ndjson"))
            else "csv"
        )
    _refuse_cut_names(path, kind)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        if kind == "csv":
            table = _read_csv(con, path)
        elif kind == "parquet":
            table = con.sql("SELECT * FROM read_parquet(?)", params=[str(path)]).to_arrow_table()
        elif kind == "json":
            table = con.sql(
                "SELECT * FROM read_json(?, format = 'auto')", params=[str(path)]
            ).to_arrow_table()
        else:
            raise InputError(f"unknown declarations format {fmt!r}", file=str(path))
    except duckdb.Error as e:
        raise InputError(
            f"cannot read as {kind}: {str(e).splitlines()[0]}", file=str(path)
        ) from None
    finally:
        con.close()
    if kind != "csv":
        return conform(table, str(path))
    table, errors = table
    # The reader's own column is added after conform(), which checked the input's names.
    return conform(table, str(path)).append_column(LOAD_ERROR, errors)


def _refuse_cut_names(path: Path, kind: str) -> None:
    """DuckDB cuts a JSON key or Parquet column name at a NUL (destination_country\\u0000x
    is read as destination_country): such names are refused before it reads the file, as
    conform() refuses control characters. A JSON file is parsed here only when it holds a
    \\u0000 escape at all."""
    if kind == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            names = pq.read_schema(path).names
        except (pa.ArrowInvalid, OSError):
            return  # not Parquet: DuckDB's error names the file
        for n in names:
            _refuse_hidden(n.strip(), str(path))
    elif kind == "json" and path.stat().st_size:
        import json
        import mmap

        with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            if m.find(b"\\u0000") < 0:
                return
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        try:
            docs = [json.loads(text)]
        except ValueError:  # JSON lines (or not JSON: DuckDB's error names the file)
            docs = []
            for line in text.splitlines():
                with contextlib.suppress(ValueError):
                    docs.append(json.loads(line))
        while docs:
            d = docs.pop()
            if isinstance(d, list):
                docs.extend(d)
            elif isinstance(d, dict):
                for k, v in d.items():
                    _refuse_hidden(str(k), str(path))
                    docs.append(v)


def _read_csv(con: Any, path: Path) -> tuple[Any, Any]:
    """Every column as text; lines with too many or too few fields become error rows
    (at the end, naming their line) instead of failing the file or being skipped."""
    import csv

    import pyarrow as pa

    with path.open(encoding="utf-8-sig", newline="") as fh:
        first = fh.readline()
    delim = max(",;\t|", key=first.count)
    header = next(csv.reader([first], delimiter=delim), [])
    if not header or not any(h.strip() for h in header):
        raise InputError("no header line", file=str(path), line=1)
    for h in header:  # before DuckDB reads them (it drops a NUL: a KeyError below)
        _refuse_hidden(h.strip(), str(path))
    cols = {h: "VARCHAR" for h in header}
    if len(cols) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise InputError(f"duplicate columns {dupes}", file=str(path), line=1)
    table = con.sql(
        "SELECT * FROM read_csv(?, header = true, columns = ?, auto_detect = false, "
        "delim = ?, quote = '\"', escape = '\"', store_rejects = true)",
        params=[str(path), cols, delim],
    ).to_arrow_table()
    rejects = con.sql(
        "SELECT line, error_type, error_message, csv_line FROM reject_errors ORDER BY line"
    ).fetchall()
    errors: list[str | None] = [None] * table.num_rows
    if rejects:
        bad: dict[str, list[Any]] = {c: [] for c in table.column_names}
        for line, kind, message, raw in rejects:
            fields = next(csv.reader([raw or ""], delimiter=delim), [])
            for i, c in enumerate(header):
                bad[c].append(fields[i] if i < len(fields) else None)
            errors.append(f"line {line}: {str(kind).lower()} ({message})")
        extra = pa.table({c: pa.array(v, pa.string()) for c, v in bad.items()})
        table = pa.concat_tables([table, extra])
    return table, pa.array(errors, pa.string())


def from_records(records: list[dict[str, Any]]) -> Any:
    """Declarations from JSON-like dicts (the HTTP API), same checks as files."""
    import pyarrow as pa

    records = [_flatten(r) for r in records]
    names: list[str] = []
    for r in records:
        for k in r:
            if k not in names:
                names.append(k)
    cols = {
        n: pa.array(
            [None if r.get(n) is None else str(r.get(n)) for r in records], type=pa.string()
        )
        for n in names
    }
    if not records:
        cols = {n: pa.array([], pa.string()) for n in COLUMNS}
    return conform(pa.table(cols))


def _flatten(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in record.items():
        items = (
            [(f"{k}_{sk}", sv) for sk, sv in _flatten(v).items()]
            if isinstance(v, dict)
            else [(k, v)]
        )
        for name, value in items:
            if name in out:
                # {"exporter": {"name": A}, "exporter_name": B}: which one was screened?
                raise InputError(f"field {name!r} given twice (nested and flat)", column=name)
            out[name] = value
    return out
