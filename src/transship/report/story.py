"""The numbers behind a hub report: what a hub shipped of a product set to a target group,
against the same months a year earlier and the baseline years, month by month, by partner,
tier and HS code, what the partners say they received (mirror), and what the coalition
shipped to the hub. Plain dicts and lists, so charts, HTML and JSON read the same values.

The comparisons come from `analysis.flows(compare=, baseline=)` and the mirror from
`analysis.mirror`; one monthly series by partner over baseline..period feeds the monthly
chart, its baseline band and the peak.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from transship import reference
from transship.analysis.cube.queries import queries
from transship.periods import PeriodRange, add_months, parse_period

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
    baseline_usd: float | None  # mean over the baseline years (a year without rows is zero)
    by_partner: list[dict[str, Any]]
    by_tier: list[dict[str, Any]]
    top_hs: list[dict[str, Any]]
    monthly: list[dict[str, Any]]  # period (ISO date), partner, value_usd
    band: list[dict[str, Any]]  # period, low, mean, high of the baseline years' same month
    events: list[dict[str, Any]]  # date, id, title inside the monthly window
    peak: dict[str, Any] | None
    mirror: list[dict[str, Any]]
    mirror_params: dict[str, Any]  # cif_factor and the breach thresholds used
    # month by month (mirror window=1): a side that reported nothing is missing, per month
    mirror_monthly: list[dict[str, Any]]
    coalition: dict[str, Any]
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
    cif_factor: float | None = None,
) -> HubStory:
    """Compute a hub report's numbers. `hub` is one country (ISO alpha-3 or an expression
    naming one); `target`, `suppliers` are country expressions; `period` a month range;
    `cif_factor` overrides the mirror analysis' CIF/FOB margin."""
    from transship.errors import UsageError

    hubs = sorted(reference.parse_countries(hub))
    if len(hubs) != 1:
        raise UsageError(
            f"{{hub}} {hub!r}: name one country (got {', '.join(hubs)})", params=("hub",)
        )
    q = queries(con)  # the dashboard's cube when it has one, else the analyses on con
    hub_code = hubs[0]
    partners = sorted(reference.parse_countries(target) - {hub_code})
    rng = parse_period(period) if isinstance(period, str) else period
    if rng.months > 12:
        raise UsageError(
            f"{{period}} {rng}: at most 12 months, so it compares to the prior year",
            params=("period",),
        )
    base = parse_period(baseline)
    prior = shift_years(rng, -1)
    target_expr = "+".join(partners)
    common: dict[str, Any] = {"reporter": hub_code, "partner": target_expr, "products": products}

    # 1. monthly by partner from the baseline's start (or the prior period) to the period's end
    first = min(base.start, prior.start)
    series = q.flows(**common, period=PeriodRange(first, rng.end), by=["period", "partner"])
    notes = list(series.notes)
    freq = series.freq
    if freq == "A":
        notes.append("only annual rows: periods are read as whole years")
    srows = _rows(series)
    if not any(within(x["period"], rng) or within(x["period"], prior) for x in srows):
        raise UsageError(
            f"no {products} exports from {hub_code} to {', '.join(partners)} in {rng} or {prior}"
        )

    # 2. by partner: the period, the same months a year earlier, the baseline years' mean
    cmp = q.flows(**common, period=rng, by=["partner"], compare="prior", baseline=base)
    notes += cmp.notes
    by_partner = [
        {
            "partner": r["partner"],
            "name": country_name(r["partner"]),
            "value_usd": r["value_usd"],
            "compare_usd": r["compare_usd"],
            "baseline_usd": r["baseline_usd"],
            "compare_multiple": r["compare_multiple"],
            "baseline_multiple": r["baseline_multiple"],
        }
        for r in _rows(cmp)
    ]
    by_partner.sort(key=lambda r: -r["value_usd"])
    # sums of the partners' values are the totals (a baseline mean of sums = sum of means)
    total_usd = float(sum(r["value_usd"] or 0.0 for r in by_partner))
    prior_usd = float(sum(r["compare_usd"] or 0.0 for r in by_partner)) or None
    baseline_usd = float(sum(r["baseline_usd"] or 0.0 for r in by_partner)) or None

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
        if window.start <= e.date < add_months(window.end, 1) and e.id in CHART_EVENTS
    ]
    # lane: labels of nearby events are stacked instead of overprinted
    events = [
        {"date": e.date.isoformat(), "id": e.id, "title": e.title, "lane": i % 3}
        for i, e in enumerate(shown)
    ]

    # 3. by HS code in the period (sorted by value), and the tiers' sums of it
    tier_result = q.flows(**common, period=rng, by=["hs2022", "tier"])
    codes = _rows(tier_result)
    tier_sums: dict[str, float] = {}
    for r in codes:
        tier_sums[r["tier"] or "-"] = tier_sums.get(r["tier"] or "-", 0.0) + r["value_usd"]
    by_tier = [{"tier": t, "value_usd": v} for t, v in sorted(tier_sums.items())]
    desc = {c.hs6: c.description for c in reference.chpl()}
    hs = codes[:TOP_HS]
    top_hs = [
        {
            "hs2022": r["hs2022"],
            "tier": r["tier"],
            "description": desc.get(r["hs2022"], ""),
            "value_usd": r["value_usd"],
        }
        for r in hs
    ]

    # 4. mirror: what each partner reports importing from the hub, over the whole period
    extra: dict[str, Any] = {"cif_factor": cif_factor} if cif_factor else {}  # else default
    mir = q.mirror(
        exporters=hub_code,
        importers=target_expr,
        products=products,
        period=rng,
        window=None,
        **extra,
    )
    mirror_rows = sorted(_rows(mir), key=lambda r: -(r["x_usd"] or 0.0))
    monthly_mirror: list[dict[str, Any]] = []
    if freq == "M":
        by_month = q.mirror(exporters=hub_code, importers=target_expr, products=products,
                          period=rng, window=1, **extra)  # fmt: skip
        monthly_mirror = _rows(by_month)
    for r in mirror_rows:
        r["partner"] = r["importer"]
        r["x_over_m"] = ratio(r["x_usd"], r["m_fob_usd"])

    # 5. the coalition's exports of the same goods to the hub, period vs prior
    sup = q.flows(
        reporter=suppliers,
        partner=hub_code,
        products=products,
        period=rng,
        by=[],
        compare="prior",
    )
    sup_row = (_rows(sup) or [{}])[0]
    coalition = {
        "suppliers": suppliers,
        "value_usd": sup_row.get("value_usd"),
        "prior_usd": sup_row.get("compare_usd"),
        "growth": (sup_row["compare_multiple"] - 1.0)
        if sup_row.get("compare_multiple") is not None
        else None,
    }
    synthetic = any(r.synthetic for r in (series, cmp, tier_result, mir, sup))
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
        prior_usd=prior_usd,
        baseline_usd=baseline_usd,
        by_partner=by_partner,
        by_tier=by_tier,
        top_hs=top_hs,
        monthly=monthly,
        band=band,
        events=events,
        peak=peak,
        mirror=mirror_rows,
        mirror_params=mir.params,
        mirror_monthly=monthly_mirror,
        coalition=coalition,
        synthetic=synthetic,
        notes=list(dict.fromkeys(notes + tier_result.notes + mir.notes + sup.notes)),
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
        d = add_months(d, 1)
    return out


def country_name(code: str) -> str:
    try:
        return reference.country(code).name
    except Exception:  # an area code with no entry still prints
        return code
