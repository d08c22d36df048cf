"""Hub detection: which third countries' CHPL trade grew after an event, beyond their trade in
similar goods -- a difference-in-differences on log values after the EBRD "Eurasian
roundabout" design (Chupilkin, Javorcik, Plekhanov, Peeva; EBRD WP 2023).

For each candidate hub and each leg
- `imports_from_coalition`: the hub's reported imports from the coalition (G7/EU and allies),
- `exports_to_target`: the hub's reported exports to the target and its neighbours,
every HS2022 product p gets a growth g_p = ln(post_p) - ln(pre_p), where pre_p and post_p are
its mean monthly values in the baseline years and after the event. The estimate is

    did = mean(g_p over CHPL products) - mean(g_p over control products)

with the standard error of a difference of two means from product-level variation,
se = sqrt(var_chpl / n_chpl + var_control / n_control), and a 95% interval did +/- 1.96 se.
Products enter the growth only when traded in both windows (the intensive margin, as logs
require); `pre_usd` and `post_usd` are the CHPL values at an annual rate (mean month x 12),
counting every product. `rank` orders hubs within each leg by did / se (1 = strongest
evidence).

The post window starts the month after the event (the event month is mixed) and runs to the
last period of the data unless `post` is given; with annual data it starts the year after.
A CHPL product's pre-period mean counts only the months whose HS revision (in force that
year) has a comparable code for it, so Tier 1 chips, not comparable before HS2017, are
averaged over 2017-2021 rather than diluted by 2015-2016.

The control basket (`control_basket`) is documented there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from transship import reference
from transship.analysis._select import as_range, countries, month_index, product_map, select
from transship.analysis.result import AnalysisResult
from transship.errors import UsageError
from transship.periods import PeriodRange, add_months

LEGS = ("imports_from_coalition", "exports_to_target")
Z95 = 1.959963984540054  # two-sided 95% normal quantile


def control_basket(products: str = "chpl") -> list[str]:
    """Control codes for a product set: HS2022 subheadings of the same HS4 headings that are
    (1) not on the CHPL, (2) present under the same code in HS2012, HS2017 and HS2022, so a
    code means the same goods in every period without a concordance, and (3) not the older
    code of any CHPL good (such a code would hold CHPL goods before 2022).
    """
    pset = reference.parse_products(products)
    every_chpl = {i.hs6 for i in reference.chpl()}
    chpl_set = reference.parse_products("chpl")
    older = chpl_set.in_revision("HS2017").old_codes | chpl_set.in_revision("HS2012").old_codes
    headings = sorted({c[:4] for c in pset})
    same = reference.parse_products(",".join(headings))
    return [
        c
        for c in same
        if c not in every_chpl
        and c not in pset
        and c not in older
        and reference.hs6_exists(c, "HS2017")
        and reference.hs6_exists(c, "HS2012")
    ]


def hubs(
    con: Any,
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
) -> AnalysisResult:
    """Rank candidate hubs by the DiD of CHPL vs control growth after `event`, per leg."""
    import ibis

    p = plan(hubs, target, neighbours, coalition, products, event, baseline, post, control,
             concordance)  # fmt: skip
    pre, dest, coal = p.pre, p.dest, p.coal
    sel = select(con, reporter=p.hubs, partner=sorted(set(dest) | set(coal)),
                 flow=["import", "export"], products=products, periods=p.periods,
                 source=source, mapper=p.mapper, concordance=concordance)  # fmt: skip
    notes = list(sel.notes)
    t = sel.table

    def last(start: dt.date) -> Any:
        return t.filter(t.period >= start).period.max().to_pyarrow().as_py()

    post_rng = p.post_window(sel.freq, last)
    n_post = _months(post_rng, sel.freq)

    leg = ibis.cases(
        ((t.flow == "import") & t.partner.isin(coal), LEGS[0]),
        ((t.flow == "export") & t.partner.isin(dest), LEGS[1]),
        else_=ibis.null().cast("string"),
    )
    in_pre = (t.period >= pre.start) & (t.period <= pre.end)
    in_post = (t.period >= post_rng.start) & (t.period <= post_rng.end)
    t = t.mutate(hub=t.reporter, leg=leg, in_pre=in_pre, in_post=in_post)
    t = t.filter(t.leg.notnull(), t.partner != t.reporter)
    per = t.group_by("hub", "leg", "hs2022", "grp").agg(
        pre_total=t.value_usd.sum(where=t.in_pre),
        post_total=t.value_usd.sum(where=t.in_post),
    )
    # months each product could be observed in the baseline (see module docstring)
    n_pre = p.n_pre(sel.freq)
    npre = ibis.memtable(
        {"hs2022": list(n_pre), "n_pre": list(n_pre.values())},
        schema={"hs2022": "string", "n_pre": "int64"},
    )
    per = per.join(npre, "hs2022")
    per = per.mutate(
        pre_avg=per.pre_total.fill_null(0.0) / per.n_pre,
        post_avg=per.post_total.fill_null(0.0) / n_post,
    )
    both = (per.pre_avg > 0) & (per.post_avg > 0)
    per = per.mutate(g=ibis.ifelse(both, per.post_avg.ln() - per.pre_avg.ln(), ibis.null()))
    is_c, is_k = per.grp == "chpl", per.grp == "control"
    out = per.group_by("hub", "leg").agg(
        pre_usd=(per.pre_avg * 12).sum(where=is_c),
        post_usd=(per.post_avg * 12).sum(where=is_c),
        chpl_growth=per.g.mean(where=is_c),
        control_growth=per.g.mean(where=is_k),
        _vc=per.g.var(how="sample", where=is_c),
        _vk=per.g.var(how="sample", where=is_k),
        n_products=per.g.count(where=is_c),
        n_control=per.g.count(where=is_k),
    )
    out = out.mutate(did=out.chpl_growth - out.control_growth)
    se = ((out._vc / out.n_products) + (out._vk / out.n_control)).sqrt()
    out = out.mutate(se=ibis.ifelse((out.n_products > 1) & (out.n_control > 1), se, ibis.null()))
    out = out.mutate(
        ci_low=out.did - Z95 * out.se,
        ci_high=out.did + Z95 * out.se,
        _z=ibis.ifelse(out.se > 0, out.did / out.se, ibis.null()).fill_null(-1e300),
    )
    order = [ibis.desc(out._z), ibis.desc(out.did.fill_null(-1e300)), out.hub]
    out = out.mutate(rank=ibis.row_number().over(group_by="leg", order_by=order) + 1)
    cols = ["hub", "leg", "pre_usd", "post_usd", "chpl_growth", "control_growth", "did", "se",
            "ci_low", "ci_high", "n_products", "n_control", "rank"]  # fmt: skip
    out = out.select(*cols).order_by(["leg", "rank"])
    notes += p.notes(post_rng)
    params = p.params(post_rng, source)
    return AnalysisResult(out, notes, sel.synthetic, params, sel.freq)


@dataclass
class Plan:
    """What a hubs call asks, checked, before any data is read."""

    event: Any  # reference Event
    pre: PeriodRange
    hubs: list[str]
    dest: list[str]
    coal: list[str]
    ctrl: list[str]
    products: str
    concordance: str
    post: PeriodRange | None  # as asked
    asked: dict[str, Any]

    @property
    def ev_month(self) -> dt.date:
        return dt.date(self.event.date.year, self.event.date.month, 1)

    @property
    def periods(self) -> list[PeriodRange]:
        far = PeriodRange(_next_month(self.ev_month), dt.date(2999, 12, 1))
        return [self.pre, self.post or far]

    def mapper(self, revisions: Sequence[str]) -> tuple[list[dict[str, Any]], list[str]]:
        rows, pm_notes = product_map(self.products, revisions, self.concordance)
        for r in rows:
            r.pop("tier")
            r["grp"] = "chpl"
        for rev in revisions:
            rows.extend(
                {"hs_rev": rev, "hs": c, "hs2022": c, "grp": "control"}
                for c in self.ctrl
                if rev == "HS2022" or reference.hs6_exists(c, rev)
            )
        return rows, pm_notes

    def post_window(self, freq: str, last: Callable[[dt.date], Any]) -> PeriodRange:
        """The post window: as asked, or from the month after the event (the year after,
        for annual data) to `last(start)`, the last period of the data from there."""
        ev = self.event
        post_start = _next_month(self.ev_month) if freq == "M" else dt.date(ev.date.year + 1, 1, 1)
        if self.post is None:
            end = last(post_start)
            if end is None:
                raise UsageError(f"no data after {ev.id} ({ev.date}); nothing to compare")
            return PeriodRange(post_start, end)
        if self.post.start < post_start:
            raise UsageError(
                f"{{post}} {self.post} must start after the event month ({ev.date})",
                params=("post",),
            )
        return self.post

    def n_pre(self, freq: str) -> dict[str, int]:
        return _pre_months(self.products, self.ctrl, self.pre, freq, self.concordance)

    def notes(self, post_rng: PeriodRange) -> list[str]:
        ev = self.event
        return [
            f"event {ev.id} ({ev.date}: {ev.title}); pre {self.pre}, post {post_rng}; "
            f"control basket: {len(self.ctrl)} codes of the same HS4 headings "
            "(transship.analysis.hubs.control_basket)",
            "growth on products traded in both windows only (logs); se from product-level "
            "variation; rank by did/se within each leg",
        ]

    def params(self, post_rng: PeriodRange, source: str | None) -> dict[str, Any]:
        a = self.asked
        return {"hubs": a["hubs"], "target": a["target"], "neighbours": a["neighbours"],
                "coalition": a["coalition"], "products": self.products, "event": self.event.id,
                "baseline": str(self.pre), "post": str(post_rng), "control": a["control"],
                "control_codes": self.ctrl, "source": source,
                "concordance": self.concordance}  # fmt: skip


def plan(
    hubs: str, target: str, neighbours: str, coalition: str, products: str, event: str,
    baseline: str | PeriodRange, post: str | PeriodRange | None, control: str, concordance: str,
) -> Plan:  # fmt: skip
    """The checked request of a hubs call (the same for every engine)."""
    ev = reference.event(event)
    pre = as_range(baseline)
    assert pre is not None
    ev_month = dt.date(ev.date.year, ev.date.month, 1)
    if pre.end >= ev_month:
        raise UsageError(
            f"{{baseline}} {pre} must end before the event ({ev.id}, {ev.date})",
            params=("baseline",),
        )
    hub_set = countries(hubs)
    dest = sorted(set(countries(target)) | set(countries(neighbours)))
    coal = countries(coalition)
    ctrl = control_basket(products) if control == "auto" else sorted(
        reference.parse_products(control)
    )  # fmt: skip
    overlap = set(ctrl) & set(reference.parse_products(products))
    if overlap:
        raise UsageError(
            f"{{control}} overlaps {{products}}: {', '.join(sorted(overlap))}",
            params=("control", "products"),
        )
    if not ctrl:
        raise UsageError(
            f"no control codes for {products!r}; pass {{control}} codes", params=("control",)
        )
    asked = {"hubs": hubs, "target": target, "neighbours": neighbours, "coalition": coalition,
             "control": control}  # fmt: skip
    return Plan(ev, pre, hub_set, dest, coal, ctrl, products, concordance, as_range(post), asked)


def _next_month(d: dt.date) -> dt.date:
    return add_months(d, 1)


def _months(rng: PeriodRange, freq: str) -> int:
    if freq == "A":
        return 12 * (rng.end.year - rng.start.year + 1)
    return month_index(rng.end) - month_index(rng.start) + 1


def _pre_months(
    products: str, ctrl: list[str], pre: PeriodRange, freq: str, concordance: str = "strict"
) -> dict[str, int]:
    """Months of `pre` in which each code has a comparable code in the revision in force."""
    pset = reference.parse_products(products)
    out = {c: 0 for c in [*pset, *ctrl]}
    for year in range(pre.start.year, pre.end.year + 1):
        first = max(pre.start, dt.date(year, 1, 1))
        last = min(pre.end, dt.date(year, 12, 1))
        months = 12 if freq == "A" else month_index(last) - month_index(first) + 1
        rev = reference.hs_revision_in_force(year)
        ok = set(reference.map_in_mode(pset, rev, concordance).codes)  # type: ignore[arg-type]
        for c in out:
            if c in ok or (c in ctrl and rev in ("HS2012", "HS2017", "HS2022")):
                out[c] += months
    return {c: n for c, n in out.items() if n > 0}
