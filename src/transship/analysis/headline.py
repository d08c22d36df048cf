"""The headline an analyst publishes, in one call: a period's total vs the same months a year
earlier and vs a baseline average, split by partner, and the monthly series with its peak.

The Financial Times (Nov 2023): Turkey's CHPL exports to Russia and five ex-Soviet states in
Jan-Sep 2023, against Jan-Sep 2022 and the 2015-2021 average, and the monthly peak.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from transship.analysis._select import as_range
from transship.analysis.flows import flows
from transship.analysis.result import AnalysisResult
from transship.periods import PeriodRange


@dataclass
class Headline:
    total: AnalysisResult  # one row: value_usd, compare_*, baseline_*
    by_partner: AnalysisResult  # the same, per partner
    series: AnalysisResult  # by period over `series`, with the same-month compare/baseline
    peak: dict[str, Any] = field(default_factory=dict)  # period, value_usd of the top month

    @property
    def notes(self) -> list[str]:
        return list(dict.fromkeys(self.total.notes + self.series.notes))

    @property
    def synthetic(self) -> bool:
        return self.total.synthetic or self.series.synthetic


def headline(
    con: Any,
    *,
    reporter: str,
    partner: str,
    products: str = "chpl",
    period: str | PeriodRange,
    compare: str | PeriodRange = "prior",
    baseline: str | PeriodRange | None = "2015..2021",
    series: str | PeriodRange | None = None,
    flow: str = "export",
    source: str | None = None,
    concordance: str = "strict",
) -> Headline:
    """Totals vs compare and baseline, by partner, and the monthly series (default: from the
    start of the compare period to the end of `period`) with its peak month."""
    main = as_range(period)
    assert main is not None
    kw: dict[str, Any] = {"reporter": reporter, "partner": partner, "products": products,
                          "flow": flow, "source": source, "concordance": concordance}  # fmt: skip
    total = flows(con, period=main, by=(), compare=compare, baseline=baseline, **kw)
    parts = flows(con, period=main, by=("partner",), compare=compare, baseline=baseline, **kw)
    srange = as_range(series)
    if srange is None:
        start = as_range(total.params["compare"]) if total.params.get("compare") else main
        assert start is not None
        srange = PeriodRange(start.start, main.end)
    s = flows(con, period=srange, by=("period",), freq=total.freq, **kw)  # type: ignore[arg-type]
    top = s.table.order_by([s.table.value_usd.desc(), s.table.period]).limit(1)
    found = top.to_pyarrow().to_pylist()
    peak = found[0] if found else {}
    if peak:
        s.notes.append(f"peak month in {srange}: {peak['period']:%Y-%m}, "
                       f"${peak['value_usd']:,.0f}")  # fmt: skip
    return Headline(total, parts, s, {k: peak[k] for k in ("period", "value_usd")} if peak else {})
