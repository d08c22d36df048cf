"""The numbers behind a hub report: what a hub shipped of a product set to a target group,
against the same months a year earlier and the baseline years, month by month, by partner,
tier and HS code, what the partners say they received (mirror), and what the coalition
shipped to the hub. Plain dicts and lists, so charts, HTML and JSON read the same values.

Few warehouse queries: one monthly series by partner over baseline..period feeds the
headline, the comparisons, the monthly chart and the peak; the rest are small group-bys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from transship import reference
from transship.analysis.flows import flows
from transship.periods import PeriodRange, parse_period

CIF_FACTOR = 1.06  # the mirror analysis' default CIF/FOB margin (DESIGN.md: mirror)
TOP_HS = 10


@dataclass
class HubStory:
    """Everything a hub report says, computed from the warehouse."""

    hub: str
    target: str
    products: str
    period: PeriodRange
    baseline: PeriodRange
    prior: PeriodRange
    freq: str
    partners: list[str]
    total_usd: float
    prior_usd: float | None  # None: no rows in the prior months (missing, not zero)
    baseline_usd: float | None  # mean over the baseline years that have rows
    baseline_years: list[int]
    by_partner: list[dict[str, Any]]
    by_tier: list[dict[str, Any]]
    top_hs: list[dict[str, Any]]
    monthly: list[dict[str, Any]]  # period (ISO date), partner, value_usd
    band: list[dict[str, Any]]  # period, low, mean, high of the baseline years' same month
    events: list[dict[str, Any]]  # date, id, title inside the monthly window
    peak: dict[str, Any] | None
    mirror: list[dict[str, Any]]
    coalition: dict[str, Any]
    cif_factor: float
    synthetic: bool
    notes: list[str] = field(default_factory=list)

    @property
    def prior_multiple(self) -> float | None:
        return ratio(self.total_usd, self.prior_usd)

    @property
    def baseline_multiple(self) -> float | None:
        return ratio(self.total_usd, self.baseline_usd)


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def shift_years(rng: PeriodRange, years: int) -> PeriodRange:
    return PeriodRange(
        rng.start.replace(year=rng.start.year + years), rng.end.replace(year=rng.end.year + years)
    )


def _month_add(d: date, months: int) -> date:
    m = d.year * 12 + d.month - 1 + months
    return date(m // 12, m % 12 + 1, 1)


def _rows(result: Any) -> list[dict[str, Any]]:
    return result.to_pyarrow().to_pylist()  # type: ignore[no-any-return]


def within(d: date, rng: PeriodRange) -> bool:
    return rng.start <= d <= rng.end


def hub_story(
    con: Any,
    *,
    hub: str,
    target: str = "russia+ft_five",
    period: str | PeriodRange,
    products: str = "chpl",
    baseline: str = "2015..2021",
    suppliers: str = "coalition",
    cif_factor: float = CIF_FACTOR,
) -> HubStory:
    """Compute a hub report's numbers. `hub` is one country (ISO alpha-3 or an expression
    naming one); `target`, `suppliers` are country expressions; `period` a month range."""
    from transship.errors import UsageError

    hubs = sorted(reference.parse_countries(hub))
    if len(hubs) != 1:
        raise UsageError(f"--hub {hub!r}: name one country (got {', '.join(hubs)})")
    hub_code = hubs[0]
    partners = sorted(reference.parse_countries(target) - {hub_code})
    rng = parse_period(period) if isinstance(period, str) else period
    if rng.months > 12:
        raise UsageError(f"--period {rng}: at most 12 months, so it compares to the prior year")
    base = parse_period(baseline)
    prior = shift_years(rng, -1)
    target_expr = "+".join(partners)
    common: dict[str, Any] = {"reporter": hub_code, "partner": target_expr, "products": products}

    # 1. monthly by partner from the baseline's start (or the prior period) to the period's end
    first = min(base.start, prior.start)
    series = flows(con, **common, period=PeriodRange(first, rng.end), by=["period", "partner"])
    notes = list(series.notes)
    freq = series.freq
    if freq == "A":
        notes.append("only annual rows: periods are read as whole years")
    srows = _rows(series)
    if not any(within(x["period"], rng) or within(x["period"], prior) for x in srows):
        raise UsageError(
            f"no {products} exports from {hub_code} to {', '.join(partners)} in {rng} or {prior}"
        )

    def total(r: PeriodRange, partner: str | None = None) -> float | None:
        vals = [
            x["value_usd"]
            for x in srows
            if within(x["period"], r) and (partner is None or x["partner"] == partner)
        ]
        return float(sum(vals)) if vals else None

    year_ranges = {
        y: shift_years(rng, y - rng.start.year)
        for y in range(base.start.year, base.end.year + 1)
        if within(shift_years(rng, y - rng.start.year).start, base)
        and within(shift_years(rng, y - rng.start.year).end, base)
    }
    years_with_data = [y for y, r in year_ranges.items() if total(r) is not None]
    missing = sorted(set(year_ranges) - set(years_with_data))
    if missing:
        notes.append(
            "baseline years without rows for these months (left out of the mean, not zero): "
            + ", ".join(map(str, missing))
        )

    def baseline_mean(partner: str | None = None) -> float | None:
        vals = [total(year_ranges[y], partner) or 0.0 for y in years_with_data]
        return sum(vals) / len(vals) if vals else None

    total_usd = total(rng) or 0.0
    by_partner: list[dict[str, Any]] = []
    for p in partners:
        v = total(rng, p)
        pv = total(prior, p)
        bv = baseline_mean(p)
        if v is None and pv is None and not bv:
            continue
        by_partner.append(
            {
                "partner": p,
                "name": country_name(p),
                "value_usd": v or 0.0,
                "prior_usd": pv,
                "baseline_usd": bv,
                "prior_multiple": ratio(v or 0.0, pv),
                "baseline_multiple": ratio(v or 0.0, bv),
            }
        )
    by_partner.sort(key=lambda r: -r["value_usd"])

    # the monthly chart: two years before the period's year to its end, with the band
    window = PeriodRange(date(max(rng.start.year - 2, first.year), 1, 1), rng.end)
    monthly = [
        {"period": x["period"].isoformat(), "partner": x["partner"], "value_usd": x["value_usd"]}
        for x in srows
        if within(x["period"], window)
    ]
    months: dict[date, float] = {}
    for x in srows:
        if within(x["period"], window):
            months[x["period"]] = months.get(x["period"], 0.0) + x["value_usd"]
    peak = None
    if months:
        pd_, pv_ = max(months.items(), key=lambda kv: kv[1])
        peak = {"period": pd_.isoformat(), "value_usd": pv_}
    band = _band(srows, base, window) if freq == "M" else []
    shown = [
        e
        for e in reference.events()
        if window.start <= e.date < _month_add(window.end, 1) and e.id in CHART_EVENTS
    ]
    # lane: labels of nearby events are stacked instead of overprinted
    events = [
        {"date": e.date.isoformat(), "id": e.id, "title": e.title, "lane": i % 3}
        for i, e in enumerate(shown)
    ]

    # 2. by tier and HS code in the period
    tier_result = flows(con, **common, period=rng, by=["tier"])
    tiers = _rows(tier_result)
    by_tier = [
        {"tier": t["tier"] or "-", "value_usd": t["value_usd"]}
        for t in sorted(tiers, key=lambda t: str(t["tier"]))
    ]
    desc = {c.hs6: c.description for c in reference.chpl()}
    hs = _rows(flows(con, **common, period=rng, by=["hs2022", "tier"]))[:TOP_HS]
    top_hs = [
        {
            "hs2022": r["hs2022"],
            "tier": r["tier"],
            "description": desc.get(r["hs2022"], ""),
            "value_usd": r["value_usd"],
        }
        for r in hs
    ]

    # 3. mirror: what each partner reports importing from the hub (CIF -> FOB)
    m_result = flows(
        con,
        reporter=target_expr,
        partner=hub_code,
        products=products,
        period=rng,
        flow="import",
        by=["reporter"],
    )
    m_rows = _rows(m_result)
    m_by = {r["reporter"]: r["value_usd"] for r in m_rows}
    mirror: list[dict[str, Any]] = []
    for row in by_partner:
        xv = total(rng, row["partner"])
        m = m_by.get(row["partner"])
        m_fob = m / cif_factor if m is not None else None
        gap = xv - m_fob if xv is not None and m_fob is not None else None
        mirror.append(
            {
                "partner": row["partner"],
                "x_usd": xv,
                "m_usd": m,
                "m_fob_usd": m_fob,
                "gap_usd": gap,
                "x_over_m": ratio(xv, m_fob),
            }
        )

    # 4. the coalition's exports of the same goods to the hub, period vs prior
    sup_result = flows(
        con,
        reporter=suppliers,
        partner=hub_code,
        products=products,
        period=PeriodRange(prior.start, rng.end),
        by=["period"],
    )
    sup = _rows(sup_result)
    now = sum(r["value_usd"] for r in sup if within(r["period"], rng))
    before = sum(r["value_usd"] for r in sup if within(r["period"], prior))
    coalition = {
        "suppliers": suppliers,
        "value_usd": now if sup else None,
        "prior_usd": before if sup else None,
        "growth": (now / before - 1.0) if before else None,
    }
    synthetic = any(r.synthetic for r in (series, tier_result, m_result, sup_result))
    return HubStory(
        hub=hub_code,
        target=target,
        products=products,
        period=rng,
        baseline=base,
        prior=prior,
        freq=freq,
        partners=partners,
        total_usd=total_usd,
        prior_usd=total(prior),
        baseline_usd=baseline_mean(),
        baseline_years=years_with_data,
        by_partner=by_partner,
        by_tier=by_tier,
        top_hs=top_hs,
        monthly=monthly,
        band=band,
        events=events,
        peak=peak,
        mirror=mirror,
        coalition=coalition,
        cif_factor=cif_factor,
        synthetic=synthetic,
        notes=list(dict.fromkeys(notes)),
    )


# Timeline events drawn on the monthly chart: the war, the CHPL's publication, the EU's
# anti-circumvention package, the US secondary-sanctions order, Turkey's customs block.
CHART_EVENTS = frozenset({"invasion", "chpl-2023-05", "eu-pkg-11", "eo14114", "tr-customs-block"})


def _band(
    srows: list[dict[str, Any]], base: PeriodRange, window: PeriodRange
) -> list[dict[str, Any]]:
    """For each month of the window, low/mean/high of the baseline years' same calendar month."""
    by_month: dict[tuple[int, int], float] = {}
    for x in srows:
        if within(x["period"], base):
            key = (x["period"].year, x["period"].month)
            by_month[key] = by_month.get(key, 0.0) + x["value_usd"]
    out = []
    d = window.start
    while d <= window.end:
        vals = [v for (y, m), v in by_month.items() if m == d.month]
        if vals:
            out.append(
                {
                    "period": d.isoformat(),
                    "low": min(vals),
                    "mean": sum(vals) / len(vals),
                    "high": max(vals),
                }
            )
        d = _month_add(d, 1)
    return out


def country_name(code: str) -> str:
    try:
        return reference.country(code).name
    except Exception:  # an area code with no entry still prints
        return code
