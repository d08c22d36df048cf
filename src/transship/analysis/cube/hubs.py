"""`analysis.hubs` over the cube: the analysis' plan (analysis.hubs.plan: checks, control
basket, windows, months per product, notes) with the difference in differences in one
DuckDB query."""

from __future__ import annotations

import datetime as dt
from typing import Any

from transship.analysis.cube import Cube
from transship.analysis.cube.result import CubeResult
from transship.analysis.cube.select import in_list, in_ranges, lit, select, values
from transship.analysis.hubs import LEGS, Z95, _months, plan
from transship.periods import PeriodRange


def hubs(
    cube: Cube,
    *,
    hubs: str = "hubs",
    target: str = "russia",
    neighbours: str = "caucasus_central_asia",
    coalition: str = "coalition",
    products: str = "chpl",
    event: str = "invasion",
    baseline: str | PeriodRange = "2015..2021",
    post: str | PeriodRange | None = None,
    control: str = "auto",
    source: str | None = None,
    concordance: str = "strict",
) -> CubeResult:
    p = plan(hubs, target, neighbours, coalition, products, event, baseline, post, control,
             concordance)  # fmt: skip
    sel = select(cube, reporter=p.hubs, partner=sorted(set(p.dest) | set(p.coal)),
                 flow=["import", "export"], products=products, periods=p.periods,
                 source=source, mapper=p.mapper, concordance=concordance)  # fmt: skip

    g = cube.groups
    if set(p.hubs) <= set(g["hubs"]) and p.dest == g["dest"] and p.coal == g["coal"]:
        # the default groups: the legs summed over partners at build time
        rows = (
            f"SELECT l.reporter AS hub, l.leg, l.own, pm.hs2022::VARCHAR AS hs2022, "
            f"pm.grp::VARCHAR AS grp, l.period, l.value_usd FROM cube_legs l "
            f"JOIN {values(sel.pm, 'pm', list(sel.pm[0]))} "
            f"ON l.hs_rev = pm.hs_rev AND l.hs = pm.hs WHERE {in_list('l.reporter', p.hubs)} "
            f"AND ({in_ranges('l.period', p.periods)}) AND l.freq = {lit(sel.freq)}"
        )
    else:
        leg = (
            f"CASE WHEN flow = 'import' AND {in_list('partner', p.coal)} THEN {lit(LEGS[0])} "
            f"WHEN flow = 'export' AND {in_list('partner', p.dest)} THEN {lit(LEGS[1])} END"
        )
        rows = (
            f"SELECT reporter AS hub, {leg} AS leg, partner = reporter AS own, hs2022, grp, "
            f"period, value_usd FROM ({sel.sql})"
        )

    def last(start: dt.date) -> Any:
        return cube.rows(f"SELECT max(period) FROM ({rows}) WHERE period >= {lit(start)}")[0][0]

    post_rng = p.post_window(sel.freq, last)
    n_post = _months(post_rng, sel.freq)
    n_pre = [{"hs2022": c, "n_pre": n} for c, n in p.n_pre(sel.freq).items()]
    if not n_pre:  # no product observable in the baseline: every row drops out, as a join
        n_pre = [{"hs2022": None, "n_pre": 1}]
    pre_in, post_in = in_ranges("period", [p.pre]), in_ranges("period", [post_rng])
    chpl, ctrl = "FILTER (WHERE grp = 'chpl')", "FILTER (WHERE grp = 'control')"
    sql = f"""
    WITH t AS ({rows}),
    per AS (SELECT hub, leg, hs2022, grp,
                   sum(value_usd) FILTER (WHERE {pre_in}) AS pre_total,
                   sum(value_usd) FILTER (WHERE {post_in}) AS post_total
            FROM t WHERE leg IS NOT NULL AND NOT own GROUP BY ALL),
    avgs AS (SELECT per.*, coalesce(pre_total, 0) / np.n_pre AS pre_avg,
                    coalesce(post_total, 0) / {n_post} AS post_avg
             FROM per JOIN {values(n_pre, "np", ["hs2022", "n_pre"])} ON per.hs2022 = np.hs2022),
    g AS (SELECT *, CASE WHEN pre_avg > 0 AND post_avg > 0 THEN ln(post_avg) - ln(pre_avg) END
                    AS g FROM avgs),
    o AS (SELECT hub, leg, sum(pre_avg * 12) {chpl} AS pre_usd,
                 sum(post_avg * 12) {chpl} AS post_usd,
                 avg(g) {chpl} AS chpl_growth, avg(g) {ctrl} AS control_growth,
                 var_samp(g) {chpl} AS _vc, var_samp(g) {ctrl} AS _vk,
                 count(g) {chpl} AS n_products, count(g) {ctrl} AS n_control
          FROM g GROUP BY hub, leg),
    d AS (SELECT *, chpl_growth - control_growth AS did,
                 CASE WHEN n_products > 1 AND n_control > 1
                      THEN sqrt(_vc / n_products + _vk / n_control) END AS se FROM o),
    z AS (SELECT *, did - {Z95!r} * se AS ci_low, did + {Z95!r} * se AS ci_high,
                 coalesce(CASE WHEN se > 0 THEN did / se END, -1e300) AS _z FROM d)
    SELECT hub, leg, pre_usd, post_usd, chpl_growth, control_growth, did, se, ci_low, ci_high,
           n_products, n_control,
           row_number() OVER (PARTITION BY leg ORDER BY _z DESC, coalesce(did, -1e300) DESC,
                              hub) AS rank
    FROM z ORDER BY leg, rank
    """
    table = cube.sql(sql)
    notes = list(sel.notes) + p.notes(post_rng)
    return CubeResult(table, notes, sel.synthetic, p.params(post_rng, source), sel.freq)
