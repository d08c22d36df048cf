"""Comext files (relational-view, bulk and long CSV; xlsx workbooks) loaded as text into one
DuckDB table `raw(f, line, <RAW_FIELDS>)`; the kind of file is told by its header."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path
from typing import Any

from transship.errors import InputError, UsageError
from transship.sources.comext_fields import product_code

# Canonical raw fields -> the column that holds them, per format (named in errors).
RELATIONAL = {
    "reporter": "REPORTER",
    "partner": "PARTNER",
    "product": "PRODUCT",
    "flow": "FLOW",
    "period": "PERIOD",
    "value": "VALUE_IN_EUR",
}
BULK = {
    "reporter": "DECLARANT_ISO",
    "partner": "PARTNER_ISO",
    "product": "PRODUCT_NC",
    "flow": "FLOW",
    "period": "PERIOD",
    "value": "VALUE_IN_EUROS",
}
LONG = {
    "reporter": "reporter",
    "partner": "partner",
    "product": "product_code",
    "period": "period",
    "value": "value_eur",
}
XLSX = {**RELATIONAL, "period": "TIME", "value": "value cell"}
RAW_FIELDS = ("reporter", "partner", "product", "flow", "period", "value", "kg", "part", "proc")


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(4096)


def _header(path: Path) -> tuple[list[str], str, bool]:
    """Column names, delimiter and whether the file is gzip-compressed."""
    first = _head(path)
    gz = first[:2] == b"\x1f\x8b"
    if gz:
        with gzip.open(path, "rb") as fh:
            first = fh.read(4096)
    line = first.split(b"\n", 1)[0].decode("utf-8-sig", "replace").rstrip("\r")
    delim = max((",", ";", "\t", "|"), key=line.count)
    return [h.strip() for h in next(csv.reader([line], delimiter=delim))], delim, gz


class RawReader:
    """Loads each file's values, as text, into `raw(f, line, <RAW_FIELDS>)`."""

    def __init__(self, con: Any, flow: str | None) -> None:
        self.con = con
        self.flow = flow
        self.files: list[tuple[str, dict[str, str]]] = []  # (label, field -> column)
        con.execute(
            "CREATE TABLE raw (f INTEGER, line BIGINT, "
            + ", ".join(f"{c} VARCHAR" for c in RAW_FIELDS)
            + ")"
        )

    def add(self, path: Path, sheets: Any = None) -> None:
        """Load one file; `sheets` are its workbook's tables when read ahead (xlsx_pool)."""
        if _head(path)[:2] == b"PK":
            if path.suffix.lower() not in (".xlsx", ".xlsm"):
                raise InputError(
                    "zip archives are not read; unpack the Comext file first", file=str(path)
                )
            self._xlsx(path, sheets)
        else:
            self._csv(path)

    def _csv(self, path: Path) -> None:
        import duckdb

        header, delim, gz = _header(path)
        name = str(path)
        if all(c in header for c in RELATIONAL.values()):
            cols = dict(RELATIONAL)
            extra = {"proc": "STAT_PROCEDURE"} if "STAT_PROCEDURE" in header else {}
        elif all(c in header for c in BULK.values()):
            cols = dict(BULK)
            extra = {
                k: v for k, v in (("kg", "QUANTITY_IN_KG"), ("part", "STAT_REGIME")) if v in header
            }
        elif all(c in header for c in LONG.values()):
            cols = dict(LONG)
            if "flow" in header:
                cols["flow"] = "flow"
            elif self.flow is None:
                raise UsageError(
                    f"{name} has no flow column: give " + "{flow} export or import",
                    params=("flow",),
                )
            extra = {}
        else:
            raise InputError(
                "not a Comext file: expected the relational-view columns "
                f"({', '.join(RELATIONAL.values())}), the bulk columns "
                f"({', '.join(BULK.values())}) or {', '.join(LONG.values())}; "
                f"the header has {', '.join(header)}",
                file=name,
                line=1,
            )
        f = len(self.files)
        self.files.append((name, {**cols, **extra}))
        sources = {**cols, **extra}

        def expr(fld: str) -> str:
            if fld in sources:
                return '"' + sources[fld].replace('"', '""') + '"'
            if fld == "flow":
                return "?"
            return "NULL"

        select = ", ".join(f"{expr(c)} AS {c}" for c in RAW_FIELDS)
        params: list[Any] = [self.flow] if "flow" not in sources else []
        try:
            # row_number follows file order: DuckDB keeps insertion order on a fresh connection
            self.con.execute(
                f"INSERT INTO raw SELECT {f}, row_number() OVER () + 1, {select} FROM read_csv(?, "
                "header = true, all_varchar = true, delim = ?, quote = '\"', escape = '\"', "
                f"compression = '{'gzip' if gz else 'none'}', strict_mode = true)",
                [*params, name, delim],
            )
        except duckdb.Error as e:
            first = str(e).splitlines()[0]
            raise InputError(f"cannot read as CSV: {first}", file=name) from None

    def _xlsx(self, path: Path, sheets: Any = None) -> None:
        import pyarrow as pa

        from transship.sources.comext_xlsx import xlsx_tables

        parts = []
        for label, sheet in sheets if sheets is not None else xlsx_tables(path, product_code):
            f = len(self.files)
            self.files.append((label, dict(XLSX)))
            parts.append(sheet.add_column(0, "f", pa.array([f] * sheet.num_rows, pa.int64())))
        if not parts:
            return
        table = pa.concat_tables(parts)  # one insert a workbook: a DuckDB call per sheet costs
        n = table.num_rows
        for c in ("kg", "part", "proc"):
            table = table.append_column(c, pa.nulls(n, pa.string()))
        self.con.register("_xlsx", table.select(["f", "line", *RAW_FIELDS]))
        try:
            self.con.execute("INSERT INTO raw SELECT * FROM _xlsx")
        finally:
            self.con.unregister("_xlsx")
