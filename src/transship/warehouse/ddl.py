"""The warehouse's tables, the trade_flows view, and the schema version (with its upgrade).

Schema version 2 stores no column that is constant per batch. `batch` numbers the row of
ingest_batches that wrote a row; that row holds the source and batch_id. Rows go to
- trade_rows_narrow when flow, revision, freq and valuation are the batch's (stored in its
  ingest_batches row) and no row has a quantity: a BACI file, 7 columns;
- trade_rows otherwise (every other column).
trade_flows is a view over both, with the columns and order of version 1
(schema.TRADE_FLOWS), so every reader (analyses, cube, dashboard, export) is unchanged.
DuckDB spends about as long writing a constant column as a varying number column: writing
a 10M-row BACI file took ~2 CPU s less than the 14 columns of version 1.
"""

from __future__ import annotations

from typing import Any

from transship.errors import WarehouseError
from transship.schema import (
    BATCH_CONSTANTS,
    ENUMS,
    NARROW_COLUMNS,
    STORED_COLUMNS,
    TRADE_FLOWS,
    Column,
)
from transship.warehouse.staging import LEVELS_DDL, NATIONAL_DDL

SCHEMA_VERSION = 2

BATCHES_DDL = """
CREATE TABLE IF NOT EXISTS ingest_batches (
    batch_id VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,
    parameters JSON,
    input_name VARCHAR,
    input_sha256 VARCHAR,
    rows_read BIGINT,
    rows_written BIGINT,
    rows_replaced BIGINT,
    rows_rejected BIGINT,
    started TIMESTAMP NOT NULL,  -- UTC
    finished TIMESTAMP,  -- UTC
    status VARCHAR NOT NULL,  -- running | ok | failed | aborted | skipped | replaced
    error VARCHAR,
    transship_version VARCHAR,
    batch_no INTEGER,  -- the `batch` of its rows (max + 1 at insert: one writer a file)
    -- of its rows in trade_rows_narrow (null if it has none)
    flow flow_t,
    hs_rev hs_rev_t,
    freq freq_t,
    valuation valuation_t
)"""

# Ground truth of the synthetic generator's injected scenarios: the cells each one changed.
# A labelled ingest (a source with a `labels` table) replaces all labels in its transaction.
LABELS_DDL = """
CREATE TABLE IF NOT EXISTS scenario_labels (
    batch_id VARCHAR NOT NULL,  -- the ingest that wrote the labelled rows
    scenario VARCHAR NOT NULL,  -- scenario id in its YAML file
    kind VARCHAR NOT NULL,  -- reroute | phantom_exports | misdeclare | block
    role VARCHAR NOT NULL,  -- the leg changed, e.g. origin_to_hub, hub_to_target, phantom
    hub VARCHAR,  -- the hub the scheme runs through (null for misdeclare)
    exporter VARCHAR NOT NULL,
    importer VARCHAR NOT NULL,
    hs2022 VARCHAR NOT NULL,
    side VARCHAR NOT NULL,  -- export (the exporter's record) | import (the importer's)
    period_start DATE NOT NULL,  -- first and last changed month
    period_end DATE NOT NULL,
    cells INTEGER NOT NULL  -- changed monthly cells between them
)"""


def _cols(columns: tuple[Column, ...]) -> str:
    return "".join(
        f",\n    {c.name} {c.sql_type}{'' if c.nullable else ' NOT NULL'}" for c in columns
    )


