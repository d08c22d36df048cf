"""The selection every analysis starts from: filtered trade_flows rows with HS2022 codes.

Product sets are written in HS2022 (the CHPL's revision); each row is matched in the
revision it was reported in, through the reference concordance, and carries the HS2022 code
it stands for (`hs2022`) and its CHPL tier. Codes with no comparable equivalent in an
older revision are left out and named in the notes (under the default `strict` concordance;
`upper` and `reported` are the other modes, see `product_map`). The product map is a small
`ibis.memtable` joined on (hs_rev, hs), which every Ibis backend (DuckDB, pyspark) supports.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from transship import reference
from transship.errors import UsageError
from transship.periods import PeriodRange, parse_period
from transship.periods import from_month_index as from_month_index
from transship.periods import month_index as month_index

Freq = Literal["M", "A", "auto"]


# The concordance notes product_map writes (a one-line summary folds them together).
_CONCORDANCE_NOTE = re.compile(
    r"^(\d{6} left out of HS\d{4} periods|HS\d{4} \d{6} counted once"
    r"|\d+ (n:n )?codes counted in HS\d{4} periods)"
)


def product_map(
    products: str, revisions: Sequence[str], concordance: str = "strict"
) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows (hs_rev, hs, hs2022, tier) for a product expression in each revision, and notes.

    `concordance` is a mode of `reference.CONCORDANCE_MODES`: `strict` (UN correlations,
    exact and single-code mappings), `upper` (n:n codes too, through their older code of the
    same number or heading, as upper bounds), `reported` (codes as reported). Notes about the
    mapping are recognised by `is_concordance_note`.
    """
    mode = _mode(concordance)
    pset = reference.parse_products(products)
    tiers = {item.hs6: item.tier for item in reference.chpl()}
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for rev in sorted(set(revisions)):
        mapping = reference.map_in_mode(pset, rev, mode)
        seen: dict[str, str] = {}
        for hs2022, codes in sorted(mapping.codes.items()):
            for code in codes:
                if code in seen:  # one old code standing for two codes of the set: count once
                    notes.append(f"{rev} {code} counted once, under {seen[code]} (not {hs2022})")
                    continue
                seen[code] = hs2022
                rows.append(
                    {"hs_rev": rev, "hs": code, "hs2022": hs2022, "tier": tiers.get(hs2022)}
                )
        for code, reason in sorted(mapping.left_out.items()):
            notes.append(f"{code} left out of {rev} periods: {reason}")
        if rev == "HS2022":
            continue
        if mode == "reported":
            if mapping.codes:
                notes.append(
                    f"{len(mapping.codes)} codes counted in {rev} periods as "
                    "reported, under the same six digits, without the UN correlations"
                )
            continue
        # the design's rule: a single older code maps, as an upper bound
        bounds = sorted(c for c, k in mapping.kinds.items() if k == "mapped")
        if bounds:
            notes.append(
                f"{len(bounds)} codes counted in {rev} periods through their "
                f"single {rev} code, which may also hold other goods (upper bounds): "
                f"{', '.join(bounds)}"
            )
        uppers = sorted(c for c, k in mapping.kinds.items() if k == "upper")
        if uppers:
            shown = ", ".join(f"{c} <- {'+'.join(mapping.codes[c])}" for c in uppers)
            notes.append(
                f"{len(uppers)} n:n codes counted in {rev} periods through "
                f"their older code of the same number or heading (--concordance upper; upper "
                f"bounds, those codes also held goods now classed elsewhere): {shown}"
            )
    return rows, notes


def _mode(concordance: str) -> reference.ConcordanceMode:
    if concordance not in reference.CONCORDANCE_MODES:
        raise UsageError(
            f"{{concordance}} {concordance!r}: use one of {', '.join(reference.CONCORDANCE_MODES)}",
            params=("concordance",),
        )
    return concordance  # checked above


def comparable_years(
    products: str, revisions_by_year: dict[int, set[str]], concordance: str = "strict"
) -> dict[str, list[int]]:
    """HS2022 code -> the years in which it can be counted, given each year's revisions.

    A year counts for a code when any revision its rows were reported in (or, for a year
    with no rows, the revision in force) has a code for it under `concordance`.
    """
    mode = _mode(concordance)
    pset = reference.parse_products(products)
    by_rev: dict[str, set[str]] = {}
    out: dict[str, list[int]] = {c: [] for c in pset}
    for year, revs in sorted(revisions_by_year.items()):
        for rev in revs or {reference.hs_revision_in_force(year)}:
            if rev not in by_rev:
                by_rev[rev] = set(reference.map_in_mode(pset, rev, mode).codes)
        ok = set().union(*(by_rev[r] for r in revs or {reference.hs_revision_in_force(year)}))
        for c in ok:
            out[c].append(year)
    return out


def is_concordance_note(note: str) -> bool:
    return bool(_CONCORDANCE_NOTE.match(note))


def summarize_notes(notes: Sequence[str], *, full: bool = False) -> list[str]:
    """The notes with the concordance notes folded into one line unless `full`."""
    conc = [n for n in notes if is_concordance_note(n)]
    if full or len(conc) <= 1:
        return list(notes)
    left = sum(" left out of " in n for n in conc)
    bounds = sum("upper bound" in n for n in conc)
    parts = []
    if left:
        parts.append(f"{left} code/revision pairs left out")
    if bounds:
        parts.append(f"{bounds} revisions counted through upper-bound codes")
    other = len(conc) - left - bounds
    if other:
        parts.append(f"{other} more")
    line = f"concordance: {'; '.join(parts)} (--notes for the list)"
    first = next(i for i, n in enumerate(notes) if is_concordance_note(n))
    rest = [n for n in notes if not is_concordance_note(n)]
    return [*rest[:first], line, *rest[first:]]


