"""`analysis.flows` over the cube: the same plan (windows, month maps, baseline years and
notes, from analysis.flows) run as one DuckDB query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from transship.analysis._select import as_range
from transship.analysis.cube import Cube, NotInCube
from transship.analysis.cube.result import CubeResult
from transship.analysis.cube.select import in_ranges, select, values
from transship.analysis.flows import (
    _window_note,
    baseline_mapping,
    baseline_years,
    compare_mapping,
    plan,
)
from transship.periods import PeriodRange


def flows(
    cube: Cube,
    *,
    reporter: str | None = None,
    partner: str | None = None,
    products: str = "chpl",
    period: str | PeriodRange | None = None,
    flow: str = "export",
    by: Sequence[str] = ("reporter", "partner"),
    freq: str = "auto",
    source: str | None = None,
    compare: str | PeriodRange | None = None,
    baseline: str | PeriodRange | None = None,
    concordance: str = "strict",
) -> CubeResult:
    keys, main, cmp_rng = plan(by, period, compare, baseline)
    if "source" in keys:
        raise NotInCube("source")
    base_rng = as_range(baseline)
    ranges = [r for r in (main, cmp_rng, base_rng) if r is not None]
    sel = select(cube, reporter=reporter, partner=partner, products=products, periods=ranges,
                 flow=flow, freq=freq, source=source, concordance=concordance)  # fmt: skip
    notes = list(sel.notes)
    params: dict[str, Any] = {
        "reporter": reporter, "partner": partner, "products": products,
        "period": str(main) if main else None, "flow": flow, "by": keys, "freq": sel.freq,
        "source": source, "compare": str(cmp_rng) if cmp_rng else None,
        "baseline": str(base_rng) if base_rng else None, "concordance": concordance,
    }  # fmt: skip
    head = "".join(f"{k}, " for k in keys)
    group = f" GROUP BY {', '.join(keys)}" if keys else ""
    if main is None:  # plain sums
        sql = (
            f"WITH s AS ({sel.sql}) SELECT {head}sum(value_usd) AS value_usd, "
            f"coalesce(sum(n), 0)::BIGINT AS rows FROM s{group}{_order(keys)}"
        )
        return CubeResult(cube.sql(sql), notes, sel.synthetic, params, sel.freq)

    parts = [
        f"SELECT {head}value_usd AS v, n, 0::DOUBLE AS c, 0::DOUBLE AS b FROM s WHERE {_in(main)}"
    ]
    if cmp_rng is not None:
        parts.append(_aligned(keys, compare_mapping(main, cmp_rng, sel.freq), c="value_usd"))
    if base_rng is not None:
        years, mapping = baseline_mapping(main, base_rng, sel.freq)
        found = cube.sql(
            f"SELECT DISTINCT year::INTEGER AS y, hs_rev AS r FROM ({sel.sql}) s "
            f"WHERE {_in(base_rng)}"
        ).to_pylist()
        usable, partial, base_notes = baseline_years(products, years, found, concordance)
        if partial:  # each product over the years it is comparable in
            ny = [{"_code": c, "_ny": len(ys)} for c, ys in usable.items() if ys]
            join = (
                f" JOIN {values(ny, 'ny', ['_code', '_ny'])} ON s.hs2022 = ny._code" if ny else ""
            )
            parts.append(
                _aligned(keys, mapping if ny else {}, b="value_usd / ny._ny", join=join,
                         where=_in(base_rng, "s.period"))
            )  # fmt: skip
        else:
            parts.append(
                _aligned(
                    keys, mapping, b=f"value_usd / {len(years)}", where=_in(base_rng, "s.period")
                )
            )
        notes.extend(base_notes)
    aggs = ["sum(v) AS value_usd", "sum(n)::BIGINT AS rows"]
    extra = []
    for name, col in (("compare", "c"), ("baseline", "b")):
        if (cmp_rng if name == "compare" else base_rng) is not None:
            aggs.append(f"sum({col}) AS {name}_usd")
            o = f"{name}_usd"
            extra += [
                f"CASE WHEN {o} > 0 THEN value_usd / {o} ELSE NULL END AS {name}_multiple",
                f"value_usd - {o} AS {name}_change_usd",
            ]
    sql = (
        f"WITH s AS ({sel.sql}), u AS ({' UNION ALL '.join(parts)}), "
        f"g AS (SELECT {head}{', '.join(aggs)} FROM u{group}) "
        f"SELECT *{''.join(', ' + e for e in extra)} FROM g{_order(keys)}"
    )
    notes.append(_window_note(main, cmp_rng, base_rng))
    return CubeResult(cube.sql(sql), notes, sel.synthetic, params, sel.freq)


def _in(rng: PeriodRange, column: str = "period") -> str:
    return in_ranges(column, [rng])


def _aligned(
    keys: list[str],
    mapping: dict[Any, Any],
    *,
    c: str = "0::DOUBLE",
    b: str = "0::DOUBLE",
    join: str = "",
    where: str = "TRUE",
) -> str:
    """Rows whose period is a key of `mapping`, counted under its value (analysis.flows'
    _align), as a part of the union: v, n, c, b."""
    if not mapping:
        cols = "".join(f"NULL AS {k}, " for k in keys)
        return f"SELECT {cols}0::DOUBLE AS v, 0 AS n, 0::DOUBLE AS c, 0::DOUBLE AS b WHERE FALSE"
    sel = []
    for k in keys:
        if k == "period":
            sel.append("m._dst AS period")
        elif k == "year":
            sel.append("year(m._dst)::INTEGER AS year")
        else:
            sel.append(f"s.{k}")
    rows = [{"_src": k, "_dst": v} for k, v in mapping.items()]
    return (
        f"SELECT {''.join(x + ', ' for x in sel)}0::DOUBLE AS v, 0 AS n, {c} AS c, {b} AS b "
        f"FROM s JOIN {values(rows, 'm', ['_src', '_dst'])} ON s.period = m._src{join} "
        f"WHERE {where}"
    )


def _order(keys: list[str]) -> str:
    time = [k for k in keys if k in ("period", "year")]
    if time:
        return f" ORDER BY {', '.join(time)}, value_usd DESC"
    return " ORDER BY value_usd DESC" if keys else ""