ROWS_DDL = (
    f"CREATE TABLE IF NOT EXISTS trade_rows (\n    batch INTEGER NOT NULL{_cols(STORED_COLUMNS)}\n)"
)
NARROW_DDL = (
    "CREATE TABLE IF NOT EXISTS trade_rows_narrow "
    f"(\n    batch INTEGER NOT NULL{_cols(NARROW_COLUMNS)}\n)"
)
_NARROW = {c.name for c in NARROW_COLUMNS}
_FROM_BATCH = ("source", "batch_id")
_FULL_SELECT = ", ".join(f"{'b' if c.name in _FROM_BATCH else 'r'}.{c.name}" for c in TRADE_FLOWS)
_NARROW_SELECT = ", ".join(
    f"r.{c.name}" if c.name in _NARROW
    else f"NULL::{c.sql_type} AS {c.name}" if c.name in ("qty", "qty_unit")
    else f"b.{c.name}"
    for c in TRADE_FLOWS
)  # fmt: skip
VIEW_DDL = (
    f"CREATE OR REPLACE VIEW trade_flows AS SELECT {_FULL_SELECT} "
    "FROM trade_rows r JOIN ingest_batches b ON b.batch_no = r.batch "
    f"UNION ALL SELECT {_NARROW_SELECT} "
    "FROM trade_rows_narrow r JOIN ingest_batches b ON b.batch_no = r.batch"
)
# the tables create_schema makes (an open that finds them all, and the view, runs no DDL)
TABLES = ("trade_rows", "trade_rows_narrow", "ingest_batches", "scenario_labels",
          "trade_levels", "hs_national", "transship_meta")  # fmt: skip


def create_schema(con: Any, path: object) -> None:
    """Make what is missing (one commit), upgrade a version 1 warehouse, check the version."""
    types = {r[0] for r in con.execute("SELECT type_name FROM duckdb_types()").fetchall()}
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    views = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE view_name = 'trade_flows'"
    ).fetchone()
    if set(ENUMS) <= types and set(TABLES) <= tables and views and views[0]:
        # Every open of an existing warehouse comes here: no DDL then, since each
        # statement would commit on its own (a WAL write and sync each, ~30 ms an open).
        check_version(con, path)
        return
    # Version 1 stored the rows in a table trade_flows, with the view's columns: read-only
    # opens read it as it is; the first writable open upgrades it.
    old = "trade_flows" in tables
    con.execute("BEGIN TRANSACTION")  # a new warehouse's schema (or the upgrade) in one commit
    try:
        _ddl(con, types, upgrade=old)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    check_version(con, path)


def _ddl(con: Any, types: set[str], *, upgrade: bool) -> None:
    for name, values in ENUMS.items():
        if name not in types:
            literals = ", ".join("'" + v + "'" for v in values)
            con.execute(f"CREATE TYPE {name} AS ENUM ({literals})")
    if upgrade:
        _upgrade_v1(con)
    con.execute(BATCHES_DDL)
    con.execute(ROWS_DDL)
    con.execute(NARROW_DDL)
    con.execute(VIEW_DDL)
    con.execute(LABELS_DDL)
    con.execute(NATIONAL_DDL)
    con.execute(LEVELS_DDL)
    con.execute(
        "CREATE TABLE IF NOT EXISTS transship_meta (key VARCHAR PRIMARY KEY, value VARCHAR)"
    )
    row = con.execute("SELECT value FROM transship_meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        con.execute(
            "INSERT INTO transship_meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
        )


def _upgrade_v1(con: Any) -> None:
    """Version 1 -> 2: number the batches, move the rows to trade_rows, make the view."""
    for name, sql_type in (("batch_no", "INTEGER"), *((c, f"{c}_t") for c in BATCH_CONSTANTS)):
        con.execute(f"ALTER TABLE ingest_batches ADD COLUMN {name} {sql_type}")
    con.execute(
        "UPDATE ingest_batches SET batch_no = x.n FROM (SELECT batch_id, "
        "row_number() OVER (ORDER BY started, batch_id) AS n FROM ingest_batches) x "
        "WHERE x.batch_id = ingest_batches.batch_id"
    )
    con.execute(ROWS_DDL)
    cols = ", ".join(f"t.{c.name}" for c in STORED_COLUMNS)
    con.execute(
        f"INSERT INTO trade_rows SELECT b.batch_no, {cols} FROM trade_flows t "
        "JOIN ingest_batches b USING (batch_id)"
    )
    con.execute("DROP TABLE trade_flows")
    con.execute(
        "UPDATE transship_meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)]
    )


def check_version(con: Any, path: object) -> None:
    row = con.execute("SELECT value FROM transship_meta WHERE key = 'schema_version'").fetchone()
    if row is not None and int(row[0]) != SCHEMA_VERSION:
        raise WarehouseError(
            f"{path} has schema version {row[0]}; this transship expects {SCHEMA_VERSION}"
        )
