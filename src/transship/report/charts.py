"""Altair / Vega-Lite charts of a hub story and of analysis results, and static export.

Data is inlined as values (no pandas, no URLs), so a spec renders anywhere with no network.
Charts of synthetic data say SYNTHETIC in their title.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transship.errors import UsageError
from transship.report.chartbase import USD, WIDTH, altair, chart_title, empty_chart
from transship.report.mirror_charts import mirror_chart, mirror_monthly_chart

if TYPE_CHECKING:
    from transship.report.story import HubStory

STORY_KINDS = ("monthly", "compare", "mirror", "mirror_monthly", "tiers", "products")
KINDS = (*STORY_KINDS, "hubs")


def monthly_chart(story: HubStory) -> Any:
    """Monthly exports of the hub to each partner (stacked), the baseline years' range and
    mean for the same calendar month, and timeline events as rules."""
    alt = altair()
    x = alt.X("period:T", title=None, axis=alt.Axis(format="%b %Y"))
    bars = (
        alt.Chart(alt.Data(values=story.monthly))
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("sum(value_usd):Q", title="USD", axis=alt.Axis(format=USD)),
            color=alt.Color("partner:N", title="Partner"),
            tooltip=[
                alt.Tooltip("period:T", format="%b %Y"),
                alt.Tooltip("partner:N"),
                alt.Tooltip("sum(value_usd):Q", format=USD, title="value"),
            ],
        )
    )
    layers = [bars]
    if story.band:
        base = alt.Chart(alt.Data(values=story.band))
        layers.insert(
            0,
            base.mark_area(opacity=0.25, color="#6b7280").encode(
                x=x,
                y=alt.Y("low:Q"),
                y2=alt.Y2("high:Q"),
                tooltip=[alt.Tooltip("mean:Q", format=USD)],
            ),
        )
        layers.append(
            base.mark_line(color="#374151", strokeDash=[4, 3]).encode(x=x, y=alt.Y("mean:Q"))
        )
    if story.events:
        ev = alt.Chart(alt.Data(values=story.events))
        layers.append(
            ev.mark_rule(color="#dc2626").encode(
                x=alt.X("date:T"), tooltip=[alt.Tooltip("title:N")]
            )
        )
        layers.append(
            ev.mark_text(align="left", dx=3, dy=-4, angle=0, color="#dc2626", baseline="bottom")
            .transform_calculate(ypx="12 + 13 * datum.lane")
            .encode(x=alt.X("date:T"), y=alt.Y("ypx:Q", scale=None), text=alt.Text("id:N"))
        )
    band_text = (
        f"grey band: range of {story.baseline.start.year}-{story.baseline.end.year} for the "
        "same calendar month, dashed: its mean; red: timeline events"
        if story.band
        else None
    )
    return alt.layer(*layers).properties(
        width=WIDTH,
        height=280,
        title=chart_title(
            f"{story.hub} {story.products} exports to {story.target}, monthly",
            story.synthetic,
            band_text,
        ),
    )


def compare_chart(story: HubStory) -> Any:
    """Per partner: the period, the same months a year earlier, the baseline mean."""
    return compare_bars(
        story.by_partner,
        key="partner",
        labels=(
            str(story.period),
            f"{story.prior} (prior)",
            f"{story.baseline.start.year}-{story.baseline.end.year} mean",
        ),
        title=f"{story.hub} {story.products} exports: same months compared",
        synthetic=story.synthetic,
    )


def compare_bars(
    rows: Sequence[dict[str, Any]],
    *,
    key: str,
    labels: tuple[str, str, str],
    title: str,
    synthetic: bool,
) -> Any:
    """Grouped bars per `key`: value_usd, compare_usd and baseline_usd, labelled `labels`."""
    alt = altair()
    long = [
        {key: r[key], "measure": label, "value_usd": r[col]}
        for r in rows
        for label, col in zip(labels, ("value_usd", "compare_usd", "baseline_usd"), strict=True)
        if r.get(col) is not None
    ]
    if not long:
        return empty_chart(title, synthetic)
    return (
        alt.Chart(alt.Data(values=long))
        .mark_bar()
        .encode(
            y=alt.Y(f"{key}:N", title=None, sort=[r[key] for r in rows]),
            yOffset=alt.YOffset("measure:N", sort=list(labels)),
            x=alt.X("value_usd:Q", title="USD", axis=alt.Axis(format=USD)),
            color=alt.Color(
                "measure:N",
                sort=list(labels),
                title=None,
                scale=alt.Scale(range=["#1d4ed8", "#93c5fd", "#9ca3af"]),
            ),
            tooltip=[f"{key}:N", alt.Tooltip("measure:N"), alt.Tooltip("value_usd:Q", format=USD)],
        )
        .properties(width=WIDTH, height=alt.Step(9), title=chart_title(title, synthetic))
    )


def series_chart(
    series: Sequence[dict[str, Any]], *, key_title: str, title: str, synthetic: bool
) -> Any:
    """Monthly values stacked by `key` (rows: period, key, value_usd)."""
    alt = altair()
    if not series:
        return empty_chart(title, synthetic)
    return (
        alt.Chart(alt.Data(values=list(series)))
        .mark_bar()
        .encode(
            x=alt.X("period:T", title=None, axis=alt.Axis(format="%b %Y")),
            y=alt.Y("sum(value_usd):Q", title="USD", axis=alt.Axis(format=USD)),
            color=alt.Color("key:N", title=key_title),
            tooltip=[
                alt.Tooltip("period:T", format="%b %Y"),
                alt.Tooltip("key:N", title=key_title),
                alt.Tooltip("sum(value_usd):Q", format=USD, title="value"),
            ],
        )
        .properties(width=WIDTH, height=240, title=chart_title(title, synthetic))
    )


def story_mirror_chart(story: HubStory) -> Any:
    return mirror_chart(
        story.mirror,
        title=f"Mirror: {story.hub} exports vs partners' imports from {story.hub}, {story.period}",
        synthetic=story.synthetic,
    )


def hubs_chart(rows: Sequence[dict[str, Any]], *, synthetic: bool = False) -> Any:
    """Hub ranking: difference-in-differences estimate with its interval, per hub and leg.
    `rows` are analysis.hubs() rows (hub, leg, did, ci_low, ci_high, rank)."""
    alt = altair()
    if not rows:
        return empty_chart("Hub ranking: evidence of rerouting (95% interval)", synthetic)
    order = [r["hub"] for r in sorted(rows, key=lambda r: r.get("rank") or 0)]
    order = list(dict.fromkeys(order))
    y = alt.Y("hub:N", sort=order, title=None)
    base = alt.Chart(alt.Data(values=list(rows)))
    rule = base.mark_rule(strokeWidth=2).encode(
        y=y,
        yOffset=alt.YOffset(
            "leg:N"
        ),  # the two legs of a hub side by side, not on top of each other
        x=alt.X("ci_low:Q", title="CHPL growth minus control growth (DiD)"),
        x2=alt.X2("ci_high:Q"),
        color=alt.Color("leg:N"),
    )
    point = base.mark_point(filled=True, size=60).encode(
        y=y,
        yOffset=alt.YOffset("leg:N"),
        x=alt.X("did:Q"),
        color=alt.Color("leg:N", title=None),
        tooltip=[
            alt.Tooltip("hub:N"),
            alt.Tooltip("leg:N"),
            alt.Tooltip("did:Q", format=".2f"),
            alt.Tooltip("rank:Q"),
        ],
    )
    zero = (
        alt.Chart(alt.Data(values=[{"x": 0}])).mark_rule(strokeDash=[3, 3]).encode(x=alt.X("x:Q"))
    )
    return alt.layer(zero, rule, point).properties(
        width=WIDTH,
        height=alt.Step(11),  # per leg within a hub
        title=chart_title("Hub ranking: evidence of rerouting (95% interval)", synthetic),
    )


def tiers_chart(story: HubStory) -> Any:
    alt = altair()
    if not story.by_tier:
        return empty_chart(f"By CHPL tier, {story.period}", story.synthetic)
    return (
        alt.Chart(alt.Data(values=story.by_tier))
        .mark_bar()
        .encode(
            x=alt.X("tier:N", title="CHPL tier", sort=None),
            y=alt.Y("value_usd:Q", title="USD", axis=alt.Axis(format=USD)),
            tooltip=[alt.Tooltip("tier:N"), alt.Tooltip("value_usd:Q", format=USD)],
        )
        .properties(width=300, title=chart_title(f"By CHPL tier, {story.period}", story.synthetic))
    )


def products_chart(story: HubStory) -> Any:
    alt = altair()
    if not story.top_hs:
        return empty_chart(f"Top HS codes, {story.period}", story.synthetic)
    return (
        alt.Chart(alt.Data(values=story.top_hs))
        .mark_bar()
        .encode(
            y=alt.Y("hs2022:N", sort="-x", title="HS2022"),
            x=alt.X("value_usd:Q", title="USD", axis=alt.Axis(format=USD)),
            color=alt.Color("tier:N", title="tier"),
            tooltip=[
                alt.Tooltip("hs2022:N"),
                alt.Tooltip("description:N"),
                alt.Tooltip("tier:N"),
                alt.Tooltip("value_usd:Q", format=USD),
            ],
        )
        .properties(
            width=WIDTH, title=chart_title(f"Top HS codes, {story.period}", story.synthetic)
        )
    )


def story_charts(story: HubStory) -> dict[str, Any]:
    """The report's charts by kind, in reading order."""
    return {
        "monthly": monthly_chart(story),
        "compare": compare_chart(story),
        "mirror": story_mirror_chart(story),
        "mirror_monthly": mirror_monthly_chart(
            story.mirror_monthly,
            title=f"Mirror month by month: {story.hub} exports vs partners' imports",
            synthetic=story.synthetic,
        ),
        "tiers": tiers_chart(story),
        "products": products_chart(story),
    }


