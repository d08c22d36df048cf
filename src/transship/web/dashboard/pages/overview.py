"""Overview (/): exports of the candidate hubs to the target and the hub ranking."""

from __future__ import annotations

from typing import Any

from transship.web.dashboard.base import PageData, Table, filter_page


def compute(con: Any, f: dict[str, str]) -> PageData:
    from transship.report.charts import compare_bars, hubs_chart, spec
    from transship.report.views import compared

    v = compared(
        con,
        by="reporter",
        reporter="hubs",
        partner=f["target"],
        products=f["products"],
        period=f["period"],
        baseline=f["baseline"],
    )
    b = f["baseline"].replace("..", "-")
    charts = {
        "exports": spec(
            compare_bars(
                v.rows[:12],
                key="reporter",
                labels=(f["period"], "prior year", f"{b} mean"),
                title=f"{f['products']} exports of candidate hubs to {f['target']}",
                synthetic=v.synthetic,
            ),
            validate=False,  # the tests validate the pages' specs
        )
    }
    ranking, ranked = _ranking(con, f["products"], f["baseline"])
    if any(r["did"] is not None for r in ranked):
        charts["ranking"] = spec(hubs_chart(ranked, synthetic=ranking.synthetic), validate=False)
    return PageData(
        title="Overview: candidate hubs",
        charts=charts,
        tables={
            "hubs": Table(v.rows, f"Exports of the candidate hubs to {f['target']}", "reporter"),
            "ranking": Table(ranked, "Hub ranking (difference in differences)", "hub"),
        },
        synthetic=v.synthetic or ranking.synthetic,
        notes=list(dict.fromkeys(v.notes + ranking.notes)),
    )


def _ranking(con: Any, products: str, baseline: str) -> tuple[Any, list[dict[str, Any]]]:
    """hubs() does not depend on the overview's period or target (the cube answers it in
    milliseconds; without a cube it runs on the warehouse each time)."""
    from transship.analysis.cube.queries import queries

    r = queries(con).hubs(products=products, baseline=baseline)
    return r, r.to_pyarrow().to_pylist()


PAGE = filter_page(
    "overview",
    "/",
    order=10,
    fields=("target", "period", "products", "baseline"),
    summary="Overview: candidate hubs",
    compute=compute,
)
