"""`analysis.mirror` over the cube: both sides from cube_flows, reporting coverage from
cube_meta, windows and flags in one DuckDB query (the analysis' rules, its checks, notes
and parameters)."""

from __future__ import annotations

import math
from typing import Any

from transship.analysis._select import as_range, countries, periods_in
from transship.analysis.cube import Cube
from transship.analysis.cube.result import CubeResult
from transship.analysis.cube.select import Sel, in_list, in_ranges, lit, select, values
from transship.analysis.mirror import _dedupe, _freq, check, columns, rule_note
from transship.errors import UsageError
from transship.periods import PeriodRange


def mirror(
    cube: Cube,
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
    freq: str = "auto",
    concordance: str = "strict",
) -> CubeResult:
    check(cif_factor, window, min_consecutive)
    rng = as_range(period)
    ex, im = countries(exporters), countries(importers)
    kw: dict[str, Any] = {"products": products, "periods": [rng] if rng else [],
                          "source": source, "concordance": concordance}  # fmt: skip
    xs = select(cube, reporter=ex, partner=im, flow="export", freq=freq, **kw)
    ms = select(cube, reporter=im, partner=ex, flow="import", freq=freq, **kw)
    if xs.freq != ms.freq and freq == "auto":  # a side with no rows is missing, not annual
        if xs.empty():
            xs = select(cube, reporter=ex, partner=im, flow="export", freq=_freq(ms.freq), **kw)
        elif ms.empty():
            ms = select(cube, reporter=im, partner=ex, flow="import", freq=_freq(xs.freq), **kw)
    unit = xs.freq if xs.freq == ms.freq else "A"
    notes = _dedupe(xs.notes + ms.notes)
    if xs.freq != ms.freq:
        notes.append("one side is reported monthly and the other annually: compared by year")

    keys = ["exporter", "importer"] + (["hs2022"] if by_product else [])
    k = ", ".join(keys)
    x = _side(xs, unit, "reporter", "partner", "x", by_product)
    m = _side(ms, unit, "partner", "reporter", "m", by_product)
    if rng is None:
        lo, hi = cube.rows(f"SELECT min(period), max(period) FROM ({x} UNION ALL {m})")[0]
        if lo is None:
            raise UsageError(f"no {products} trade between {exporters} and {importers}")
        rng = PeriodRange(lo, hi)
    units = periods_in(rng, unit)
    ut = values([{"period": p, "u": i} for i, p in enumerate(units)], "ut", ["period", "u"])
    xc = _coverage(ex, "export", rng, unit, "exporter", "x_cov")
    mc = _coverage(im, "import", rng, unit, "importer", "m_cov")
    on = " AND ".join(f"g.{c} = {{t}}.{c}" for c in [*keys, "period"])
    grid = (
        f"SELECT g.*, coalesce(x.x, 0) AS x, coalesce(m.m, 0) AS m, "
        f"coalesce(xc.x_cov, 0) AS x_cov, coalesce(mc.m_cov, 0) AS m_cov "
        f"FROM (SELECT * FROM (SELECT {k} FROM x UNION SELECT {k} FROM m) CROSS JOIN {ut}) g "
        f"LEFT JOIN x ON {on.format(t='x')} LEFT JOIN m ON {on.format(t='m')} "
        f"LEFT JOIN xc ON g.exporter = xc.exporter AND g.period = xc.period "
        f"LEFT JOIN mc ON g.importer = mc.importer AND g.period = mc.period"
    )
    if window is None:
        need = len(units)
        sums = (
            f"SELECT {k}, NULL::DATE AS period, 0 AS u, sum(x) AS x_sum, sum(m) AS m_sum, "
            f"sum(x_cov) AS x_n, sum(m_cov) AS m_n FROM grid GROUP BY {k}"
        )
    else:
        need = window
        frame = f"(PARTITION BY {k} ORDER BY u ROWS BETWEEN {window - 1} PRECEDING AND CURRENT ROW)"
        sums = (
            f"SELECT * FROM (SELECT {k}, period, u, sum(x) OVER {frame} AS x_sum, "
            f"sum(m) OVER {frame} AS m_sum, sum(x_cov) OVER {frame} AS x_n, "
            f"sum(m_cov) OVER {frame} AS m_n FROM grid) WHERE u >= {window - 1}"
        )
    cif, thr, gap_thr = (
        lit(float(cif_factor)),
        lit(float(log_threshold)),
        lit(float(gap_threshold_usd)),
    )
    sides = (
        f"SELECT *, x_n < {need} AS x_missing, m_n < {need} AS m_missing, "
        f"(CASE WHEN x_n < {need} THEN NULL ELSE x_sum END)::DOUBLE AS x_usd, "
        f"(CASE WHEN m_n < {need} THEN NULL ELSE m_sum END)::DOUBLE AS m_usd FROM sums"
    )
    ratios = (
        f"SELECT *, x_usd - m_fob_usd AS gap_usd, "
        f"(CASE WHEN x_usd > 0 AND m_fob_usd > 0 THEN ln(x_usd / m_fob_usd) END)::DOUBLE "
        f"AS log_ratio, (CASE WHEN x_usd + m_fob_usd > 0 THEN abs(x_usd - m_fob_usd) / "
        f"(x_usd + m_fob_usd) END)::DOUBLE AS sym_share "
        f"FROM (SELECT *, m_usd / {cif} AS m_fob_usd FROM sides)"
    )
    wide = f"CASE WHEN x_usd > 0 AND m_fob_usd > 0 THEN abs(log_ratio) > {thr} ELSE TRUE END"
    breach = (
        f"SELECT *, (CASE WHEN x_missing OR m_missing THEN NULL "
        f"ELSE abs(gap_usd) > {gap_thr} AND ({wide}) END)::BOOLEAN AS breach FROM ratios"
    )
    if window is None:
        flagged = "SELECT *, breach AS flag FROM breach"
    else:  # runs of consecutive breaching windows: a run id that grows on non-breaches
        run = f"(PARTITION BY {k} ORDER BY u ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
        flagged = (
            f"SELECT *, _b = 1 AND sum(_b) OVER (PARTITION BY {k}, _run) >= {min_consecutive} "
            f"AS flag FROM (SELECT *, sum(1 - _b) OVER {run} AS _run FROM "
            f"(SELECT *, coalesce(breach, FALSE)::BIGINT AS _b FROM breach))"
        )
    sql = (
        f"WITH x AS ({x}), m AS ({m}), xc AS ({xc}), mc AS ({mc}), grid AS ({grid}), "
        f"sums AS ({sums}), sides AS ({sides}), ratios AS ({ratios}), breach AS ({breach}), "
        f"flagged AS ({flagged}) SELECT {', '.join(columns(keys))} FROM flagged "
        f"ORDER BY {k}, period"
    )
    table = cube.sql(sql)
    params = {
        "exporters": exporters, "importers": importers, "products": products,
        "period": str(rng), "cif_factor": cif_factor, "window": window,
        "log_threshold": log_threshold, "gap_threshold_usd": gap_threshold_usd,
        "min_consecutive": min_consecutive, "by_product": by_product, "source": source,
        "freq": unit,
    }  # fmt: skip
    notes.append(rule_note(cif_factor, gap_threshold_usd, log_threshold, min_consecutive, window))
    return CubeResult(table, notes, xs.synthetic or ms.synthetic, params, unit)


