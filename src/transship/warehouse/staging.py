"""Ingest paths through a staging table: national codes summed to HS6, aggregate levels.

A source declares what its rows need (the connector contract, `schema.BatchSource`):
- `sums_to_hs6`: rows carry `hs_national` (6-12 digits) and `_line`; the rows of one natural
  key are summed (`insert_staged`), the detail optionally kept in `hs_national`;
- `has_levels`: some rows are aggregates (TOTAL, 2- and 4-digit codes). They are stored in
  `trade_levels` with their `level`, never in trade_flows under a fake `hs` code that no
  `--products` accepts, so trade_flows' natural key keeps meaning one HS6 product.
Everything runs inside the caller's transaction.
"""

from __future__ import annotations

from typing import Any

from transship.errors import InputError
from transship.schema import NATURAL_KEY, ROW_KEY, STORED_COLUMNS

# Aggregate product levels: what trade_flows would hold under a non-HS6 code, kept apart.
# Natural key: (source, reporter, partner, flow, level, code, hs_rev, period, freq).
LEVELS_DDL = """
CREATE TABLE IF NOT EXISTS trade_levels (
    source VARCHAR NOT NULL,
    reporter VARCHAR NOT NULL,
    partner VARCHAR NOT NULL,
    flow VARCHAR NOT NULL,
    level VARCHAR NOT NULL,  -- TOTAL (all products), HS2 (chapter), HS4 (heading)
    code VARCHAR NOT NULL,  -- TOTAL, the chapter (85) or the heading (8542)
    hs_rev VARCHAR NOT NULL,
    period DATE NOT NULL,
    freq VARCHAR NOT NULL,
    value_usd DOUBLE NOT NULL,
    net_kg DOUBLE,
    valuation VARCHAR NOT NULL,
    batch_id VARCHAR NOT NULL
)"""
LEVEL_KEY = ("source", "reporter", "partner", "flow", "level", "code", "hs_rev", "period", "freq")
_IS_HS6 = "regexp_full_match(hs, '[0-9]{6}')"


def move_levels(con: Any, batch_id: str, input_name: str) -> list[str]:
    """Move the staged aggregate rows into trade_levels (replacing older rows of their key)."""
    n = con.execute(f"SELECT count(*) FROM _stage WHERE NOT {_IS_HS6}").fetchone()
    if not n or not n[0]:
        return []
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _levels AS SELECT source, reporter, partner, flow, "
        "CASE WHEN hs = 'TOTAL' THEN 'TOTAL' WHEN regexp_full_match(hs, '[0-9]{2}') THEN 'HS2' "
        "WHEN regexp_full_match(hs, '[0-9]{4}') THEN 'HS4' END AS level, hs AS code, hs_rev, "
        "period, freq, value_usd, net_kg, valuation, ? AS batch_id "
        f"FROM _stage WHERE NOT {_IS_HS6}",
        [batch_id],
    )
    bad = con.execute("SELECT code FROM _levels WHERE level IS NULL LIMIT 1").fetchone()
    if bad:
        raise InputError("product code is neither HS6, a chapter, a heading nor TOTAL",
                         file=input_name, value=str(bad[0]))  # fmt: skip
    key = ", ".join(LEVEL_KEY)
    twice = con.execute(
        f"SELECT {key} FROM _levels GROUP BY ALL HAVING count(*) > 1 LIMIT 1"
    ).fetchone()
    if twice:
        shown = ", ".join(f"{k}={v}" for k, v in zip(LEVEL_KEY, twice, strict=True))
        raise InputError(f"the same aggregate key appears twice ({shown})", file=input_name)
    on = " AND ".join(f"o.{k} = n.{k}" for k in LEVEL_KEY)
    con.execute(f"DELETE FROM trade_levels o WHERE EXISTS (SELECT 1 FROM _levels n WHERE {on})")
    con.execute("INSERT INTO trade_levels SELECT * FROM _levels")
    counts = con.execute("SELECT level, count(*) FROM _levels GROUP BY ALL ORDER BY ALL").fetchall()
    con.execute("DROP TABLE _levels")
    con.execute(f"DELETE FROM _stage WHERE NOT {_IS_HS6}")
    shown = ", ".join(f"{c:,} {lv}" for lv, c in counts)
    return [f"aggregate rows stored in table trade_levels, by level: {shown}"]


