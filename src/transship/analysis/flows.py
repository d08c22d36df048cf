"""Trade value by any of reporter, partner, hs, tier, period; against a prior period and a
baseline average.

- `compare="prior"` is the same months one year earlier; an explicit period must have the
  same number of months. With `period` in `by`, each month is matched to its counterpart
  (2023-03 with 2022-03).
- `baseline="2015..2021"` is the mean across those years of the same calendar months: for
  each month of `period`, the average over the baseline years of that calendar month, summed.
  Each product is averaged over the baseline years in which it is comparable (under the
  `concordance` mode), so Tier 1 chips, not comparable before HS2017 under `strict`, are
  averaged over 2017-2021 instead of counting 2015-2016 as zero; the notes name them. A
  baseline year without any matching row at all counts as zero (and is named in the notes).

Both are one aggregation: rows of the main, compare and baseline windows are aligned onto
the main period's months through a small month map, tagged, unioned and summed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from transship.analysis._select import (
    Freq,
    as_range,
    comparable_years,
    from_month_index,
    month_index,
    periods_in,
    product_map,
    select,
)
from transship.analysis.result import AnalysisResult, FlowsResult
from transship.errors import UsageError
from transship.periods import PeriodRange

DIMENSIONS = ("reporter", "partner", "flow", "hs", "hs2022", "tier", "period", "year", "source")

__all__ = ["DIMENSIONS", "FlowsResult", "flows", "product_map"]


def _prior(rng: PeriodRange) -> PeriodRange:
    return PeriodRange(rng.start.replace(year=rng.start.year - 1),
                       rng.end.replace(year=rng.end.year - 1))  # fmt: skip


def flows(
    con: Any,
    *,
    reporter: str | None = None,
    partner: str | None = None,
    products: str = "chpl",
    period: str | PeriodRange | None = None,
    flow: str = "export",
    by: Sequence[str] = ("reporter", "partner"),
    freq: Freq = "auto",
    source: str | None = None,
    compare: str | PeriodRange | None = None,
    baseline: str | PeriodRange | None = None,
    concordance: str = "strict",
) -> AnalysisResult:
    """Sum value_usd over trade_flows, filtered and grouped; optionally vs compare/baseline.

    `con` is an Ibis connection with a `trade_flows` table; `reporter` and `partner` take
    country expressions (`TUR`, `russia+ft_five`, `g7-JPN`); `products` takes a product
    expression (`chpl`, `chpl:tier1,tier2`, `8542,851762`). Columns: the `by` keys,
    `value_usd`, `rows`; with `compare`: `compare_usd`, `compare_multiple` (value/compare),
    `compare_change_usd`; with `baseline`: `baseline_usd`, `baseline_multiple`,
    `baseline_change_usd`. Multiples are null when the denominator is zero. `concordance`:
    strict (default), upper or reported (see `analysis._select.product_map`).
    """
    import ibis

    keys, main, cmp_rng = plan(by, period, compare, baseline)
    base_rng = as_range(baseline)
    ranges = [r for r in (main, cmp_rng, base_rng) if r is not None]
    sel = select(con, reporter=reporter, partner=partner, products=products, periods=ranges,
                 flow=flow, freq=freq, source=source, concordance=concordance)  # fmt: skip
    t, notes = sel.table, list(sel.notes)
    params: dict[str, Any] = {
        "reporter": reporter, "partner": partner, "products": products,
        "period": str(main) if main else None, "flow": flow, "by": keys, "freq": sel.freq,
        "source": source, "compare": str(cmp_rng) if cmp_rng else None,
        "baseline": str(base_rng) if base_rng else None, "concordance": concordance,
    }  # fmt: skip

    if main is None:  # plain sums, as the foundation's query
        out = _group(t, keys, value_usd=t.value_usd.sum(), rows=t.count())
        return AnalysisResult(_order(out, keys), notes, sel.synthetic, params, sel.freq)

    mt = t.filter((t.period >= main.start) & (t.period <= main.end))
    parts = [_tag(mt, keys, v=mt.value_usd, n=1)]
    if cmp_rng is not None:
        aligned = _align(t, compare_mapping(main, cmp_rng, sel.freq))
        parts.append(_tag(aligned, keys, c=aligned.value_usd))
    if base_rng is not None:
        years, mapping = baseline_mapping(main, base_rng, sel.freq)
        bt = t.filter((t.period >= base_rng.start) & (t.period <= base_rng.end))
        aligned = _align(bt, mapping)
        found = bt.select(y=bt.year, r=bt.hs_rev).distinct().to_pyarrow().to_pylist()
        usable, partial, base_notes = baseline_years(products, years, found, concordance)
        if partial:  # each product over the years it is comparable in, not all of them
            ny = ibis.memtable(
                {"_code": [c for c, ys in usable.items() if ys],
                 "_ny": [len(ys) for ys in usable.values() if ys]},
                schema={"_code": "string", "_ny": "int64"},
            )  # fmt: skip
            aligned = aligned.join(ny, aligned.hs2022 == ny._code)
            parts.append(_tag(aligned, keys, b=aligned.value_usd / aligned._ny))
        else:
            parts.append(_tag(aligned, keys, b=aligned.value_usd / len(years)))
        notes.extend(base_notes)
    u = parts[0]
    for p in parts[1:]:
        u = u.union(p)
    aggs: dict[str, Any] = {"value_usd": u.v.sum(), "rows": u.n.sum()}
    if cmp_rng is not None:
        aggs["compare_usd"] = u.c.sum()
    if base_rng is not None:
        aggs["baseline_usd"] = u.b.sum()
    out = _group(u, keys, **aggs)
    extra: dict[str, Any] = {}
    for name in ("compare", "baseline"):
        if f"{name}_usd" in aggs:
            other = out[f"{name}_usd"]
            extra[f"{name}_multiple"] = ibis.ifelse(other > 0, out.value_usd / other, ibis.null())
            extra[f"{name}_change_usd"] = out.value_usd - other
    out = out.mutate(**extra)
    notes.append(_window_note(main, cmp_rng, base_rng))
    return AnalysisResult(_order(out, keys), notes, sel.synthetic, params, sel.freq)


def plan(
    by: Sequence[str],
    period: str | PeriodRange | None,
    compare: str | PeriodRange | None,
    baseline: str | PeriodRange | None,
) -> tuple[list[str], PeriodRange | None, PeriodRange | None]:
    """The checked `by` keys, main period and compare period of a flows call."""
    keys = list(dict.fromkeys(by))
    unknown = [d for d in keys if d not in DIMENSIONS]
    if unknown:
        raise UsageError(
            f"{{by}} {','.join(unknown)}: dimensions are {', '.join(DIMENSIONS)}", params=("by",)
        )
    main = as_range(period)
    if (compare or baseline) and main is None:
        raise UsageError(
            "{compare} and {baseline} need {period} (the months to compare)",
            params=("compare", "baseline", "period"),
        )
    cmp_rng: PeriodRange | None = None
    if compare is not None and main is not None:
        cmp_rng = _prior(main) if compare == "prior" else as_range(compare)
        assert cmp_rng is not None
        if cmp_rng.months != main.months:
            raise UsageError(
                f"{{compare}} {cmp_rng} has {cmp_rng.months} months; {{period}} {main} has "
                f"{main.months}: compare equal lengths, or use 'prior'",
                params=("compare", "period"),
            )
    return keys, main, cmp_rng


def compare_mapping(main: PeriodRange, cmp_rng: PeriodRange, freq: str) -> dict[Any, Any]:
    """Period of the compare window -> the main period it is counted under."""
    main_periods = periods_in(main, freq)
    offset = month_index(main.start) - month_index(cmp_rng.start)
    if freq == "A" and offset % 12:
        raise UsageError(
            "annual data: {compare} must be whole years earlier or later", params=("compare",)
        )
    src = [p.replace(year=p.year - offset // 12) if freq == "A" else _shift(p, -offset)
           for p in main_periods]  # fmt: skip
    return dict(zip(src, main_periods, strict=True))


def baseline_mapping(
    main: PeriodRange, base_rng: PeriodRange, freq: str
) -> tuple[list[int], dict[Any, Any]]:
    """The baseline years, and period of the baseline -> the main period of its calendar
    month (each main period takes the baseline rows of its month, in every year)."""
    main_periods = periods_in(main, freq)
    years = list(range(base_rng.start.year, base_rng.end.year + 1))
    if any(main.start <= p <= main.end for p in periods_in(base_rng, freq)):
        raise UsageError(
            f"{{baseline}} {base_rng} overlaps {{period}} {main}", params=("baseline", "period")
        )
    mapping = {p.replace(year=y): p for p in main_periods for y in years}
    return years, {k: v for k, v in mapping.items() if base_rng.start <= k <= base_rng.end}


def baseline_years(
    products: str, years: list[int], found: list[dict[str, Any]], concordance: str
) -> tuple[dict[str, list[int]], dict[str, list[int]], list[str]]:
    """From the (y, r) year and revision pairs of the baseline rows: the years each product
    is averaged over, the products with fewer than all years, and the notes."""
    revs_by_year: dict[int, set[str]] = {y: set() for y in years}
    for r in found:
        revs_by_year.setdefault(int(r["y"]), set()).add(str(r["r"]))
    usable = comparable_years(products, revs_by_year, concordance)
    partial = {c: ys for c, ys in usable.items() if len(ys) < len(years)}
    notes = _partial_note(partial, years, concordance) if partial else []
    present = {y for y, revs in revs_by_year.items() if revs}
    empty = [y for y in years if y not in present]
    if empty:
        notes.append(
            f"baseline years with no matching rows, counted as zero: {', '.join(map(str, empty))}"
        )
    return usable, partial, notes


def _shift(p: Any, months: int) -> Any:
    return from_month_index(month_index(p) + months)


def _align(t: Any, mapping: dict[Any, Any]) -> Any:
    """Rows whose period is a key of `mapping`, with period replaced by its value."""
    import ibis

    if not mapping:
        return t.filter(ibis.literal(False))
    mt = ibis.memtable(
        {"_src": list(mapping), "_dst": list(mapping.values())},
        schema={"_src": "date", "_dst": "date"},
    )
    j = t.join(mt, t.period == mt._src)
    j = j.mutate(period=j._dst).drop("_src", "_dst")
    return j.mutate(year=j.period.year())


def _tag(t: Any, keys: list[str], *, v: Any = 0.0, n: Any = 0, c: Any = 0.0, b: Any = 0.0) -> Any:
    import ibis

    def lit(x: Any, typ: str) -> Any:
        return ibis.literal(x, type=typ) if isinstance(x, int | float) else x.cast(typ)

    return t.select(*keys, v=lit(v, "float64"), n=lit(n, "int64"), c=lit(c, "float64"),
                    b=lit(b, "float64"))  # fmt: skip


def _group(t: Any, keys: list[str], **aggs: Any) -> Any:
    return t.group_by(keys).agg(**aggs) if keys else t.agg(**aggs)


def _order(out: Any, keys: list[str]) -> Any:
    import ibis

    if "period" in keys or "year" in keys:  # a series reads in time order
        return out.order_by([k for k in keys if k in ("period", "year")] + [ibis.desc("value_usd")])
    if keys:
        return out.order_by(ibis.desc("value_usd"))
    return out


def _partial_note(partial: dict[str, list[int]], years: list[int], mode: str) -> list[str]:
    """One note per set of years: which products the baseline averages over fewer years."""
    groups: dict[tuple[int, ...], list[str]] = {}
    for code, ys in sorted(partial.items()):
        groups.setdefault(tuple(ys), []).append(code)
    out = []
    for got, codes in sorted(groups.items()):
        ys = list(got)
        if not ys:
            out.append(
                f"baseline: {', '.join(codes)} not comparable in any of {years[0]}-{years[-1]} "
                f"(--concordance {mode}): no baseline"
            )
        else:
            run = ys == list(range(ys[0], ys[-1] + 1))
            shown = f"{ys[0]}-{ys[-1]}" if run and len(ys) > 2 else ", ".join(map(str, ys))
            out.append(
                f"baseline: {', '.join(codes)} averaged over {shown} only, the years "
                f"{'it is' if len(codes) == 1 else 'they are'} comparable in "
                f"(--concordance {mode})"
            )
    return out


def _window_note(main: PeriodRange, cmp_rng: PeriodRange | None, base: PeriodRange | None) -> str:
    parts = [f"value over {main}"]
    if cmp_rng is not None:
        parts.append(f"compare over {cmp_rng}")
    if base is not None:
        parts.append(f"baseline: mean over {base.start.year}-{base.end.year} of the same months")
    return "; ".join(parts)
