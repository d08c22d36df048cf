"""Trade value by any of reporter, partner, hs, tier, period: the first query.

Product sets are written in HS2022 (the CHPL's revision); each row is matched in the
revision it was reported in, through the concordance. Codes with no comparable
equivalent in an older revision are left out and named in the result's notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from transship import reference
from transship.errors import UsageError
from transship.periods import PeriodRange, parse_period

DIMENSIONS = ("reporter", "partner", "flow", "hs", "hs2022", "tier", "period", "year", "source")
Freq = Literal["M", "A", "auto"]


@dataclass
class FlowsResult:
    """An Ibis table of values plus what a reader must know to trust it."""

    table: Any  # ibis.Table
    freq: str
    notes: list[str] = field(default_factory=list)
    synthetic: bool = False

    def to_pyarrow(self) -> Any:
        return self.table.to_pyarrow()


def product_map(products: str, revisions: Sequence[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows (hs_rev, hs, hs2022, tier) for a product expression in each revision, and notes."""
    pset = reference.parse_products(products)
    tiers = {item.hs6: item.tier for item in reference.chpl()}
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for rev in sorted(set(revisions)):
        mapping = pset.in_revision(rev)
        for hs2022, codes in sorted(mapping.codes.items()):
            rows.extend(
                {"hs_rev": rev, "hs": code, "hs2022": hs2022, "tier": tiers.get(hs2022)}
                for code in codes
            )
        for code, reason in sorted(mapping.not_comparable.items()):
            notes.append(f"{code} left out of {rev} periods: {reason}")
        if rev != "HS2022":  # the design's rule: a single older code maps, as an upper bound
            bounds = sorted(c for c, d in mapping.details.items() if d.status == "mapped")
            if bounds:
                notes.append(
                    f"{len(bounds)} codes counted in {rev} periods through their single {rev} "
                    f"code, which may also hold other goods (upper bounds): {', '.join(bounds)}"
                )
    return rows, notes


def flows(
    con: Any,
    *,
    reporter: str | None = None,
    partner: str | None = None,
    products: str = "chpl",
    period: str | PeriodRange | None = None,
    flow: str = "export",
    by: Sequence[str] = ("reporter", "partner"),
    freq: Freq = "auto",
    source: str | None = None,
) -> FlowsResult:
    """Sum value_usd over trade_flows, filtered and grouped.

    `con` is an Ibis connection over a warehouse (`Warehouse.ibis()`); `reporter` and
    `partner` take country expressions (`TUR`, `russia+ft_five`, `g7-JPN`); `products`
    takes a product expression (`chpl`, `chpl:tier1,tier2`, `8542,851762`).
    """
    import ibis

    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise UsageError(f"--by {','.join(unknown)}: dimensions are {', '.join(DIMENSIONS)}")
    t = con.table("trade_flows")
    t = t.filter(t.flow == flow)
    if source:
        t = t.filter(t.source == source)
    if reporter:
        t = t.filter(t.reporter.isin(sorted(reference.parse_countries(reporter))))
    if partner:
        t = t.filter(t.partner.isin(sorted(reference.parse_countries(partner))))
    if period is not None:
        rng = parse_period(period) if isinstance(period, str) else period
        t = t.filter((t.period >= rng.start) & (t.period <= rng.end))
    if freq == "auto":  # monthly when there is any, so annual rows are never added on top
        has_monthly = t.filter(t.freq == "M").count().execute()
        freq = "M" if has_monthly else "A"
    t = t.filter(t.freq == freq)
    revisions = t.select(rev=t.hs_rev.cast("string")).distinct().to_pyarrow().column(0).to_pylist()
    rows, notes = product_map(products, revisions or ["HS2022"])
    if not rows:
        raise UsageError(f"--products {products!r} matches no HS code in {revisions}")
    pm = ibis.memtable(rows)
    t = t.mutate(hs_rev=t.hs_rev.cast("string"), year=t.period.year())
    j = t.join(pm, [t.hs_rev == pm.hs_rev, t.hs == pm.hs])
    keys = list(dict.fromkeys(by))
    out = (
        j.group_by(keys).agg(value_usd=j.value_usd.sum(), rows=j.count())
        if keys
        else j.agg(value_usd=j.value_usd.sum(), rows=j.count())
    )
    if "period" in keys or "year" in keys:  # a series reads in time order
        out = out.order_by([k for k in keys if k in ("period", "year")] + [ibis.desc("value_usd")])
    elif keys:
        out = out.order_by(ibis.desc("value_usd"))
    synthetic = bool(t.filter(t.source == "synthetic").count().execute())
    return FlowsResult(table=out, freq=freq, notes=notes, synthetic=synthetic)
