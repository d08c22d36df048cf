"""Why a result is empty: the first filter that leaves no trade_flows rows.

An analyst who gets no rows should learn whether the warehouse is empty, the reporter
reports nothing for that flow, the pair never traded, the period lies outside the data, or
the product set matches nothing -- instead of an empty table. Filters are applied in the
order a user reads them; each step is one count over `trade_flows` (run only for empty
results).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from transship.analysis._select import countries, select
from transship.periods import parse_period


def _codes(values: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _distinct(t: Any, column: str) -> list[str]:
    col = t[column].cast("string")
    rows = t.select(v=col).distinct().order_by("v").to_pyarrow().column("v").to_pylist()
    return [str(v) for v in rows]


def _count(t: Any) -> int:
    return int(t.aggregate(n=t.count()).to_pyarrow().column("n")[0].as_py())


def why_empty(
    con: Any,
    *,
    reporter: str | None = None,
    partner: str | None = None,
    period: str | None = None,
    flow: str | Sequence[str] | None = "export",
    source: str | None = None,
    products: str | None = None,
) -> str:
    """A sentence naming the filter (by parameter) that leaves no rows, or "" if every
    filter alone keeps some rows (the analysis itself then left nothing: thresholds,
    minimum months)."""
    t = con.table("trade_flows")  # the analysis that came back empty read it
    if _count(t) == 0:
        return "the warehouse holds no trade data (ingest a file or run `transship demo`)"
    if source:
        kept = t.filter(t.source.cast("string") == source)
        if _count(kept) == 0:
            return f"no rows from source {source!r} (sources: {_codes(_distinct(t, 'source'))})"
        t = kept
    if flow:
        flows = [flow] if isinstance(flow, str) else list(flow)
        kept = t.filter(t.flow.cast("string").isin(flows))
        if _count(kept) == 0:
            return f"no {'/'.join(flows)} rows (flows in the data: {_codes(_distinct(t, 'flow'))})"
        t = kept
    what = "/".join([flow] if isinstance(flow, str) else list(flow or [])) or "trade"
    if reporter:
        kept = t.filter(t.reporter.cast("string").isin(countries(reporter)))
        if _count(kept) == 0:
            return (
                f"no {what} rows reported by {reporter} (reporters with {what} data: "
                f"{_codes(_distinct(t, 'reporter'))})"
            )
        t = kept
    if partner:
        kept = t.filter(t.partner.cast("string").isin(countries(partner)))
        if _count(kept) == 0:
            by = f" by {reporter}" if reporter else ""
            return (
                f"no {what} rows to partner {partner}{by} (partners: "
                f"{_codes(_distinct(t, 'partner'))})"
            )
        t = kept
    rng = parse_period(period) if period else None
    if rng is not None:
        kept = t.filter((t.period >= rng.start) & (t.period <= rng.end))
        if _count(kept) == 0:
            span = t.aggregate(lo=t.period.min(), hi=t.period.max()).to_pyarrow().to_pylist()[0]
            return (
                f"no data in period {period}: this selection has data from "
                f"{span['lo']:%Y-%m} to {span['hi']:%Y-%m}"
            )
        t = kept
    if products:
        sel = select(
            con,
            reporter=reporter,
            partner=partner,
            products=products,
            periods=[rng] if rng else (),
            flow=flow or "export",
            source=source,
        )
        if _count(sel.table) == 0:
            return f"the rows of this selection hold no code of products {products!r}"
    return ""