def make_chart(con: Any, kind: str, **params: Any) -> Any:
    """One chart by kind. Story kinds take hub_story()'s parameters (hub, target, period,
    products, baseline); `hubs` ranks the candidate hubs (analysis.hubs: products, baseline)."""
    from transship.report.story import hub_story

    if kind == "hubs":
        from transship.analysis.hubs import hubs

        r = hubs(
            con,
            products=params.get("products", "chpl"),
            baseline=params.get("baseline", "2015..2021"),
        )
        rows = r.to_pyarrow().to_pylist()
        if not any(x["did"] is not None for x in rows):
            raise UsageError(
                "no hub has a difference-in-differences estimate (no control goods "
                "in the data); see `transship hubs`"
            )
        return hubs_chart(rows, synthetic=r.synthetic)
    if kind not in STORY_KINDS:
        raise UsageError(f"chart kind {kind!r}: kinds are {', '.join(KINDS)}")
    return story_charts(hub_story(con, **params))[kind]


def spec(chart: Any, *, validate: bool = True) -> dict[str, Any]:
    """The chart's Vega-Lite spec as a dict. `validate=False` skips checking it against the
    Vega-Lite schema (~30-50 ms a chart here): the dashboard's pages, whose specs the tests
    validate (tests/test_cube.py)."""
    return chart.to_dict(validate=validate)  # type: ignore[no-any-return]


def save_chart(chart: Any, out: Path) -> Path:
    """Write a chart as .png, .svg, .pdf (static, via vl-convert) or .json / .html."""
    import json

    import vl_convert as vlc

    from transship.errors import ParameterError
    from transship.safepath import write_bytes, write_text

    s = spec(chart)
    suffix = out.suffix.lower()
    no_net: list[str] = []  # data is inline; never fetch anything
    if suffix == ".png":
        write_bytes(out, vlc.vegalite_to_png(s, scale=2, allowed_base_urls=no_net), parameter="out")
    elif suffix == ".svg":
        write_text(out, vlc.vegalite_to_svg(s, allowed_base_urls=no_net), parameter="out")
    elif suffix == ".pdf":
        write_bytes(out, vlc.vegalite_to_pdf(s, allowed_base_urls=no_net), parameter="out")
    elif suffix == ".json":
        write_text(out, json.dumps(s, indent=1, default=str), parameter="out")
    elif suffix == ".html":
        write_text(out, vlc.vegalite_to_html(s, bundle=True), parameter="out")
    else:
        raise ParameterError("out", f"{out}: use .png, .svg, .pdf, .json or .html")
    return out
