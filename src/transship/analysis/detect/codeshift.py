"""`code_shift`: CHPL goods declared under a non-CHPL neighbour of the same heading, seen on
one side's records alone -- so it also finds a misdeclaration that exporter and importer both
report (the mirror and `code_mismatch` see nothing then: the two sides agree).

For each exporter->importer pair, heading (HS4) and side (what the exporter declares, what
the importer declares), monthly from the baseline:

- the CHPL share of the heading, s = C / (C + N) (CHPL codes C, the heading's other codes N;
  the pair's own trend cancels in the ratio);
- the neighbours' level against the pair's *other* headings' non-CHPL codes, r = N / O: goods
  moved into N
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
    norm_sf,
    register,
)
from transship.analysis.detect.panel import heading_table
from transship.periods import add_months, months_between


def ibis_least(a: Any, b: int) -> Any:
    import ibis

    return ibis.least(a, b)


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
        out, n_tests = self.candidates(ctx)
        kept = apply_fdr(out, p["fdr"], n_tests=n_tests)
        kept = [f for f in kept if f.size_usd >= p["min_moved_usd"]]
        return _one_per_heading(kept)

    def candidates(self, ctx: Context) -> tuple[list[Finding], int]:
        """Every (pair, heading, side) a split could make a finding of, with its p-value,
        before FDR; and the number of units tested. Memoised per parameters."""
        result: tuple[list[Finding], int] = self.memo(ctx, "candidates",
                                                      lambda: self._candidates(ctx))  # fmt: skip
        return result

    def _candidates(self, ctx: Context) -> tuple[list[Finding], int]:
        p = self.params
        h = heading_table(ctx)
        last = h.agg(m=h.period.max()).to_pyarrow().column(0)[0].as_py()
        if last is None:
            return [], 0
        last = date(last.year, last.month, 1)
        first = date(ctx.post_start.year, ctx.post_start.month, 1)
        n_split = months_between(first, last) - int(p["min_post_months"]) + 2
        if n_split < 1:
            return [], 0
        # every quarter (a monthly scan costs three times the aggregates for little gain)
        splits = [add_months(first, k) for k in range(0, n_split, int(p["step_months"]))]
        out: list[Finding] = []
        n_tests = 0
        for side, cc, nn, kc, kn in SIDES:
            self._n_units = 0
            rows = self._units(ctx, h, side, cc, nn, kc, kn, splits)
            n_tests += max(self._n_units, len(rows))
            for r in rows:
                f = self._score(ctx, r, side, splits)
                if f is not None:
                    out.append(f)
        return out, n_tests

    def _units(self, ctx: Context, h: Any, side: str, cc: str, nn: str, kc: str, kn: str,
               splits: list[date]) -> list[dict[str, Any]]:  # fmt: skip
        """Per (exporter, importer, heading): baseline aggregates and, per split, the window
        from it to the end (n, s, r, v, a, b with the split's index), for the units that a
        split could make a finding of (the others count as tests, with p = 1)."""
        import numpy as np
        import pandas as pd

        p = self.params
        keys = ["exporter", "importer", "heading"]
        s = h.mutate(c=h[cc].fill_null(0.0), n=h[nn].fill_null(0.0), kc=h[kc], kn=h[kn])
        # the pair's other trade: the non-CHPL codes of its other headings (a cut of the CHPL
        # goods, of one heading or all, leaves it as it was)
        tot = s.group_by("exporter", "importer", "period").agg(g=s.n.sum())
        s = s.join(tot, ["exporter", "importer", "period"])
        s = s.mutate(o=s.g - s.n)
        s = s.filter(s.c + s.n >= p["min_usd"], s.o > 0)
        s = s.mutate(sh=s.c / (s.c + s.n), r=s.n / s.o)
        b0, b1 = ctx.baseline
        base = s.filter(s.period >= b0, s.period <= b1)
        bt = base.group_by(keys).agg(
            nb=base.count(), sb=base.sh.mean(), vb=base.sh.var(), rb=base.r.mean(),
            wb=base.r.var(), nzb=(base.n > 0).sum(), czb=(base.c > 0).sum(),
            bzb=((base.c > 0) & (base.n > 0)).sum(), nvb=base.n.mean(),
            tb=(base.c + base.n).mean(),
            uvc=base.c.sum() / base.kc.sum(), uvn=base.n.sum() / base.kn.sum(),
        )  # fmt: skip
        bt = bt.filter(bt.nb >= p["min_base_months"]).to_pandas()
        first, step, k_n = splits[0], int(p["step_months"]), len(splits)
        idx = s.period.year() * 12 + s.period.month() - (first.year * 12 + first.month)
        post = s.filter(idx >= 0).mutate(k=ibis_least((idx // step).cast("int64"), k_n - 1))
        pt = post.group_by([*keys, "k"]).agg(
            n=post.count(), ss=post.sh.sum(), rs=post.r.sum(), vs=post.n.sum(),
            a=(post.c > 0).sum(), b=((post.c > 0) & (post.n > 0)).sum(),
        ).to_pandas()  # fmt: skip
        if bt.empty or pt.empty:  # no month after a split counts: no unit can make a finding
            # (returned as they were, without their split columns, they failed _score: KeyError)
            self._n_units = len(bt)
            return []
        bt = bt.set_index(keys)
        pt = pt[pt.set_index(keys).index.isin(bt.index)]
        units = bt.index
        row = units.get_indexer(pd.MultiIndex.from_frame(pt[keys]))
        cube = {}
        for col in ("n", "ss", "rs", "vs", "a", "b"):
            m = np.zeros((len(units), k_n))
            np.add.at(m, (row, pt.k.to_numpy()), pt[col].to_numpy(dtype=float))
            cube[col] = np.cumsum(m[:, ::-1], axis=1)[:, ::-1]  # from split k to the end
        n = cube["n"]
        with np.errstate(divide="ignore", invalid="ignore"):
            sk, rk = cube["ss"] / n, cube["rs"] / n
            rate0 = (bt.bzb / bt.czb.where(bt.czb > 0)).to_numpy()[:, None]
        ok = (
            (n >= p["min_post_months"])
            & (sk < bt.sb.to_numpy()[:, None])
            & (rk > bt.rb.to_numpy()[:, None])
        )
        # a split can only make a finding where the share fell, the neighbours rose and
        # either the levels moved two spreads (a finding needs far more) or the neighbour
        # co-traded in at least two months more than its baseline rate says
        sd_s = np.maximum(np.sqrt(bt.vb.fillna(0.0).to_numpy()), p["min_spread"])[:, None]
        sd_r = np.maximum(np.sqrt(bt.wb.fillna(0.0).to_numpy()),
                          p["min_rel_spread"] * bt.rb.fillna(0.0).to_numpy())[:, None]  # fmt: skip
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.sqrt(1.0 / bt.nb.to_numpy()[:, None] + 1.0 / n)
            lv = np.minimum((bt.sb.to_numpy()[:, None] - sk) / (sd_s * scale),
                            (rk - bt.rb.to_numpy()[:, None]) / (sd_r * scale))  # fmt: skip
        co = cube["b"] - cube["a"] * np.nan_to_num(rate0, nan=1.0) >= 2
        keep = (ok & ((lv > 2) | co)).any(axis=1)
        out = []
        for i in np.nonzero(keep)[0]:
            r = dict(zip(keys, units[i], strict=True))
            r.update(bt.iloc[i].to_dict())
            for k in range(k_n):
                r[f"n{k}"] = int(n[i, k])
                r[f"s{k}"] = float(sk[i, k]) if n[i, k] else None
                r[f"r{k}"] = float(rk[i, k]) if n[i, k] else None
                r[f"v{k}"] = float(cube["vs"][i, k] / n[i, k]) if n[i, k] else None
                r[f"a{k}"], r[f"b{k}"] = int(cube["a"][i, k]), int(cube["b"][i, k])
            out.append(r)
        self._n_units = len(units)
        return out

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
            cz, bz = int(r["czb"]), int(r["bzb"])
            pc = hypergeom_sf(b, cz + a, bz + b, a) if b else 1.0
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
              f"CHPL codes did, {int(r['bzb'])} of {int(r['czb'])} in the baseline; strongest "
              f"test: {how} (p {best:.1e}, best of {len(splits)} splits){uv}; about "
              f"{money(moved)}/yr declared under the neighbours")  # fmt: skip
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
