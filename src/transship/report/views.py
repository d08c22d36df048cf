"""Tables behind the dashboard's overview, product and mirror pages: values for a period
against the same months a year earlier and the baseline years' mean, by one dimension."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from transship.analysis.flows import flows
from transship.periods import PeriodRange, parse_period
from transship.report.story import CIF_FACTOR, country_name, ratio, shift_years, within


@dataclass
class View:
    """Rows for a page, what they were computed from, and whether any input is synthetic."""

    rows: list[dict[str, Any]]
    synthetic: bool
    notes: list[str] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)  # period, key, value_usd


def compared(
    con: Any,
    *,
    by: str,
    reporter: str | None,
    partner: str | None,
    products: str = "chpl",
    period: str,
    baseline: str = "2015..2021",
    flow: str = "export",
) -> View:
    """Per value of `by`: value_usd in `period`, prior_usd (same months a year earlier),
    baseline_usd (mean over the baseline years of the same months, years without any row
    left out), and the two multiples. One flows() query by (by, period)."""
    rng = parse_period(period)
    base = parse_period(baseline)
    prior = shift_years(rng, -1)
    first = min(base.start, prior.start)
    r = flows(
        con,
        reporter=reporter,
        partner=partner,
        products=products,
        flow=flow,
        period=PeriodRange(first, rng.end),
        by=[by, "period"],
    )
    rows = r.to_pyarrow().to_pylist()
    years = [
        shift_years(rng, y - rng.start.year)
        for y in range(base.start.year, base.end.year + 1)
        if within(shift_years(rng, y - rng.start.year).start, base)
        and within(shift_years(rng, y - rng.start.year).end, base)
    ]
    with_data = [y for y in years if any(within(x["period"], y) for x in rows)]

    def total(rg: PeriodRange, key: Any) -> float | None:
        vals = [x["value_usd"] for x in rows if x[by] == key and within(x["period"], rg)]
        return float(sum(vals)) if vals else None

    out = []
    for key in sorted({x[by] for x in rows}, key=str):
        v, pv = total(rng, key), total(prior, key)
        bv = sum(total(y, key) or 0.0 for y in with_data) / len(with_data) if with_data else None
        if v is None and pv is None:
            continue
        row: dict[str, Any] = {by: key}
        if by in ("reporter", "partner"):
            row["name"] = country_name(str(key))
        row.update(
            value_usd=v or 0.0,
            prior_usd=pv,
            prior_multiple=ratio(v or 0.0, pv),
            baseline_usd=bv,
            baseline_multiple=ratio(v or 0.0, bv),
        )
        out.append(row)
    out.sort(key=lambda x: -x["value_usd"])
    window = PeriodRange(prior.start, rng.end)
    series = [
        {"period": x["period"].isoformat(), "key": str(x[by]), "value_usd": x["value_usd"]}
        for x in rows
        if within(x["period"], window)
    ]
    return View(rows=out, synthetic=r.synthetic, notes=r.notes, series=series)


def mirror_pairs(
    con: Any,
    *,
    exporter: str,
    importers: str,
    products: str = "chpl",
    period: str,
    cif_factor: float = CIF_FACTOR,
) -> View:
    """Per (exporter, importer) pair over the whole period: exporter-reported X, importer-
    reported M (CIF) and M at FOB, the gap and X / M_fob. A side with no rows is missing."""
    x = flows(
        con,
        reporter=exporter,
        partner=importers,
        products=products,
        period=period,
        by=["reporter", "partner"],
    )
    m = flows(
        con,
        reporter=importers,
        partner=exporter,
        products=products,
        period=period,
        flow="import",
        by=["reporter", "partner"],
    )
    xs = {(r["reporter"], r["partner"]): r["value_usd"] for r in x.to_pyarrow().to_pylist()}
    ms = {(r["partner"], r["reporter"]): r["value_usd"] for r in m.to_pyarrow().to_pylist()}
    rows = []
    for pair in sorted(set(xs) | set(ms)):
        if pair[0] == pair[1]:
            continue
        xv, mv = xs.get(pair), ms.get(pair)
        m_fob = mv / cif_factor if mv is not None else None
        rows.append(
            {
                "exporter": pair[0],
                "importer": pair[1],
                "partner": pair[1],
                "x_usd": xv,
                "m_usd": mv,
                "m_fob_usd": m_fob,
                "gap_usd": xv - m_fob if xv is not None and m_fob is not None else None,
                "x_over_m": ratio(xv, m_fob),
            }
        )
    rows.sort(key=lambda r: -(r["gap_usd"] or 0.0))
    notes = list(dict.fromkeys(x.notes + m.notes))
    return View(rows=rows, synthetic=x.synthetic or m.synthetic, notes=notes)
