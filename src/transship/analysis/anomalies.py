"""Surges against each series' own past, and event studies around timeline dates.

anomalies: for every (reporter, partner, HS2022 product) series, the pre-period months with a
positive value give a robust centre and spread of log values -- the median m and the median
absolute deviation (MAD) of ln(value). A value v then scores

    score(v) = (ln(v) - m) / max(1.4826 * MAD, mad_floor)

(1.4826 * MAD estimates a standard deviation for normal data; the floor keeps a perfectly flat
series from turning any change into an infinite score). `post_usd` is the mean monthly value
over the post period (months without a row count as zero) and `score` is its score;
`first_surge_period` is the first post month whose own value scores above `threshold`.
Series with fewer than `min_pre_months` positive pre months are left out (too little history
to call anything a surge). `pre_median_usd` = exp(m), the typical pre month. Ranked by score.

event_study: the monthly series of the selection from `before` months before the event's
month to `after` months after it (months without rows count as zero), with the mean of the
months before the event and each month's index against it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from transship import reference
from transship.analysis._select import (
    as_range,
    from_month_index,
    month_index,
    periods_in,
    select,
)
from transship.analysis.result import AnalysisResult
from transship.errors import UsageError
from transship.periods import PeriodRange

MAD_TO_SD = 1.4826


def anomalies(
    con: Any,
    *,
    reporter: str | None = None,
    partner: str | None = None,
    products: str = "chpl",
    flow: str = "export",
    pre: str | PeriodRange = "2015..2021",
    post: str | PeriodRange | None = None,
    threshold: float = 3.5,
    min_pre_months: int = 12,
    mad_floor: float = 0.1,
    source: str | None = None,
    concordance: str = "strict",
) -> AnalysisResult:
    """Rank (reporter, partner, product) series by a robust surge score vs their pre-period."""
    import ibis

    pre_rng = as_range(pre)
    assert pre_rng is not None
    post_rng = as_range(post)
    after = from_month_index(month_index(pre_rng.end) + 1)
    if post_rng is not None and post_rng.start <= pre_rng.end:
        raise UsageError(
            f"{{post}} {post_rng} must start after {{pre}} {pre_rng}", params=("post", "pre")
        )
    if mad_floor <= 0:
        raise UsageError("{mad_floor} must be positive", params=("mad_floor",))
    far = PeriodRange(after, dt.date(2999, 12, 1))
    sel = select(con, reporter=reporter, partner=partner, products=products, flow=flow,
                 periods=[pre_rng, post_rng or far], freq="M", source=source,
                 concordance=concordance)  # fmt: skip
    t = sel.table
    if post_rng is None:
        last = t.filter(t.period >= after).period.max().to_pyarrow().as_py()
        if last is None:
            raise UsageError(f"no monthly data after {pre_rng}; nothing to score")
        post_rng = PeriodRange(after, last)
    keys = ["reporter", "partner", "hs2022"]
    s = t.group_by(*keys, "period").agg(v=t.value_usd.sum())
    p = s.filter((s.period >= pre_rng.start) & (s.period <= pre_rng.end) & (s.v > 0))
    p = p.mutate(y=p.v.ln())
    centre = p.group_by(keys).agg(med=p.y.median(), n_pre=p.count())
    centre = centre.filter(centre.n_pre >= min_pre_months)
    d = p.join(centre, keys)
    spread = d.group_by(keys).agg(mad=(d.y - d.med).abs().median())
    stats = centre.join(spread, keys)
    stats = stats.mutate(scale=ibis.greatest(stats.mad * MAD_TO_SD, mad_floor))
    q = s.filter((s.period >= post_rng.start) & (s.period <= post_rng.end))
    q = q.join(stats, keys)
    month_score = (q.v.ln() - q.med) / q.scale
    q = q.mutate(surge=(q.v > 0) & (month_score > threshold))
    n_post = len(periods_in(post_rng, "M"))
    post_agg = q.group_by(keys).agg(
        post_total=q.v.sum(),
        first_surge_period=q.period.min(where=q.surge),
    )
    out = stats.left_join(post_agg, keys).select(stats, post_agg.post_total,
                                                 post_agg.first_surge_period)  # fmt: skip
    post_usd = out.post_total.fill_null(0.0) / n_post
    out = out.mutate(post_usd=post_usd)
    score = ibis.ifelse(out.post_usd > 0, (out.post_usd.ln() - out.med) / out.scale, ibis.null())
    out = out.mutate(pre_median_usd=out.med.exp(), pre_mad=out.mad, score=score.cast("float64"))
    order = [ibis.desc(out.score.fill_null(-1e300)), *keys]
    out = out.mutate(rank=ibis.row_number().over(order_by=order) + 1)
    out = out.select(*keys, "pre_median_usd", "pre_mad", "post_usd", "score",
                     "first_surge_period", "rank").order_by("rank")  # fmt: skip
    notes = list(sel.notes)
    notes.append(
        f"pre {pre_rng}, post {post_rng}; score = (ln value - median ln pre) / "
        f"max(1.4826 MAD, {mad_floor}); surge month: score > {threshold}; series with fewer "
        f"than {min_pre_months} positive pre months left out"
    )
    params = {"reporter": reporter, "partner": partner, "products": products, "flow": flow,
              "pre": str(pre_rng), "post": str(post_rng), "threshold": threshold,
              "min_pre_months": min_pre_months, "mad_floor": mad_floor,
              "source": source}  # fmt: skip
    return AnalysisResult(out, notes, sel.synthetic, params, "M")


def event_study(
    con: Any,
    *,
    event: str = "eo14114",
    reporter: str | None = None,
    partner: str | None = None,
    products: str = "chpl",
    flow: str = "export",
    before: int = 12,
    after: int = 12,
    source: str | None = None,
    concordance: str = "strict",
) -> AnalysisResult:
    """Monthly values from `before` months before an event to `after` months after it."""
    import ibis

    if before < 1 or after < 0:
        raise UsageError(
            "{before} must be at least 1 and {after} at least 0 months", params=("before", "after")
        )
    ev = reference.event(event)
    e = month_index(ev.date)
    rng = PeriodRange(from_month_index(e - before), from_month_index(e + after))
    sel = select(con, reporter=reporter, partner=partner, products=products, flow=flow,
                 periods=[rng], freq="M", source=source, concordance=concordance)  # fmt: skip
    t = sel.table
    s = t.group_by("period").agg(v=t.value_usd.sum())
    months = periods_in(rng, "M")
    grid = ibis.memtable(
        {"period": months, "rel_month": [month_index(m) - e for m in months]},
        schema={"period": "date", "rel_month": "int64"},
    )
    g = grid.left_join(s, "period").select(grid.rel_month, grid.period, s.v)
    g = g.mutate(value_usd=g.v.fill_null(0.0))
    pre_mean = g.value_usd.mean(where=g.rel_month < 0).over(ibis.window())
    g = g.mutate(pre_mean_usd=pre_mean)
    g = g.mutate(
        index=ibis.ifelse(g.pre_mean_usd > 0, g.value_usd / g.pre_mean_usd, ibis.null()).cast(
            "float64"
        )
    )
    out = g.select("rel_month", "period", "value_usd", "pre_mean_usd", "index").order_by(
        "rel_month"
    )
    exact = {"day": "", "month": " (month precision)", "on_or_before": " (on or before)"}
    notes = [
        *sel.notes,
        f"event {ev.id}: {ev.title}, {ev.date}{exact[ev.date_precision]} ({ev.jurisdiction}); "
        f"month 0 = {from_month_index(e):%Y-%m}; months without rows count as zero",
    ]
    params = {"event": ev.id, "event_date": ev.date.isoformat(), "reporter": reporter,
              "partner": partner, "products": products, "flow": flow, "before": before,
              "after": after, "source": source}  # fmt: skip
    return AnalysisResult(out, notes, sel.synthetic, params, "M")
