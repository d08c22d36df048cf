"""Aggregated panels the detectors share, computed in the warehouse (Ibis) and fetched small.

Each panel is pulled once per `detect` run (memoised in the Context): quarterly or monthly
sums by country, leg or pair, product and period, never raw rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from transship import reference
from transship.analysis._select import countries, product_map, select
from transship.analysis.hubs import control_basket
from transship.periods import PeriodRange

FAR = date(2999, 12, 1)


def chpl_codes() -> frozenset[str]:
    return frozenset(i.hs6 for i in reference.chpl())


def mapper_with_control(products: str = "chpl") -> Any:
    """A product map of the CHPL (grp 'chpl') plus its control basket (grp 'control')."""
    ctrl = control_basket(products)

    def mapper(revisions: Sequence[str]) -> tuple[list[dict[str, Any]], list[str]]:
        rows, notes = product_map(products, revisions)
        for r in rows:
            r.pop("tier", None)
            r["grp"] = "chpl"
        for rev in revisions:
            rows.extend(
                {"hs_rev": rev, "hs": c, "hs2022": c, "grp": "control"}
                for c in ctrl
                if rev == "HS2022" or reference.hs6_exists(c, rev)
            )
        return rows, notes

    return mapper


def quarter_index(period: Any) -> Any:
    """Ibis: quarters since year 0."""
    return period.year() * 4 + (period.month() - 1) // 3


def quarterly_base(ctx: Any) -> Any:
    """Ibis table (a temporary table where the backend allows): reporter, partner, flow,
    hs2022, grp, q, v -- CHPL and control goods, quarterly from the baseline's start, for
    imports from the coalition and exports to the target and its neighbours. One scan of the
    warehouse feeds both `leg_panel` and `pair_quarters`."""

    def make() -> Any:
        dest = sorted(set(countries(ctx.target)) | set(countries(ctx.neighbours)))
        coal = countries(ctx.coalition)
        sel = select(ctx.con, partner=sorted(set(dest) | set(coal)), flow=["import", "export"],
                     periods=[PeriodRange(ctx.baseline[0], FAR)], freq="M", source=ctx.source,
                     mapper=mapper_with_control())  # fmt: skip
        ctx.synthetic |= sel.synthetic
        t = sel.table
        keep = ((t.flow == "import") & t.partner.isin(coal)) | (
            (t.flow == "export") & t.partner.isin(dest)
        )
        t = t.filter(keep, t.partner != t.reporter).mutate(q=quarter_index(t.period))
        g = t.group_by("reporter", "partner", "flow", "hs2022", "grp", "q").agg(v=t.value_usd.sum())
        try:
            return ctx.con.create_table(f"_transship_quarters_{id(ctx)}", g, temp=True)
        except Exception:  # no temporary tables on this backend: recompute
            return g

    return ctx.memo("quarterly_base", make)


def leg_panel(ctx: Any) -> Any:
    """pandas: hub, leg, hs2022, grp, q (quarter index), v (USD) for every reporter.

    Legs: `imports_from_coalition` (a country's reported imports from the coalition) and
    `exports_to_target` (its reported exports to the target and its neighbours)."""

    def make() -> Any:
        import ibis

        t = quarterly_base(ctx)
        leg = ibis.ifelse(t.flow == "import", "imports_from_coalition", "exports_to_target")
        g = t.group_by(hub=t.reporter, leg=leg, hs2022=t.hs2022, grp=t.grp, q=t.q).agg(v=t.v.sum())
        return g.to_pandas()

    return ctx.memo("leg_panel", make)


def pair_quarters(ctx: Any) -> Any:
    """pandas: hub (the exporter), leg (the destination: target or a neighbour), hs2022,
    grp, q, v -- each exporter's reported exports, quarterly, in the shape of `leg_panel`."""

    def make() -> Any:
        t = quarterly_base(ctx)
        t = t.filter(t.flow == "export")
        g = t.group_by(hub=t.reporter, leg=t.partner, hs2022=t.hs2022, grp=t.grp, q=t.q).agg(
            v=t.v.sum()
        )
        return g.to_pandas()

    return ctx.memo("pair_quarters", make)


def pair_panel(ctx: Any, flow: str, partners: str | None, key: str = "pair_panel") -> Any:
    """pandas: reporter, partner, hs2022, grp, period (month), v, kg for one flow from the
    baseline start, CHPL and control goods, partners restricted when given."""

    def make() -> Any:
        sel = select(ctx.con, partner=partners, flow=flow,
                     periods=[PeriodRange(ctx.baseline[0], FAR)], freq="M", source=ctx.source,
                     mapper=mapper_with_control())  # fmt: skip
        ctx.synthetic |= sel.synthetic
        t = sel.table
        t = t.filter(t.partner != t.reporter)
        g = t.group_by("reporter", "partner", "hs2022", "grp", "period").agg(
            v=t.value_usd.sum(), kg=t.net_kg.sum()
        )
        return g.to_pandas()

    return ctx.memo(f"{key}:{flow}:{partners}", make)


def monthly_rows(ctx: Any) -> Any:
    """Both sides' monthly rows of CHPL and control codes from the baseline's start, in
    HS2022 codes (older revisions' through the product map), a country's trade with itself
    left out."""
    sel = select(ctx.con, flow=["export", "import"], periods=[PeriodRange(ctx.baseline[0], FAR)],
                 freq="M", source=ctx.source, mapper=mapper_with_control())  # fmt: skip
    ctx.synthetic |= sel.synthetic
    t = sel.table
    return t.filter(t.partner != t.reporter)


def heading_table(ctx: Any) -> Any:
    """Ibis table, materialised once per run where the backend allows (a temporary table):
    exporter, importer, heading (HS4), period, and both sides' values and net weights split
    into CHPL (xc, mc, kxc, kmc) and other codes of the heading (xn, mn, kxn, kmn), monthly,
    from the baseline's start (older revisions' codes mapped to HS2022 by the product map;
    CHPL codes not comparable before 2022 are absent there, which only raises a heading's
    CHPL share from 2022: never a code shift)."""

    def make() -> Any:
        t = monthly_rows(ctx)
        is_x = t.flow == "export"
        c = t.grp == "chpl"
        t = t.mutate(exporter=is_x.ifelse(t.reporter, t.partner),
                     importer=is_x.ifelse(t.partner, t.reporter),
                     heading=t.hs2022.substr(0, 4))  # fmt: skip
        h = t.group_by("exporter", "importer", "heading", "period").agg(
            xc=t.value_usd.sum(where=is_x & c), mc=t.value_usd.sum(where=~is_x & c),
            xn=t.value_usd.sum(where=is_x & ~c), mn=t.value_usd.sum(where=~is_x & ~c),
            kxc=t.net_kg.sum(where=is_x & c), kxn=t.net_kg.sum(where=is_x & ~c),
            kmc=t.net_kg.sum(where=~is_x & c), kmn=t.net_kg.sum(where=~is_x & ~c),
        )  # fmt: skip
        try:  # DuckDB: compute once, reuse in every detector of the run
            return ctx.con.create_table(f"_transship_detect_{id(ctx)}", h, temp=True)
        except Exception:  # a backend without temporary tables recomputes the expression
            return h

    return ctx.memo("heading_table", make)


def mapper_with_tiers() -> Any:
    """`mapper_with_control` with a `tier` column: the CHPL tier's number ("1".."4"), "c" for
    control goods."""
    base = mapper_with_control()
    tiers = {i.hs6: i.tier[0] for i in reference.chpl()}

    def mapper(revisions: Sequence[str]) -> tuple[list[dict[str, Any]], list[str]]:
        rows, notes = base(revisions)
        for r in rows:
            r["tier"] = tiers.get(r["hs2022"], "c") if r["grp"] == "chpl" else "c"
        return rows, notes

    return mapper


def pair_totals(ctx: Any) -> Any:
    """pandas: exporter, partner, grp, tier, q, v -- every exporter's reported exports to
    every partner, CHPL goods summed per tier and control goods summed, quarterly from the
    baseline's start. Small (countries^2 x 5 x quarters): a block may send its goods to any
    country, not only to the target's configured neighbours."""

    def make() -> Any:
        sel = select(ctx.con, flow="export", periods=[PeriodRange(ctx.baseline[0], FAR)],
                     freq="M", source=ctx.source, mapper=mapper_with_tiers())  # fmt: skip
        ctx.synthetic |= sel.synthetic
        t = sel.table
        t = t.filter(t.partner != t.reporter).mutate(q=quarter_index(t.period))
        g = t.group_by(exporter=t.reporter, partner=t.partner, grp=t.grp, tier=t.tier,
                       q=t.q).agg(v=t.value_usd.sum())  # fmt: skip
        return g.to_pandas()

    return ctx.memo("pair_totals", make)