def as_range(period: str | PeriodRange | None) -> PeriodRange | None:
    return parse_period(period) if isinstance(period, str) else period


def periods_in(rng: PeriodRange, freq: str) -> list[dt.date]:
    """The period dates of `rng` at `freq`: first days of months, or 1 January of years."""
    if freq == "A":
        return [dt.date(y, 1, 1) for y in range(rng.start.year, rng.end.year + 1)]
    return [from_month_index(i) for i in range(month_index(rng.start), month_index(rng.end) + 1)]


def midx(period: Any) -> Any:
    """Ibis expression: months since year 0 (consecutive months differ by 1, on any engine)."""
    return period.year() * 12 + period.month() - 1


@dataclass
class Selection:
    # ibis.Table: source, reporter, partner, flow, hs, hs_rev, hs2022, tier, period, year, value_usd
    table: Any
    freq: str
    notes: list[str] = field(default_factory=list)
    synthetic: bool = False
    concordance: str = "strict"


def select(
    con: Any,
    *,
    reporter: str | Iterable[str] | None = None,
    partner: str | Iterable[str] | None = None,
    products: str = "chpl",
    periods: Sequence[PeriodRange] = (),
    flow: str | Sequence[str] = "export",
    freq: Freq = "auto",
    source: str | None = None,
    mapper: Callable[[Sequence[str]], tuple[list[dict[str, Any]], list[str]]] | None = None,
    concordance: str = "strict",
) -> Selection:
    """Rows of trade_flows matching the filters, each with its HS2022 code and CHPL tier.

    Country arguments are expressions (`TUR`, `russia+ft_five`) or ready sets of ISO codes;
    `periods` is a union of ranges. With `freq="auto"` monthly rows are used when the
    selection has any, so annual rows are never added on top of the months. `mapper`
    replaces the product map: revisions -> (rows with hs_rev, hs, hs2022, tier and any
    extra columns, notes). `concordance` is the mode of `product_map`.
    """
    import ibis

    if freq not in ("M", "A", "auto"):
        raise UsageError(f"freq {freq!r}: use M, A or auto")
    _mode(concordance)
    t = con.table("trade_flows")
    flows_ = [flow] if isinstance(flow, str) else list(flow)
    t = t.filter(t.flow.cast("string").isin(flows_))
    if source:
        t = t.filter(t.source.cast("string") == source)
    if reporter is not None:
        t = t.filter(t.reporter.cast("string").isin(countries(reporter)))
    if partner is not None:
        t = t.filter(t.partner.cast("string").isin(countries(partner)))
    if periods:
        cond = None
        for rng in periods:
            c = (t.period >= rng.start) & (t.period <= rng.end)
            cond = c if cond is None else cond | c
        t = t.filter(cond)
    # One small query answers: which frequencies and HS revisions are there, any synthetic?
    meta = (
        t.group_by(rev=t.hs_rev.cast("string"), f=t.freq.cast("string"))
        .agg(n=t.count(), synth=(t.source.cast("string") == "synthetic").any())
        .to_pyarrow()
        .to_pylist()
    )
    if freq == "auto":
        freq = "M" if any(r["f"] == "M" for r in meta) else "A"
    meta = [r for r in meta if r["f"] == freq]
    revisions = sorted({r["rev"] for r in meta}) or ["HS2022"]
    synthetic = any(bool(r["synth"]) for r in meta)
    t = t.filter(t.freq.cast("string") == freq)
    rows, notes = (mapper or (lambda revs: product_map(products, revs, concordance)))(revisions)
    if not rows:
        raise UsageError(
            f"{{products}} {products!r} matches no HS code in {revisions}", params=("products",)
        )
    schema = {k: "string" for k in rows[0]}
    pm = ibis.memtable({k: [r[k] for r in rows] for k in schema}, schema=schema)
    t = t.select(
        source=t.source.cast("string"),
        reporter=t.reporter.cast("string"),
        partner=t.partner.cast("string"),
        flow=t.flow.cast("string"),
        hs=t.hs.cast("string"),
        hs_rev=t.hs_rev.cast("string"),
        period=t.period.cast("date"),
        value_usd=t.value_usd.cast("float64"),
        net_kg=t.net_kg.cast("float64"),  # for unit values (USD/kg); null when not reported
    )
    extra = [pm[k] for k in schema if k not in ("hs_rev", "hs")]
    j = t.join(pm, [t.hs_rev == pm.hs_rev, t.hs == pm.hs]).select(
        t.source,
        t.reporter,
        t.partner,
        t.flow,
        t.hs,
        t.hs_rev,
        *extra,
        t.period,
        t.value_usd,
        t.net_kg,
    )
    j = j.mutate(year=j.period.year())
    return Selection(table=j, freq=freq, notes=notes, synthetic=synthetic, concordance=concordance)


def countries(expr: str | Iterable[str]) -> list[str]:
    """A country expression or a set of ISO codes -> sorted ISO alpha-3 codes."""
    if isinstance(expr, str):
        return sorted(reference.parse_countries(expr))
    return sorted(expr)
