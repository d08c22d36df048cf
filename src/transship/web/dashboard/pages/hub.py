"""Hub (/hub): one hub's exports to the target, month by month, by partner and by tier."""

from __future__ import annotations

from typing import Any

from transship.web.dashboard.base import PageData, Table, filter_page


def compute(con: Any, f: dict[str, str]) -> PageData:
    from transship.report.charts import spec, story_charts
    from transship.report.html import headlines
    from transship.report.story import hub_story

    s = hub_story(
        con,
        hub=f["hub"],
        target=f["target"],
        period=f["period"],
        products=f["products"],
        baseline=f["baseline"],
    )
    charts = story_charts(s)
    return PageData(
        title=f"Hub: {s.hub}",
        headlines=headlines(s),
        charts={k: spec(charts[k], validate=False) for k in ("monthly", "compare", "tiers")},
        tables={
            "partners": Table(s.by_partner, "By destination"),
            "monthly": Table(s.monthly, "Monthly by partner"),
            "tiers": Table(s.by_tier, "By CHPL tier"),
        },
        synthetic=s.synthetic,
        notes=s.notes,
    )


PAGE = filter_page(
    "hub",
    "/hub",
    order=20,
    fields=("hub", "target", "period", "products", "baseline"),
    summary="One hub's exports",
    compute=compute,
)
