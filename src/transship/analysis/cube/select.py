"""`analysis._select.select` over the cube: the same filters, frequency, revisions, product
map, notes and SYNTHETIC label, as SQL over cube_meta and cube_flows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from transship.analysis._select import _mode, countries, product_map
from transship.analysis.cube import Cube, NotInCube
from transship.errors import UsageError
from transship.periods import PeriodRange


def lit(x: Any) -> str:
    """A SQL literal of a string, date, number or None (values here come from reference
    data and parsed periods, quoted all the same)."""
    if x is None:
        return "NULL"
    if isinstance(x, bool):
        return "TRUE" if x else "FALSE"
    if isinstance(x, int | float):
        return repr(float(x)) if isinstance(x, float) else str(x)
    if isinstance(x, dt.date):
        return f"DATE '{x.isoformat()}'"
    return "'" + str(x).replace("'", "''") + "'"


def in_list(column: str, values: Iterable[Any]) -> str:
    vals = list(values)
    return f"{column} IN ({', '.join(map(lit, vals))})" if vals else "FALSE"


def values(rows: Sequence[dict[str, Any]], name: str, columns: Sequence[str]) -> str:
    """A VALUES table `name(columns)` of dict rows (at least one)."""
    body = ", ".join("(" + ", ".join(lit(r.get(c)) for c in columns) + ")" for r in rows)
    return f"(VALUES {body}) {name}({', '.join(columns)})"


def in_ranges(column: str, ranges: Sequence[PeriodRange]) -> str:
    return " OR ".join(f"{column} BETWEEN {lit(r.start)} AND {lit(r.end)}" for r in ranges)


@dataclass
class Sel:
    """Selected rows as SQL: `sql` has the columns reporter, partner, flow, hs, hs_rev, the
    product map's own columns (hs2022, tier, ...), period, year, value_usd and n (rows of
    trade_flows summed into the cube row)."""

    cube: Cube
    sql: str
    freq: str
    pm: list[dict[str, Any]]  # the product map: hs_rev, hs and the columns it adds
    notes: list[str] = field(default_factory=list)
    synthetic: bool = False
    concordance: str = "strict"

    def empty(self) -> bool:
        return not self.cube.rows(f"SELECT 1 FROM ({self.sql}) LIMIT 1")


def select(
    cube: Cube,
    *,
    reporter: str | Iterable[str] | None = None,
    partner: str | Iterable[str] | None = None,
    products: str = "chpl",
    periods: Sequence[PeriodRange] = (),
    flow: str | Sequence[str] = "export",
    freq: str = "auto",
    source: str | None = None,
    mapper: Callable[[Sequence[str]], tuple[list[dict[str, Any]], list[str]]] | None = None,
    concordance: str = "strict",
) -> Sel:
    if source:  # the cube sums over sources
        raise NotInCube("source")
    if freq not in ("M", "A", "auto"):
        raise UsageError(f"freq {freq!r}: use M, A or auto")
    _mode(concordance)
    flows_ = [flow] if isinstance(flow, str) else list(flow)
    conds = [in_list("flow", flows_)]
    if reporter is not None:
        conds.append(in_list("reporter", countries(reporter)))
    if partner is not None:
        conds.append(in_list("partner", countries(partner)))
    if periods:
        conds.append(f"({in_ranges('period', periods)})")
    where = " AND ".join(conds)
    q = f"SELECT hs_rev, freq, bool_or(synthetic) FROM cube_meta WHERE {where} GROUP BY ALL"
    meta = cube.keep(q, lambda: cube.rows(q))
    if freq == "auto":
        freq = "M" if any(f == "M" for _, f, _ in meta) else "A"
    meta = [m for m in meta if m[1] == freq]
    revisions = sorted({str(r) for r, _, _ in meta}) or ["HS2022"]
    synthetic = any(bool(s) for _, _, s in meta)
    rows, notes = (mapper or (lambda revs: product_map(products, revs, concordance)))(revisions)
    if not rows:
        raise UsageError(
            f"{{products}} {products!r} matches no HS code in {revisions}", params=("products",)
        )
    if not {(r["hs_rev"], r["hs"]) for r in rows} <= cube.codes:
        raise NotInCube("codes")
    cols = list(rows[0])
    extra = [c for c in cols if c not in ("hs_rev", "hs")]
    sql = (
        f"SELECT t.reporter, t.partner, t.flow, t.hs, t.hs_rev, "
        f"{''.join(f'pm.{c}::VARCHAR AS {c}, ' for c in extra)}t.period, "
        f"year(t.period)::INTEGER AS year, "
        f"t.value_usd, t.n FROM cube_flows t JOIN {values(rows, 'pm', cols)} "
        f"ON t.hs_rev = pm.hs_rev AND t.hs = pm.hs WHERE {where} AND t.freq = {lit(freq)}"
    )
    return Sel(cube, sql, freq, rows, notes, synthetic, concordance)
