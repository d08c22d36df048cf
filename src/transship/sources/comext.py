"""Eurostat Comext (EU member states' trade, CN8, EUR) into the canonical schema (HS6, USD).

Formats read (the kind is told by the file, not its name):
- web "relational view" CSV: REPORTER, PARTNER, PRODUCT, FLOW, STAT_PROCEDURE, PERIOD,
  VALUE_IN_EUR, in its two real variants: quoted codes with labels (`"2-EXPORT"`,
  `"TOTAL-Total"`, `"202208-Aug. 2022"`, `"201952-Jan.-Dec. 2019"`) or labels alone (`EXPORT`,
  `Total`, `Aug. 2024`);
- web xlsx workbooks (read with python-calamine): one sheet per product ("PRODUCT [PRODUCT]"
  ... "[2106]"), periods across, REPORTER x PARTNER down, `:` for no data;
- bulk files (`full_YYYYMM.dat`, csv): DECLARANT_ISO, PARTNER_ISO, PRODUCT_NC, FLOW (1 import,
  2 export), PERIOD (YYYYMM, YYYY52 annual), VALUE_IN_EUROS, QUANTITY_IN_KG, one row per
  statistical regime (summed);
- long CSV: product_code, reporter, partner, period, value_eur (+ flow, or `--flow`).

Rules: CN8 codes are summed to their HS6 (the first six digits; CN of year Y is built on the HS
revision in force in Y). A six-digit row, where a file has one, is Eurostat's own total and is
used instead of its CN8 children, never added to them. Headings, chapters and TOTAL are
aggregates: left out (counted), or with `all_levels` stored by level in table trade_levels
(warehouse.staging), never summed into HS6 rows nor stored as a fake `hs` code. A file whose
rows are all aggregates (a relational view of product TOTAL) is refused without
`all_levels`, saying so. Values in EUR become USD at the ECB monthly average rate (reference data
eur_usd_monthly.csv); a period without a rate stops the ingest with the file and line.
Exports are FOB, imports CIF (Eurostat's valuation).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from transship import reference
from transship.errors import InputError, ParameterError, UsageError
from transship.reference.eurostat import comext_country, usd_per_eur
from transship.schema import VALUATION_BY_FLOW
from transship.sources.comext_fields import flow_of, period_of, product_code, product_level
from transship.sources.comext_read import RAW_FIELDS, RawReader
from transship.sources.records import RowsSource

_MISSING = ("", ":", "-", "NA")  # Eurostat's "not available"
_POS = 10_000_000_000  # a row's position as one number: file index * _POS + line
# exports FOB, imports CIF, as everywhere (schema.VALUATION_BY_FLOW), in SQL
_VALUATION = (
    "CASE o.flow "
    + " ".join(f"WHEN '{f}' THEN '{v}'" for f, v in VALUATION_BY_FLOW.items())
    + " END"
)


@dataclass
class ComextSummary:
    files: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    cn8_rows: int = 0
    hs6_rows: int = 0

    def notes(self) -> list[str]:
        out = [f"{n:,} {what}" for what, n in sorted(self.skipped.items())]
        if self.cn8_rows:
            out.append(f"{self.cn8_rows:,} CN8 values summed to HS6")
        return out


# -- resolving and aggregating -------------------------------------------------------------------
def _where(files: list[tuple[str, dict[str, str]]], pos: int, fld: str) -> dict[str, Any]:
    """file, line and column of a row position (file index * _POS + line)."""
    f, line = divmod(int(pos), _POS)
    name, cols = files[f]
    return {"file": name, "line": line, "column": cols.get(fld, fld)}


def comext_source(
    paths: Sequence[str | Path],
    *,
    flow: str | None = None,
    all_levels: bool = False,
) -> tuple[RowsSource, ComextSummary]:
    """All `paths` as one canonical batch source (HS6, USD), and what was left out.

    The values are read as text into an in-memory DuckDB table; each distinct label, code
    and period is resolved once in Python, and the sums are SQL, so large bulk files cost
    little Python time.
    """
    import duckdb

    if flow is not None and flow not in ("export", "import"):
        raise ParameterError("flow", f"{flow!r}: expected export or import")
    summary = ComextSummary()
    digest = hashlib.sha256()
    from transship.sources.comext_xlsx import xlsx_pool

    for path in paths:
        if not Path(path).is_file():
            raise UsageError(f"no such file: {path}")
    books = [Path(p) for p in paths if Path(p).suffix.lower() in (".xlsx", ".xlsm")]
    # the workers start before this process opens its own DuckDB connection
    with xlsx_pool(books) as ahead:
        con = duckdb.connect()
        try:
            reader = RawReader(con, flow)
            for path in paths:
                p = Path(path)
                summary.files.append(str(p))
                with p.open("rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        digest.update(chunk)
                reader.add(p, ahead(p))
            src = _resolve(con, reader.files, summary, all_levels)
        finally:
            con.close()
    names = [Path(p).name for p in paths]
    src.input_name = names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"
    src.sha256 = digest.hexdigest()
    src.parameters = {
        "files": [str(p) for p in paths],
        "flow": flow,
        "all_levels": all_levels,
        "currency": "EUR -> USD at ECB monthly averages (eur_usd_monthly.csv)",
        "skipped": dict(summary.skipped),
    }
    return src, summary


def _first(con: Any, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
    row: tuple[Any, ...] | None = con.execute(sql, list(params)).fetchone()
    return row


def _lookup(con: Any, table: str, mapping: dict[str, Any], types: str) -> None:
    """A temp table (text, mapped values...) from a Python dict (through Arrow: one call)."""
    import pyarrow as pa

    con.execute(f"CREATE TEMP TABLE {table} (text VARCHAR, {types})")
    if not mapping:
        return
    n = len(next(iter(mapping.values())))
    cols = {"text": list(mapping)} | {f"c{i}": [v[i] for v in mapping.values()] for i in range(n)}
    con.register("_map", pa.table(cols))
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM _map")
    finally:
        con.unregister("_map")


def _resolve(
    con: Any, files: list[tuple[str, dict[str, str]]], summary: ComextSummary, all_levels: bool
) -> RowsSource:
    # Values: Eurostat writes ":" for not available; anything else must be a number >= 0.
    read = _first(con, "SELECT count(*) FROM raw")
    con.execute("SET preserve_insertion_order = false")
    con.execute(
        "CREATE TEMP VIEW v AS SELECT *, "
        "TRY_CAST(replace(trim(value), ' ', '') AS DOUBLE) AS eur, "
        "TRY_CAST(NULLIF(trim(kg), '') AS DOUBLE) AS kgs FROM raw "
        f"WHERE trim(coalesce(value, '')) NOT IN {_MISSING!r} "
        "AND lower(split_part(trim(coalesce(proc, 'T')), '-', 1)) IN ('t', 'total')"
    )
    checks = [
        ("value", "eur IS NULL OR NOT isfinite(eur)", "not a number"),
        ("value", "eur < 0", "negative value"),
        *((c, f"{c} IS NULL OR trim({c}) = ''", "empty") for c in RAW_FIELDS[:5]),
    ]
    pos = f"f * {_POS} + line"
    found = _first(  # one scan for every check: the first offending row of each
        con,
        "SELECT "
        + ", ".join(
            f"min({pos}) FILTER (WHERE {cond}), arg_min({col}, {pos}) FILTER (WHERE {cond})"
            for col, cond, _ in checks
        )
        + " FROM v",
    )
    assert found is not None
    for i, (col, _, reason) in enumerate(checks):
        if found[2 * i] is not None:
            raise InputError(reason, **_where(files, found[2 * i], col), value=found[2 * i + 1])

    def distinct(col: str) -> list[str]:
        return [
            r[0]
            for r in con.execute(f"SELECT DISTINCT {col} FROM v WHERE {col} IS NOT NULL").fetchall()
        ]

    def first_bad(col: str, text: str, reason: str) -> InputError:
        row = _first(con, f"SELECT min(f * {_POS} + line) FROM v WHERE {col} = ?", [text])
        assert row is not None
        return InputError(reason, **_where(files, row[0], col), value=text)

    periods: dict[str, tuple[date, str]] = {}
    for t in distinct("period"):
        parsed = period_of(t)
        if parsed is None:
            raise first_bad("period", t, "not a period (e.g. 2022-08, 202208, Aug. 2022)")
        periods[t] = parsed
    flows: dict[str, tuple[str]] = {}
    for t in distinct("flow"):
        fl = flow_of(t)
        if fl is None:
            raise first_bad("flow", t, "not a flow (IMPORT/EXPORT, 1/2)")
        flows[t] = (fl,)
    products: dict[str, tuple[str, str, str]] = {}
    for t in distinct("product"):
        code = product_code(t)
        lv = product_level(code)
        if lv is None:
            raise first_bad("product", t, "not a CN8, HS6, heading or TOTAL code")
        products[t] = (code, *lv)
    places: dict[str, tuple[str, str | None]] = {}
    for col in ("reporter", "partner"):
        for t in distinct(col):
            if t in places:
                continue
            try:
                places[t] = comext_country(t)
            except reference.ReferenceDataError as e:
                raise first_bad(col, t, str(e)) from None
    _lookup(con, "pmap", periods, "period DATE, freq VARCHAR")
    _lookup(con, "fmap", flows, "flow_ VARCHAR")
    _lookup(con, "cmap", products, "code VARCHAR, level VARCHAR, hs VARCHAR")
    _lookup(con, "gmap", places, "kind VARCHAR, iso VARCHAR")
    con.execute(
        "CREATE TEMP TABLE w AS SELECT v.f, v.line, "
        "v.reporter AS rep_label, v.partner AS par_label, "
        "coalesce(v.part, '') AS part, c.code, c.level, c.hs, fm.flow_ AS flow, p.period, p.freq, "
        "r.kind AS rkind, r.iso AS rep, g.kind AS pkind, g.iso AS par, v.eur, v.kgs "
        "FROM v JOIN pmap p ON p.text = v.period JOIN fmap fm ON fm.text = v.flow "
        "JOIN cmap c ON c.text = v.product JOIN gmap r ON r.text = v.reporter "
        "JOIN gmap g ON g.text = v.partner"
    )
    con.execute("DROP VIEW v")
    con.execute("DROP TABLE raw")
    key = "rep_label, par_label, code, flow, period, freq, part"
    twice = _first(con, f"SELECT {key} FROM w GROUP BY ALL HAVING count(*) > 1 LIMIT 1")
    if twice:
        cond = " AND ".join(f"{k} = ?" for k in key.split(", "))
        last = _first(con, f"SELECT max(f * {_POS} + line) FROM w WHERE {cond}", twice)
        assert last is not None
        where = _where(files, last[0], "reporter")
        raise InputError(
            "the same reporter, partner, product, flow and period were read before (in this "
            "or an earlier file); give each Comext extract once",
            file=where["file"],
            line=where["line"],
        )
    for reason, cond in (
        (
            "rows of country aggregates (EU, euro area, extra-EU) left out",
            "rkind = 'aggregate' OR pkind = 'aggregate'",
        ),
        (
            "rows of partners without an ISO code left out",
            "(rep IS NULL OR par IS NULL) AND rkind <> 'aggregate' AND pkind <> 'aggregate'",
        ),
    ):
        n = _first(con, f"SELECT count(*) FROM w WHERE {cond}")
        if n and n[0]:
            summary.skipped[reason] = int(n[0])
    con.execute("DELETE FROM w WHERE rep IS NULL OR par IS NULL")
    aggregated = "SELECT level, count(*) FROM w WHERE level NOT IN ('cn8', 'hs6') GROUP BY ALL"
    for level, n in con.execute(aggregated + " ORDER BY ALL").fetchall():
        if not all_levels:
            summary.skipped[f"aggregate product rows ({level}) left out"] = int(n)
    counts = dict(con.execute("SELECT level, count(*) FROM w GROUP BY level").fetchall())
    if not all_levels and counts and not counts.get("cn8") and not counts.get("hs6"):
        levels = ", ".join(sorted(str(k) for k in counts))
        raise InputError(
            f"every product row is an aggregate ({levels}; a relational view of product TOTAL?)"
            ": there is nothing at HS6 to store. Set {all_levels} to keep them, by level, in "
            "table trade_levels",
            file=files[0][0] if len(files) == 1 else f"{files[0][0]} and {len(files) - 1} more",
            params=("all_levels",),
        )
    summary.cn8_rows, summary.hs6_rows = int(counts.get("cn8", 0)), int(counts.get("hs6", 0))
    keys = "rep, par, flow, hs, period, freq"
    sums = f"SELECT {keys}, sum(eur) AS eur, sum(kgs) AS kg, min(f * {_POS} + line) AS pos FROM w"
    con.execute(f"CREATE TEMP TABLE cn8 AS {sums} WHERE level = 'cn8' GROUP BY ALL")
    con.execute(f"CREATE TEMP TABLE h6 AS {sums} WHERE level = 'hs6' GROUP BY ALL")
    replaced = _first(con, f"SELECT count(*) FROM cn8 SEMI JOIN h6 USING ({keys})")
    if replaced and replaced[0]:
        summary.skipped["HS6 sums of CN8 rows replaced by the file's own HS6 row (not added)"] = (
            int(replaced[0])
        )
    other = f"UNION ALL {sums} WHERE level NOT IN ('cn8', 'hs6') GROUP BY ALL" if all_levels else ""
    con.execute(
        f"CREATE TEMP TABLE out AS SELECT * FROM h6 UNION ALL "
        f"SELECT * FROM cn8 ANTI JOIN h6 USING ({keys}) {other}"
    )
    rates: dict[str, tuple[float, str]] = {}
    for period, freq, pos in con.execute(
        "SELECT period, freq, min(pos) FROM out GROUP BY ALL ORDER BY ALL"
    ).fetchall():
        rate = usd_per_eur(period, freq)
        if rate is None:
            where = _where(files, pos, "period")
            raise InputError(
                f"no EUR/USD rate for {period:%Y-%m}{' (a full year)' if freq == 'A' else ''}"
                " in the shipped ECB table (reference/data/eur_usd_monthly.csv)",
                **where,
                value=f"{period:%Y-%m}",
            )
        rev = reference.hs_revision_in_force(period.year)  # CN of year Y is built on it
        rates[f"{period:%Y-%m-%d}{freq}"] = (rate, rev)
    _lookup(con, "rmap", rates, "rate DOUBLE, hs_rev VARCHAR")
    table = con.sql(
        "SELECT 'comext' AS source, rep AS reporter, par AS partner, o.flow, hs, "
        "r.hs_rev, o.period, o.freq, eur * r.rate AS value_usd, kg AS net_kg, "
        "NULL::DOUBLE AS qty, NULL::VARCHAR AS qty_unit, "
        f"{_VALUATION} AS valuation "
        "FROM out o JOIN rmap r ON r.text = strftime(o.period, '%Y-%m-%d') || o.freq"
    ).to_arrow_table()
    src = RowsSource.from_arrow(
        "comext", "", table, parameters={}, keys_unique=True, rows_read=read[0] if read else 0
    )
    src.has_levels = all_levels  # TOTAL, chapter and heading rows go to trade_levels
    return src


__all__ = ["ComextSummary", "comext_source"]