def insert_staged(
    con: Any, batch: tuple[str, int], input_name: str, *, sum_codes: bool, keep: bool
) -> tuple[int, list[str]]:
    """Write the staged rows into trade_rows (batch: batch_id and number): summed per key,
    or as they are."""
    if sum_codes:
        return sum_national(con, batch, input_name, keep)
    cols = ", ".join(c.name for c in STORED_COLUMNS)
    got = con.execute(f"INSERT INTO trade_rows SELECT ?, {cols} FROM _stage", [batch[1]]).fetchone()
    con.execute("DROP TABLE _stage")
    return (int(got[0]) if got else 0), []


# National codes (6-12 digits) of a batch that sums them to HS6 (sources with
# `sums_to_hs6` and `keep_national`): the detail behind each summed trade_flows row.
NATIONAL_DDL = """
CREATE TABLE IF NOT EXISTS hs_national (
    batch_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    reporter VARCHAR NOT NULL,
    partner VARCHAR NOT NULL,
    flow VARCHAR NOT NULL,
    hs VARCHAR NOT NULL,  -- the HS6 row of trade_flows it was summed into
    hs_rev VARCHAR NOT NULL,
    period DATE NOT NULL,
    freq VARCHAR NOT NULL,
    hs_national VARCHAR NOT NULL,  -- the code as reported (7-12 digits)
    value_usd DOUBLE NOT NULL,
    net_kg DOUBLE,
    qty DOUBLE,
    qty_unit VARCHAR
)"""


def sum_national(
    con: Any, batch: tuple[str, int], input_name: str, keep: bool
) -> tuple[int, list[str]]:
    """Sum the staged rows of each natural key (national codes -> HS6) into trade_rows.

    A key's own six-digit row, where the file has one, is its total: used instead of
    its longer codes, never added to them (as Comext's HS6 rows). Weights and quantities
    are summed only when every part has one (and quantities share one unit); a partial
    sum would look complete.
    """
    key = ", ".join(NATURAL_KEY)
    row = con.execute(
        f"SELECT {key}, hs_national, count(*), max(_line) FROM _stage "
        "GROUP BY ALL HAVING count(*) > 1 LIMIT 1"
    ).fetchone()
    if row:
        shown = ", ".join(f"{k}={v}" for k, v in zip(NATURAL_KEY, row, strict=False))
        code = f", code {row[-3]}" if len(row[-3]) > 6 else ""
        raise InputError(
            f"the same natural key appears {row[-2]} times ({shown}{code}); "
            "one input may hold each key once",
            file=input_name,
            line=int(row[-1]) if row[-1] is not None else None,
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _parts AS SELECT * FROM _stage s WHERE "
        "length(hs_national) = 6 OR NOT EXISTS (SELECT 1 FROM _stage t WHERE "
        "length(t.hs_national) = 6 AND " + " AND ".join(f"t.{k} = s.{k}" for k in NATURAL_KEY) + ")"
    )
    both = con.execute(
        "SELECT (SELECT count(*) FROM _stage) - (SELECT count(*) FROM _parts)"
    ).fetchone()
    con.execute("DROP TABLE _stage")
    batch_id, batch_no = batch
    rows = ", ".join(ROW_KEY)  # source is the batch's (one source a batch)
    got = con.execute(
        f"INSERT INTO trade_rows (batch, {rows}, value_usd, net_kg, qty, qty_unit, valuation) "
        f"SELECT ?, {rows}, sum(value_usd), "
        "CASE WHEN count(net_kg) = count(*) THEN sum(net_kg) END, "
        "CASE WHEN count(qty) = count(*) AND count(DISTINCT qty_unit) <= 1 THEN sum(qty) END, "
        "CASE WHEN count(DISTINCT qty_unit) = 1 THEN min(qty_unit) END, "
        f"min(valuation) FROM _parts GROUP BY {key}",
        [batch_no],
    ).fetchone()
    written = int(got[0]) if got else 0
    n_codes, n_keys = con.execute(
        "SELECT count(*), count(DISTINCT (" + key + ")) FROM _parts WHERE length(hs_national) > 6"
    ).fetchone() or (0, 0)
    notes = []
    if both and both[0]:
        notes.append(
            f"{both[0]:,} national codes left out: their HS6 row in the file is the total "
            "(used instead, not added)"
        )
    if n_codes:
        notes.append(f"{n_codes:,} national codes (7-12 digits) summed into {n_keys:,} HS6 rows")
    if keep and n_codes:
        con.execute(
            f"INSERT INTO hs_national SELECT ?, {key}, hs_national, value_usd, net_kg, qty, "
            "qty_unit FROM _parts WHERE length(hs_national) > 6",
            [batch_id],
        )
        notes.append(f"{n_codes:,} national codes kept in table hs_national")
    con.execute("DROP TABLE _parts")
    return written, notes
