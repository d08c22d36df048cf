"""The canonical trade_flows schema (DESIGN.md), shared by sources, warehouse and analysis.

Closed vocabularies are DuckDB ENUMs in the warehouse: invalid values cannot be stored, and
the columns cost one byte a row instead of a string (Ibis and Parquet see plain strings).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

FLOWS = ("export", "import", "re-export", "re-import")
HS_REVISIONS = ("HS1992", "HS1996", "HS2002", "HS2007", "HS2012", "HS2017", "HS2022")
FREQS = ("M", "A")
VALUATIONS = ("FOB", "CIF")
# exporters report FOB, importers CIF (the default when a source does not say)
VALUATION_BY_FLOW = {"export": "FOB", "re-export": "FOB", "import": "CIF", "re-import": "CIF"}

ENUMS: dict[str, tuple[str, ...]] = {
    "flow_t": FLOWS,
    "hs_rev_t": HS_REVISIONS,
    "freq_t": FREQS,
    "valuation_t": VALUATIONS,
}


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    nullable: bool
    doc: str


TRADE_FLOWS: tuple[Column, ...] = (
    Column("source", "VARCHAR", False, "comtrade, baci, comext, csv, synthetic, or a csv --source"),
    Column("reporter", "VARCHAR", False, "ISO 3166 alpha-3 of the reporting country (WLD = world)"),
    Column("partner", "VARCHAR", False, "ISO alpha-3 of the partner"),
    Column("flow", "flow_t", False, "export, import, re-export, re-import"),
    Column("hs", "VARCHAR", False, "six-digit HS code, zero-padded, as reported"),
    Column("hs_rev", "hs_rev_t", False, "HS revision the code belongs to"),
    Column("period", "DATE", False, "first day of the month (freq M) or of the year (freq A)"),
    Column("freq", "freq_t", False, "M or A"),
    Column("value_usd", "DOUBLE", False, "trade value in US dollars (not thousands)"),
    Column("net_kg", "DOUBLE", True, "net weight in kilograms"),
    Column("qty", "DOUBLE", True, "supplementary quantity"),
    Column("qty_unit", "VARCHAR", True, "unit of qty"),
    Column("valuation", "valuation_t", False, "FOB (exports) or CIF (imports)"),
    Column("batch_id", "VARCHAR", False, "ingest batch that wrote the row"),
)

NATURAL_KEY = ("source", "reporter", "partner", "flow", "hs", "hs_rev", "period", "freq")

# trade_flows is a view. The rows are stored in trade_rows, which holds no column that is
# constant per batch: `batch` numbers the ingest_batches row, which holds source and
# batch_id (DuckDB spends as long writing a constant string column as a varying number one).
STORED_COLUMNS = tuple(c for c in TRADE_FLOWS if c.name not in ("source", "batch_id"))
# The natural key within one source (a batch belongs to one source).
ROW_KEY = tuple(k for k in NATURAL_KEY if k != "source")
# Rows whose flow, revision, freq and valuation are their batch's (stored once, in
# ingest_batches) and that carry no quantity go to trade_rows_narrow: a BACI file's rows.
BATCH_CONSTANTS = ("flow", "hs_rev", "freq", "valuation")
NARROW_COLUMNS = tuple(
    c for c in STORED_COLUMNS if c.name not in (*BATCH_CONSTANTS, "qty", "qty_unit")
)

# What a source produces: every column but batch_id, which the warehouse assigns.
SOURCE_COLUMNS = tuple(c.name for c in TRADE_FLOWS if c.name != "batch_id")


class BatchSource(Protocol):
    """What the warehouse ingests: a stream of canonical Arrow batches with provenance.

    Sources implement it; the warehouse consumes it; neither imports the other.
    Counters are updated while `batches()` runs. Optional capabilities, read with getattr
    and declared per connector in `sources.registry`: `keys_unique` (bool, set once read),
    `labels` (a pyarrow Table for scenario_labels), `sums_to_hs6` (batches carry
    `hs_national` and `_line`; rows of one key are summed) with `keep_national`, and
    `has_levels` (aggregate rows go to trade_levels; see warehouse.staging).
    """

    source: str
    input_name: str
    parameters: Mapping[str, object]
    rows_read: int
    rows_rejected: int
    bytes_done: int
    bytes_total: int | None
    sha256: str | None

    def batches(self) -> Iterator[Any]: ...  # pyarrow.RecordBatch with SOURCE_COLUMNS


def table_exists(con: Any, name: str) -> bool:
    """Whether the DuckDB connection `con` has a table (or view) called `name`."""
    row = con.execute(
        "SELECT (SELECT count(*) FROM duckdb_tables() WHERE table_name = $1) + "
        "(SELECT count(*) FROM duckdb_views() WHERE view_name = $1 AND NOT internal)",
        [name],
    ).fetchone()
    return bool(row and row[0])
