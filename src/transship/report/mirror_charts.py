"""Mirror charts: exporter-reported X against importer-reported M (FOB) per partner, and
month by month, with a labelled "not reported" band where a side is missing."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from transship.report.chartbase import BAR, USD, WIDTH, altair, chart_title, empty_chart

MISSING = "not reported"
MIRROR_SIDES = (
    ("exporter reports (X)", "x_usd", "x_missing"),
    ("importer reports (M fob)", "m_fob_usd", "m_missing"),
)


def mirror_chart(rows: Sequence[dict[str, Any]], *, title: str, synthetic: bool) -> Any:
    """Exporter-reported X against importer-reported M converted to FOB, per partner.
    `rows` have partner (or importer), x_usd, m_fob_usd and x_missing / m_missing. A side that
    reported nothing is drawn as a grey band labelled "not reported" (missing, not zero)."""
    alt = altair()
    sides = MIRROR_SIDES
    present = [float(r[k]) for r in rows for _, k, _ in sides if r.get(k) is not None]
    span = max(present, default=0.0) or 1.0  # a missing side's band spans the axis
    long = []
    partners: list[str] = []
    for r in rows:
        who = str(r.get("partner") or r.get("importer"))
        partners.append(who)
        for label, key, miss in sides:
            if r.get(key) is not None:
                long.append({"partner": who, "side": label, "value_usd": r[key],
                             "status": "reported"})  # fmt: skip
            elif r.get(miss):
                long.append({"partner": who, "side": label, "value_usd": span,
                             "status": MISSING})  # fmt: skip
    if not long:
        return empty_chart(title, synthetic)
    partners = list(dict.fromkeys(partners))
    y = alt.Y("partner:N", title=None, sort=partners)
    y_off = alt.YOffset("side:N", sort=[s[0] for s in sides])
    base = alt.Chart(alt.Data(values=long))
    bars = base.transform_filter("datum.status == 'reported'").mark_bar().encode(
        y=y, yOffset=y_off,
        x=alt.X("value_usd:Q", title="USD", axis=alt.Axis(format=USD)),
        color=alt.Color("side:N", title=None, scale=alt.Scale(range=["#1d4ed8", "#f59e0b"])),
        tooltip=[alt.Tooltip("partner:N"), alt.Tooltip("side:N"),
                 alt.Tooltip("value_usd:Q", format=USD)],
    )  # fmt: skip
    gone = base.transform_filter(f"datum.status == '{MISSING}'")
    band = gone.mark_bar(color="#9ca3af", opacity=0.25).encode(
        y=y,
        yOffset=y_off,
        x=alt.X("value_usd:Q"),
        tooltip=[alt.Tooltip("partner:N"), alt.Tooltip("side:N"), alt.Tooltip("status:N")],
    )
    text = gone.mark_text(align="left", dx=4, fontSize=10, color="#374151").encode(
        y=y, yOffset=y_off, x=alt.XValue(0),
        text=alt.Text("label:N"),
    ).transform_calculate(label="datum.side + ': not reported'")  # fmt: skip
    return alt.layer(bars, band, text).properties(
        width=WIDTH,
        height=BAR * 2 * len(partners),
        title=chart_title(
            title, synthetic, "grey band: that side reported nothing (missing, not zero)"
        ),
    )


def mirror_monthly_chart(
    rows: Sequence[dict[str, Any]], *, title: str, synthetic: bool, max_partners: int = 6
) -> Any:
    """Month by month, per partner: X and M fob as lines, and a grey band labelled "not
    reported" over the months a side is missing. `rows` are mirror(window=1) rows."""
    alt = altair()
    totals: dict[str, float] = {}
    for r in rows:
        totals[r["importer"]] = totals.get(r["importer"], 0.0) + float(r.get("x_usd") or 0.0)
    keep = sorted(totals, key=lambda k: -totals[k])[:max_partners]
    charts = []
    for who in keep:
        lines, bands = [], []
        for r in rows:
            if r["importer"] != who or r.get("period") is None:
                continue
            p = _iso(r["period"])
            for label, key, miss in MIRROR_SIDES:
                if r.get(miss):
                    bands.append({"start": p, "end": _iso(_next_month(r["period"])),
                                  "what": f"{label}: {MISSING}"})  # fmt: skip
                elif r.get(key) is not None:
                    lines.append({"period": p, "side": label, "value_usd": r[key]})
        if not lines and not bands:
            continue
        layers = []
        if bands:
            bb = alt.Chart(alt.Data(values=bands))
            layers.append(bb.mark_rect(color="#9ca3af", opacity=0.25).encode(
                x=alt.X("start:T"), x2=alt.X2("end:T"),
                tooltip=[alt.Tooltip("what:N")]))  # fmt: skip
            # one label at the start of each run of missing months
            first = [bands[0]] + [
                b for a, b in itertools.pairwise(bands)
                if a["end"] != b["start"] or a["what"] != b["what"]
            ]  # fmt: skip
            layers.append(alt.Chart(alt.Data(values=first)).mark_text(
                align="left", baseline="top", dx=3, dy=3, fontSize=10, color="#374151",
            ).encode(x=alt.X("start:T"), y=alt.YValue(0), text=alt.Text("what:N")))  # fmt: skip
        if lines:
            layers.append(alt.Chart(alt.Data(values=lines)).mark_line(point=True).encode(
                x=alt.X("period:T", title=None, axis=alt.Axis(format="%b %Y")),
                y=alt.Y("value_usd:Q", title="USD", axis=alt.Axis(format=USD)),
                color=alt.Color("side:N", title=None,
                                scale=alt.Scale(domain=["exporter reports (X)",
                                                        "importer reports (M fob)"],
                                                range=["#1d4ed8", "#f59e0b"])),
                tooltip=[alt.Tooltip("period:T", format="%b %Y"), alt.Tooltip("side:N"),
                         alt.Tooltip("value_usd:Q", format=USD)],
            ))  # fmt: skip
        charts.append(alt.layer(*layers).properties(width=WIDTH, height=110, title=who))
    if not charts:
        return empty_chart(title, synthetic)
    note = "grey band: months a side reported nothing (missing, not zero)"
    return alt.vconcat(*charts).properties(title=chart_title(title, synthetic, note))


def _iso(d: Any) -> str:
    return d.isoformat() if hasattr(d, "isoformat") else str(d)


def _next_month(d: Any) -> Any:
    import datetime as dt

    from transship.periods import add_months

    return add_months(dt.date(d.year, d.month, 1), 1)
