"""Mirror statistics: what exporters report sending vs what importers report receiving.

For exporter E, importer I (and product, with `by_product`) and each period:
X = E's reported exports to I, M = I's reported imports from E, M_fob = M / cif_factor
(imports are valued CIF, exports FOB; 1.06 is the usual 6% freight-and-insurance margin),
gap = X - M_fob, log_ratio = ln(X / M_fob), sym_share = |X - M_fob| / (X + M_fob).

Rolling windows of `window` consecutive periods (months, or years for annual data) absorb
shipping lags: a December export may be a January import. `period` is the window's last
month. With `window=None` there is one row per pair over the whole period (`period` null).

Missing is not zero. A side is missing in a window when its reporter reported nothing at all
for that flow (any product, any partner) in some period of the window: the country did not
report, so the gap is unknown (`x_usd`/`m_usd` null, `x_missing`/`m_missing` true). A reporter
that did report, but no row for this pair and product, reported zero.

Flags, with explicit thresholds: a window `breach`es when |gap| > gap_threshold_usd and
|log_ratio| > log_threshold (a ratio beyond 2x either way by default; one side zero counts as
an infinite ratio); `breach` is null when a side is missing. `flag` marks windows that are part
of a run of at least `min_consecutive` consecutive breaching windows (with window=None,
flag = breach).

When one side is reported monthly and the other annually, both are compared by year; a year
of a monthly reporter counts only when all twelve of its months were reported.
"""

from __future__ import annotations

import math
from typing import Any

from transship.analysis._select import Freq, Selection, as_range, countries, periods_in, select
from transship.analysis.result import AnalysisResult
from transship.errors import UsageError
from transship.periods import PeriodRange


