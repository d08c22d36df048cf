"""Tables behind the dashboard's overview and product pages: values for a period against
the same months a year earlier and the baseline years' mean, by one dimension, with the
monthly series for a chart. Built on `analysis.flows(compare=, baseline=)`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from transship.analysis.cube.queries import queries
from transship.periods import PeriodRange, parse_period
from transship.report.story import country_name, shift_years


@dataclass
class View:
    """Rows for a page, notes, whether any input is synthetic, and an optional series."""

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
    series: bool = False,
) -> View:
    """Per value of `by`: value_usd in `period`, compare_usd (the same months a year
    earlier), baseline_usd (mean over the baseline years of the same months) and their
    multiples; with `series`, monthly values by `by` from the prior period's start."""
    q = queries(con)
    rng = parse_period(period)
    common: dict[str, Any] = {
        "reporter": reporter,
        "partner": partner,
        "products": products,
        "flow": flow,
    }
    r = q.flows(**common, period=rng, by=[by], compare="prior", baseline=baseline)
    rows = []
    for row in r.to_pyarrow().to_pylist():
        out: dict[str, Any] = {by: row[by]}
        if by in ("reporter", "partner"):
            out["name"] = country_name(str(row[by]))
        out.update(
            (k, row[k])
            for k in (
                "value_usd",
                "compare_usd",
                "compare_multiple",
                "baseline_usd",
                "baseline_multiple",
            )
        )
        rows.append(out)
    rows.sort(key=lambda x: -(x["value_usd"] or 0.0))
    monthly: list[dict[str, Any]] = []
    synthetic = r.synthetic
    if series:
        window = PeriodRange(shift_years(rng, -1).start, rng.end)
        s = q.flows(**common, period=window, by=["period", by])
        synthetic = synthetic or s.synthetic
        monthly = [
            {"period": x["period"].isoformat(), "key": str(x[by]), "value_usd": x["value_usd"]}
            for x in s.to_pyarrow().to_pylist()
        ]
    return View(rows=rows, synthetic=synthetic, notes=r.notes, series=monthly)