def _side(sel: Sel, unit: str, exporter: str, importer: str, name: str, by_product: bool) -> str:
    """One side's values per (exporter, importer, [hs2022], period unit)."""
    period = "make_date(year(period), 1, 1)" if unit == "A" and sel.freq == "M" else "period"
    hs = "hs2022, " if by_product else ""
    return (
        f"SELECT {exporter} AS exporter, {importer} AS importer, {hs}{period} AS period, "
        f"sum(value_usd) AS {name} FROM ({sel.sql}) GROUP BY ALL"
    )


def _coverage(
    reporters: list[str], flow: str, rng: PeriodRange, unit: str, role: str, name: str
) -> str:
    """1 for each (reporter, period unit) the reporter reported `flow` for in full."""
    t = (
        f"SELECT DISTINCT reporter AS r, period AS p, freq AS f FROM cube_meta "
        f"WHERE flow = {lit(flow)} AND {in_list('reporter', reporters)} "
        f"AND {in_ranges('period', [rng])}"
    )
    if unit == "M":
        return f"SELECT r AS {role}, p AS period, 1 AS {name} FROM ({t}) WHERE f = 'M' GROUP BY ALL"
    return (
        f"SELECT r AS {role}, make_date(year(p), 1, 1) AS period, "
        f"(CASE WHEN sum(CASE WHEN f = 'A' THEN 12 ELSE 1 END) >= 12 THEN 1 ELSE 0 END) "
        f"AS {name} FROM ({t}) GROUP BY ALL"
    )