def mirror(
    con: Any,
    *,
    exporters: str,
    importers: str,
    products: str = "chpl",
    period: str | PeriodRange | None = None,
    cif_factor: float = 1.06,
    window: int | None = 3,
    log_threshold: float = math.log(2),
    gap_threshold_usd: float = 1e6,
    min_consecutive: int = 2,
    by_product: bool = False,
    source: str | None = None,
    freq: Freq = "auto",
    concordance: str = "strict",
) -> AnalysisResult:
    """Exporter-reported vs importer-reported trade for every exporter x importer pair."""
    import ibis

    check(cif_factor, window, min_consecutive)
    rng = as_range(period)
    ex, im = countries(exporters), countries(importers)
    periods = [rng] if rng else []
    kw: dict[str, Any] = {"products": products, "periods": periods, "source": source,
                          "concordance": concordance}  # fmt: skip
    xs = select(con, reporter=ex, partner=im, flow="export", freq=freq, **kw)
    ms = select(con, reporter=im, partner=ex, flow="import", freq=freq, **kw)
    if xs.freq != ms.freq and freq == "auto":
        # `auto` resolves a side with no rows at all to annual; a side that reported nothing
        # (Russia from 2022) is missing, not annual: keep the present side's months.
        if _empty(xs.table):
            xs = select(con, reporter=ex, partner=im, flow="export", freq=_freq(ms.freq), **kw)
        elif _empty(ms.table):
            ms = select(con, reporter=im, partner=ex, flow="import", freq=_freq(xs.freq), **kw)
    unit = xs.freq if xs.freq == ms.freq else "A"
    notes = _dedupe(xs.notes + ms.notes)
    if xs.freq != ms.freq:
        notes.append("one side is reported monthly and the other annually: compared by year")

    keys = ["exporter", "importer"] + (["hs2022"] if by_product else [])
    x = _side(xs, unit, "reporter", "partner", "x", by_product)
    m = _side(ms, unit, "partner", "reporter", "m", by_product)
    if rng is None:
        both_sides = x.select(p=x.period).union(m.select(p=m.period))
        bounds = both_sides.agg(lo=both_sides.p.min(), hi=both_sides.p.max())
        lo, hi = bounds.to_pyarrow().to_pylist()[0].values()
        if lo is None:
            raise UsageError(f"no {products} trade between {exporters} and {importers}")
        rng = PeriodRange(lo, hi)
    units = periods_in(rng, unit)
    ut = ibis.memtable({"period": units, "u": list(range(len(units)))},
                       schema={"period": "date", "u": "int64"})  # fmt: skip
    pairs = x.select(*keys).union(m.select(*keys), distinct=True)
    grid = pairs.cross_join(ut)
    g = grid.left_join(x, [*keys, "period"]).select(grid, x.x)
    g = g.left_join(m, [*keys, "period"]).select(g, m.m)
    xc = _coverage(con, ex, "export", rng, unit, source, "exporter", "x_cov")
    mc = _coverage(con, im, "import", rng, unit, source, "importer", "m_cov")
    g = g.left_join(xc, ["exporter", "period"]).select(g, xc.x_cov)
    g = g.left_join(mc, ["importer", "period"]).select(g, mc.m_cov)
    g = g.mutate(
        x=g.x.fill_null(0.0), m=g.m.fill_null(0.0),
        x_cov=g.x_cov.fill_null(0), m_cov=g.m_cov.fill_null(0),
    )  # fmt: skip

    if window is None:
        w = g.group_by(keys).agg(
            x_sum=g.x.sum(), m_sum=g.m.sum(), x_n=g.x_cov.sum(), m_n=g.m_cov.sum()
        )
        w = w.mutate(period=ibis.null().cast("date"), u=ibis.literal(0, "int64"))
        need = len(units)
    else:
        win = ibis.window(group_by=keys, order_by="u", preceding=window - 1, following=0)
        w = g.mutate(
            x_sum=g.x.sum().over(win), m_sum=g.m.sum().over(win),
            x_n=g.x_cov.sum().over(win), m_n=g.m_cov.sum().over(win),
        )  # fmt: skip
        w = w.filter(w.u >= window - 1)  # only whole windows inside the period
        need = window
    x_missing, m_missing = w.x_n < need, w.m_n < need
    w = w.mutate(
        x_usd=ibis.ifelse(x_missing, ibis.null(), w.x_sum).cast("float64"),
        m_usd=ibis.ifelse(m_missing, ibis.null(), w.m_sum).cast("float64"),
        x_missing=x_missing,
        m_missing=m_missing,
    )
    w = w.mutate(m_fob_usd=w.m_usd / cif_factor)
    w = w.mutate(gap_usd=w.x_usd - w.m_fob_usd, total=w.x_usd + w.m_fob_usd)
    both = (w.x_usd > 0) & (w.m_fob_usd > 0)
    w = w.mutate(
        log_ratio=ibis.ifelse(both, (w.x_usd / w.m_fob_usd).ln(), ibis.null()).cast("float64"),
        sym_share=ibis.ifelse(w.total > 0, w.gap_usd.abs() / w.total, ibis.null()).cast("float64"),
    )
    wide = ibis.ifelse(both, w.log_ratio.abs() > log_threshold, True)  # one side zero: infinite
    breach = ibis.ifelse(
        w.x_missing | w.m_missing, ibis.null(), (w.gap_usd.abs() > gap_threshold_usd) & wide
    ).cast("boolean")
    w = w.mutate(breach=breach)
    if window is None:
        w = w.mutate(flag=w.breach)
    else:  # runs of consecutive breaching windows: a run id that only grows on non-breaches
        b = w.breach.fill_null(False).cast("int64")
        run = ibis.window(group_by=keys, order_by="u", preceding=None, following=0)
        w = w.mutate(_b=b, _run=(1 - b).sum().over(run))
        w = w.mutate(_len=w._b.sum().over(ibis.window(group_by=[*keys, "_run"])))
        w = w.mutate(flag=(w._b == 1) & (w._len >= min_consecutive))
    out = w.select(*columns(keys)).order_by([*keys, "period"])
    params = {
        "exporters": exporters, "importers": importers, "products": products,
        "period": str(rng), "cif_factor": cif_factor, "window": window,
        "log_threshold": log_threshold, "gap_threshold_usd": gap_threshold_usd,
        "min_consecutive": min_consecutive, "by_product": by_product, "source": source,
        "freq": unit,
    }  # fmt: skip
    notes.append(rule_note(cif_factor, gap_threshold_usd, log_threshold, min_consecutive, window))
    return AnalysisResult(out, notes, xs.synthetic or ms.synthetic, params, unit)


