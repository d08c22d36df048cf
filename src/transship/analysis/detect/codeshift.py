"""`code_shift`: CHPL goods declared under a non-CHPL neighbour of the same heading, seen on
one side's records alone -- so it also finds a misdeclaration that exporter and importer both
report (the mirror and `code_mismatch` see nothing then: the two sides agree).

For each exporter->importer pair, heading (HS4) and side (what the exporter declares, what
the importer declares), monthly from the baseline:

- the CHPL share of the heading, s = C / (C + N) (CHPL codes C, the heading's other codes N;
  the pair's own trend cancels in the ratio);
- the neighbours' level against the pair's *other* headings, r = N / O: goods moved into N
  raise it, while a plain fall of the CHPL goods (a sanction cut, goods rerouted via a hub)
  leaves it where it was -- that is what tells a code shift from a cut.

A scan over every month m from `post_start` on (leaving `min_post_months`) compares the window
from m to the end with the baseline: z_fall = (s_base - s_post) and z_rise = (r_post - r_base),
each over its baseline spread (floored: `min_spread`, `min_rel_spread`) times
sqrt(1/n_base + 1/n_post). A unit's score at m is the smaller of the two (both must hold); its
statistic the largest score over the scan, whose month is `since`; its p-value the normal tail
times the number of months scanned (Bonferroni). Benjamini-Hochberg runs across every unit and
side. Months count when the heading moved at least `min_usd`; a unit needs `min_base_months`
baseline months and `min_post_months` after its split; findings below `min_moved_usd` a year
are left out.

Where net weight is reported, the evidence gives the neighbours' unit value (USD/kg) before
and after beside the CHPL codes': goods that changed code keep their unit value, so the
neighbours' moving toward the CHPL codes' says the same goods were declared under another code.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any, ClassVar

from transship.analysis.detect.base import (
    Context,
    Detector,
    Finding,
    Parameter,
    apply_fdr,
    hypergeom_sf,
    money,
    month_add,
    months_between,
    norm_sf,
    register,
)
from transship.analysis.detect.panel import heading_table

SIDES = (("export", "xc", "xn", "kxc", "kxn"), ("import", "mc", "mn", "kmc", "kmn"))


@register
class CodeShiftDetector(Detector):
    name: ClassVar[str] = "code_shift"
    kind: ClassVar[str] = "code_shift"
    description: ClassVar[str] = (
        "For one pair and heading, the CHPL codes' share fell while the heading's non-CHPL "
        "codes rose against the pair's other trade (goods declared under a neighbouring code)."
    )
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        Parameter("fdr", 0.05, "false-discovery rate across all pairs, headings and sides (BH)"),
        Parameter("min_usd", 50_000.0, "a month counts only with this much trade in the heading"),
        Parameter("min_base_months", 12, "baseline months with trade a unit needs"),
        Parameter("min_post_months", 6, "months after a split the scan needs"),
        Parameter("min_spread", 0.02, "floor of the monthly spread of the CHPL share"),
        Parameter("min_rel_spread", 0.05, "floor of the monthly spread of the neighbours' level "
                  "against the pair's other headings, as a fraction of its baseline mean"),
        Parameter("min_traded_share", 0.5, "share of baseline months in which both the CHPL "
                  "codes and their neighbours must have traded (lumpy series say little)"),
        Parameter("step_months", 3, "months between the scan's split points"),
        Parameter("min_moved_usd", 100_000.0, "leave out findings moving less a year"),
    )  # fmt: skip

    def run(self, ctx: Context) -> list[Finding]:
        p = self.params
        h = heading_table(ctx)
        last = h.agg(m=h.period.max()).to_pyarrow().column(0)[0].as_py()
        if last is None:
            return []
        last = date(last.year, last.month, 1)
        first = date(ctx.post_start.year, ctx.post_start.month, 1)
        n_split = months_between(first, last) - int(p["min_post_months"]) + 2
        if n_split < 1:
            return []
        # every quarter (a monthly scan costs three times the aggregates for little gain)
        splits = [month_add(first, k) for k in range(0, n_split, int(p["step_months"]))]
        out: list[Finding] = []
        n_tests = 0
        for side, cc, nn, kc, kn in SIDES:
            rows = self._units(ctx, h, side, cc, nn, kc, kn, splits)
            n_tests += len(rows)
            for r in rows:
                f = self._score(ctx, r, side, splits)
                if f is not None:
                    out.append(f)
        kept = apply_fdr(out, p["fdr"], n_tests=n_tests)
        kept = [f for f in kept if f.size_usd >= p["min_moved_usd"]]
        return _one_per_heading(kept)

    def _units(self, ctx: Context, h: Any, side: str, cc: str, nn: str, kc: str, kn: str,
               splits: list[date]) -> list[dict[str, Any]]:  # fmt: skip
        """Per (exporter, importer, heading): baseline and per-split window aggregates."""
        p = self.params
        keys = ["exporter", "importer", "heading"]
        s = h.mutate(c=h[cc].fill_null(0.0), n=h[nn].fill_null(0.0), kc=h[kc], kn=h[kn])
        tot = s.group_by("exporter", "importer", "period").agg(g=(s.c + s.n).sum())
        s = s.join(tot, ["exporter", "importer", "period"])
        s = s.mutate(o=s.g - s.c - s.n)
        s = s.filter(s.c + s.n >= p["min_usd"], s.o > 0)
        s = s.mutate(sh=s.c / (s.c + s.n), r=s.n / s.o)
        b0, b1 = ctx.baseline
        base = (s.period >= b0) & (s.period <= b1)
        aggs: dict[str, Any] = {
            "nb": base.sum(), "sb": s.sh.mean(where=base), "vb": s.sh.var(where=base),
            "rb": s.r.mean(where=base), "wb": s.r.var(where=base),
            "nzb": (base & (s.n > 0)).sum(), "czb": (base & (s.c > 0)).sum(),
            "bzb": (base & (s.c > 0) & (s.n > 0)).sum(),
            "cb": s.c.mean(where=base), "nvb": s.n.mean(where=base),
            "tb": (s.c + s.n).mean(where=base),
            "uvc": s.c.sum(where=base) / s.kc.sum(where=base),
            "uvn": s.n.sum(where=base) / s.kn.sum(where=base),
        }  # fmt: skip
        for k, m in enumerate(splits):
            w = s.period >= m
            aggs[f"n{k}"] = w.sum()
            aggs[f"s{k}"] = s.sh.mean(where=w)
            aggs[f"r{k}"] = s.r.mean(where=w)
            aggs[f"v{k}"] = s.n.mean(where=w)
            aggs[f"a{k}"] = (w & (s.c > 0)).sum()
            aggs[f"b{k}"] = (w & (s.c > 0) & (s.n > 0)).sum()
        u = s.group_by(keys).agg(**aggs)
        u = u.filter(u.nb >= p["min_base_months"], u[f"n{len(splits) - 1}"] >= 1)
        return list(u.to_pyarrow().to_pylist())

    def _score(self, ctx: Context, r: dict[str, Any], side: str,
               splits: list[date]) -> Finding | None:  # fmt: skip
        p = self.params
        # the levels test needs both kinds of code traded in most baseline months: a lumpy
        # neighbour that ships now and then "rises" by chance, and its spread says little
        smooth = min(r["nzb"], r["czb"]) >= p["min_traded_share"] * r["nb"]
        sd_s = max(math.sqrt(r["vb"] or 0.0), p["min_spread"])
        sd_r = max(math.sqrt(r["wb"] or 0.0), p["min_rel_spread"] * (r["rb"] or 0.0))
        best, at, how = 1.0, -1, ""
        for k in range(len(splits)):
            n = r[f"n{k}"] or 0
            if n < p["min_post_months"] or r[f"s{k}"] is None:
                continue
            fall, rise = r["sb"] - r[f"s{k}"], r[f"r{k}"] - r["rb"]
            if not (fall > 0 and rise > 0):
                continue
            scale = math.sqrt(1.0 / r["nb"] + 1.0 / n)
            if smooth and sd_r > 0:
                pk = norm_sf(min(fall / (sd_s * scale), rise / (sd_r * scale)))
                if pk < best:
                    best, at, how = pk, k, "levels"
            # co-trading: goods declared under the neighbour ship with the CHPL goods, so the
            # neighbour trades in the months the CHPL codes trade, where before it rarely did
            # (exact test on months: a lumpy neighbour's own chance does not change)
            a, b = r[f"a{k}"] or 0, r[f"b{k}"] or 0
            pc = hypergeom_sf(b, r["czb"] + a, r["bzb"] + b, a) if b else 1.0
            if pc < best:
                best, at, how = pc, k, "co-trading"
        if at < 0:
            return None
        pv = min(1.0, best * 2 * len(splits))  # two tests, every split
        drop = r["sb"] - r[f"s{at}"]
        # USD a year declared under the neighbours: what left the CHPL share, or what the
        # neighbours gained (larger where the CHPL goods themselves grew meanwhile)
        moved = 12.0 * max(drop * (r["tb"] or 0.0), (r[f"v{at}"] or 0.0) - (r["nvb"] or 0.0))
        who = r["exporter"] if side == "export" else r["importer"]
        uv = ""
        uvc, uvn = r.get("uvc"), r.get("uvn")
        if uvc and uvn and math.isfinite(uvc) and math.isfinite(uvn):
            uv = (f"; baseline unit values: CHPL codes ${uvc:,.0f}/kg, neighbours "
                  f"${uvn:,.0f}/kg")  # fmt: skip
        rel = f"{r[f'r{at}'] / r['rb']:.2f}x" if r["rb"] else "from nothing to"
        ev = (f"{who}'s {side}s, heading {r['heading']}: CHPL share {r['sb']:.0%} in the "
              f"baseline, {r[f's{at}']:.0%} from {splits[at]:%Y-%m}; the heading's other codes "
              f"rose {rel} their baseline level against the pair's other trade (a cut would "
              f"leave them flat); they traded in {r[f'b{at}']} of the {r[f'a{at}']} months the "
              f"CHPL codes did, {r['bzb']} of {r['czb']} in the baseline; strongest test: "
              f"{how} (p {best:.1e}, best of {len(splits)} splits){uv}; about {money(moved)}/yr "
              f"declared under the neighbours")  # fmt: skip
        return Finding(
            kind=self.kind, where=f"{r['exporter']}->{r['importer']} {r['heading']}",
            since=splits[at], size_usd=max(moved, 0.0), evidence=ev, detector=self.name,
            p_value=pv, exporter=r["exporter"], importer=r["importer"], hs=r["heading"],
            link=f"/product?hub={r['exporter']}&target={r['importer']}&products={r['heading']}",
            key=(side,),
        )  # fmt: skip


def _one_per_heading(findings: list[Finding]) -> list[Finding]:
    """One row per pair and heading: the stronger side, saying when both sides show it."""
    by: dict[str, list[Finding]] = {}
    for f in findings:
        by.setdefault(f.where, []).append(f)
    out = []
    for group in by.values():
        group.sort(key=lambda f: f.p_value)
        f = group[0]
        if len(group) > 1:
            f.evidence += "; both exporter and importer report the shift (the mirror agrees)"
        out.append(f)
    return out
