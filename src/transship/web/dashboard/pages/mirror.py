"""Mirror (/mirror): the hub's reported exports against its partners' reported imports."""

from __future__ import annotations

import math
from typing import Any

from transship.web.dashboard.base import PageData, Table, filter_page


def compute(con: Any, f: dict[str, str]) -> PageData:
    from transship.analysis.cube.queries import queries
    from transship.report.charts import spec
    from transship.report.html import money
    from transship.report.mirror_charts import mirror_chart, mirror_monthly_chart

    mirror = queries(con).mirror  # from the dashboard's cube when it can answer
    common: dict[str, Any] = {
        "exporters": f["hub"],
        "importers": f["target"],
        "products": f["products"],
        "period": f["period"],
    }
    whole = mirror(**common, window=None)
    pairs = whole.to_pyarrow().to_pylist()
    windows = mirror(**common, window=3)
    rolling = windows.to_pyarrow().to_pylist()
    monthly = mirror(**common, window=1).to_pyarrow().to_pylist()
    by_month = mirror_monthly_chart(
        monthly,
        title=f"Mirror month by month: {f['hub']} exports vs partners' imports",
        synthetic=whole.synthetic,
    )
    synthetic = whole.synthetic or windows.synthetic
    chart = mirror_chart(
        [{**r, "partner": r["importer"]} for r in pairs],
        title=f"Mirror: {f['hub']} exports vs partners' imports, {f['period']}",
        synthetic=synthetic,
    )
    flagged = [r for r in rolling if r["flag"]]
    p = windows.params
    return PageData(
        title=f"Mirror: {f['hub']}",
        headlines=[
            f"{len(flagged)} of {len(rolling)} rolling {p['window']}-month windows flagged: "
            f"|gap| above {money(p['gap_threshold_usd'])} and X, M fob more than "
            f"{math.exp(p['log_threshold']):.2f} times apart, in at least "
            f"{p['min_consecutive']} consecutive windows."
        ],
        charts={
            "mirror": spec(chart, validate=False),
            "mirror_monthly": spec(by_month, validate=False),
        },
        tables={
            "pairs": Table(pairs, "Exporter-reported X vs importer-reported M, whole period"),
            "windows": Table(rolling, "Rolling 3-month windows (period = last month)"),
        },
        synthetic=synthetic,
        notes=list(dict.fromkeys(whole.notes + windows.notes)),
    )


PAGE = filter_page(
    "mirror",
    "/mirror",
    order=40,
    fields=("hub", "target", "period", "products"),
    summary="Mirror statistics",
    compute=compute,
)