def check(cif_factor: float, window: int | None, min_consecutive: int) -> None:
    if cif_factor <= 0:
        raise UsageError(
            "{cif_factor} must be positive (1.06 = imports 6% above FOB)", params=("cif_factor",)
        )
    if window is not None and window < 1:
        raise UsageError("{window} must be at least 1 period", params=("window",))
    if min_consecutive < 1:
        raise UsageError("{min_consecutive} must be at least 1", params=("min_consecutive",))


def columns(keys: list[str]) -> list[str]:
    return [*keys, "period", "x_usd", "m_usd", "m_fob_usd", "gap_usd", "log_ratio",
            "sym_share", "x_missing", "m_missing", "breach", "flag"]  # fmt: skip


def rule_note(
    cif_factor: float, gap_threshold_usd: float, log_threshold: float, min_consecutive: int,
    window: int | None,
) -> str:  # fmt: skip
    return (
        f"M_fob = M / {cif_factor}; breach: |gap| > ${gap_threshold_usd:,.0f} and "
        f"|ln(X/M_fob)| > {log_threshold:.3f}; flag: >= {min_consecutive} consecutive breaches"
        + (f" of {window}-period windows" if window else "")
    )


def _side(
    sel: Selection, unit: str, exporter: str, importer: str, name: str, by_product: bool
) -> Any:
    """One side's values per (exporter, importer, [hs2022], period unit)."""
    import ibis

    t = sel.table
    period = ibis.date(t.period.year(), 1, 1) if unit == "A" and sel.freq == "M" else t.period
    t = t.mutate(exporter=t[exporter], importer=t[importer], period=period)
    keys = ["exporter", "importer"] + (["hs2022"] if by_product else []) + ["period"]
    return t.group_by(keys).agg(**{name: t.value_usd.sum()})


def _coverage(
    con: Any, reporters: list[str], flow: str, rng: PeriodRange, unit: str,
    source: str | None, role: str, name: str,
) -> Any:  # fmt: skip
    """1 for each (reporter, period unit) the reporter reported `flow` for in full."""
    import ibis

    t = con.table("trade_flows")
    t = t.filter(
        t.flow.cast("string") == flow,
        t.reporter.cast("string").isin(reporters),
        t.period >= rng.start,
        t.period <= rng.end,
    )
    if source:
        t = t.filter(t.source.cast("string") == source)
    t = t.select(r=t.reporter.cast("string"), p=t.period.cast("date"), f=t.freq.cast("string"))
    t = t.distinct()
    if unit == "M":
        t = t.filter(t.f == "M")
        return t.group_by(**{role: t.r, "period": t.p}).agg(**{name: ibis.literal(1, "int64")})
    # by year: an annual row, or all twelve months
    t = t.mutate(months=ibis.ifelse(t.f == "A", 12, 1))
    y = t.group_by(**{role: t.r, "period": ibis.date(t.p.year(), 1, 1)}).agg(n=t.months.sum())
    return y.select(role, "period", **{name: ibis.ifelse(y.n >= 12, 1, 0).cast("int64")})


def _freq(f: str) -> Freq:
    return "A" if f == "A" else "M"


def _empty(t: Any) -> bool:
    return int(t.limit(1).count().to_pyarrow().as_py()) == 0


def _dedupe(notes: list[str]) -> list[str]:
    return list(dict.fromkeys(notes))
