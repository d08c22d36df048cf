"""Product (/product): a hub's exports to the target by HS2022 code and by CHPL tier."""

from __future__ import annotations

from typing import Any

from transship.web.dashboard.base import PageData, Table, filter_page


def compute(con: Any, f: dict[str, str]) -> PageData:
    from transship.report.charts import series_chart, spec
    from transship.report.views import compared

    common: dict[str, Any] = {
        "reporter": f["hub"],
        "partner": f["target"],
        "products": f["products"],
        "period": f["period"],
        "baseline": f["baseline"],
    }
    hs = compared(con, by="hs2022", **common)
    tiers = compared(con, by="tier", series=True, **common)
    chart = series_chart(
        tiers.series,
        key_title="CHPL tier",
        title=f"{f['hub']} {f['products']} exports to {f['target']} by tier",
        synthetic=tiers.synthetic,
    )
    return PageData(
        title=f"Products: {f['products']}",
        charts={"tiers": spec(chart, validate=False)},
        tables={
            "hs2022": Table(_with_descriptions(hs.rows), "By HS2022 code"),
            "tiers": Table(tiers.rows, "By CHPL tier"),
        },
        synthetic=hs.synthetic or tiers.synthetic,
        notes=hs.notes,
    )


def _with_descriptions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from transship import reference

    desc = {c.hs6: c.description for c in reference.chpl()}
    return [{**r, "description": desc.get(str(r.get("hs2022")), "")} for r in rows]


PAGE = filter_page(
    "product",
    "/product",
    order=30,
    fields=("hub", "target", "period", "products", "baseline"),
    summary="By product and tier",
    compute=compute,
)
