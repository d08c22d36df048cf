"""Mirror gaps as a detector: an exporter's CHPL exports to a partner against the partner's
recorded imports (CIF -> FOB at `cif_factor`), code by code, in 3-month windows from the
post period.

Code by code, because a scheme need not cover a pair's whole trade: a phantom in a few codes
of a large pair (CHN -> UZB in tier 1 only, 1.8x) moves the pair's CHPL total by a few per
cent, inside the noise of the sum, while each of those codes is off by 1.8x.

Windows do not overlap (months 1-3, 4-6, ...), so one odd month counts once.
The null comes from the data: the same code windows of the control basket (goods of the same
headings, not on the CHPL) give the distribution of |ln(X / M_fob)| that reporting noise,
freight and timing produce. A code window *exceeds* when its |log ratio| is above the control
windows' quantile (`null_quantiles`, at least `min_ratio`), among windows of at least
`min_usd`, the ratio taken against the pair's own level (`level_prior`). A month that one
side did not report throws a window's sums off but not the months both sides reported: the
ratio of a window is the smaller of the two, that of its sums and that of its paired months;
the null rate of exceeding is the share of control windows that still do.
A code's p-value is the binomial chance of at least its number of exceeding windows, out of
the windows in which it traded (at least `min_windows`); a pair's p-value is the smallest of
its codes' times its number of codes (Bonferroni), or that of all its CHPL code windows
pooled (several codes a little off), whichever is smaller, times two.
A window in which a reporter reported nothing at all (Russia from 2022), or in which no month
has this code on both sides, is unusable.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any, ClassVar

from transship.analysis._select import select
from transship.analysis.detect.base import (
    Context,
    Detector,
    Finding,
    Parameter,
    apply_fdr,
    as_iter,
    binom_sf,
    money,
    register,
)
from transship.analysis.detect.panel import FAR, mapper_with_control
from transship.periods import PeriodRange, add_months


def _tests(c: Any, rate: float, need: int) -> tuple[Any, Any]:
    """Per pair (indexed by exporter, importer): n, kx (windows, exceeding), codes, p_code,
    p_pool, pv; and the codes exceeding at least `need` times, with their p-values (pc, and
    pb: Bonferroni over the pair's codes)."""
    per = c.groupby(["exporter", "importer", "hs2022"], sort=False).agg(
        n=("e", "size"), kx=("e", "sum")).reset_index()  # fmt: skip
    pair = per.groupby(["exporter", "importer"]).agg(n=("n", "sum"), kx=("kx", "sum"),
                                                     codes=("n", "size"))  # fmt: skip
    per = per[per.kx >= need]
    pc = [binom_sf(int(k), int(n), rate) for k, n in zip(per.kx, per.n, strict=True)]
    per = per.assign(pc=pc).join(pair.codes, on=["exporter", "importer"])
    per["pb"] = (per.pc * per.codes).clip(upper=1.0)
    pair["p_code"] = per.groupby(["exporter", "importer"]).pb.min()
    pair["p_code"] = pair.p_code.fillna(1.0)
    pair["p_pool"] = [binom_sf(int(k), int(n), rate) if k >= need else 1.0
                      for k, n in zip(pair.kx, pair.n, strict=True)]  # fmt: skip
    pair["pv"] = (2 * pair[["p_code", "p_pool"]].min(axis=1)).clip(upper=1.0)
    return pair, per


def code_windows(ctx: Context, w: int) -> Any:
    """pandas: exporter, importer, hs2022, grp, k (window index from `post_start`), x, m (both
    sides' reports), and ok (both reporters reported something in every month of the window)."""

    def make() -> Any:
        import numpy as np

        ps = ctx.post_start
        sel = select(ctx.con, flow=["export", "import"], periods=[PeriodRange(ps, FAR)],
                     freq="M", source=ctx.source, mapper=mapper_with_control())  # fmt: skip
        ctx.synthetic |= sel.synthetic
        t = sel.table
        t = t.filter(t.partner != t.reporter)
        is_x = t.flow == "export"
        k = ((t.period.year() * 12 + t.period.month() - (ps.year * 12 + ps.month)) // w).cast(
            "int64"
        )
        t = t.mutate(exporter=is_x.ifelse(t.reporter, t.partner),
                     importer=is_x.ifelse(t.partner, t.reporter), k=k)  # fmt: skip
        keys = ["exporter", "importer", "hs2022", "grp", "k"]
        mo = t.group_by([*keys, "period"]).agg(
            x=t.value_usd.sum(where=is_x), m=t.value_usd.sum(where=~is_x)
        )  # fmt: skip
        both = mo.x.notnull() & mo.m.notnull() & (mo.x > 0) & (mo.m > 0)
        g = mo.group_by(keys).agg(
            x=mo.x.sum(), m=mo.m.sum(), xp=mo.x.sum(where=both), mp=mo.m.sum(where=both)
        ).to_pandas()  # fmt: skip
        # months each reporter reported anything, per flow and window
        cov = (t.group_by("reporter", "flow", "k").agg(n=t.period.nunique())
               .to_pandas())  # fmt: skip
        full = cov[cov.n >= w]
        for col in ("x", "m", "xp", "mp"):
            g[col] = g[col].fillna(0.0)
        ok = np.ones(len(g), dtype=bool)
        for flow, who in (("export", "exporter"), ("import", "importer")):
            seen = full[full.flow == flow][["reporter", "k"]].assign(_s=True)
            j = g[[who, "k"]].merge(seen, left_on=[who, "k"], right_on=["reporter", "k"],
                                    how="left")  # fmt: skip
            ok &= j._s.notna().to_numpy()
        g["ok"] = ok
        return g

    return ctx.memo(f"code_windows:{w}", make)


@register
class MirrorGapDetector(Detector):
    name: ClassVar[str] = "mirror"
    kind: ClassVar[str] = "mirror_gap"
    description: ClassVar[str] = "Exporter and importer records of the same CHPL trade disagree."
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        Parameter("fdr", 0.05, "false-discovery rate across all pairs (BH)"),
        Parameter("cif_factor", 1.06, "imports are CIF: M_fob = M / cif_factor"),
        Parameter("window", 3, "months per window (absorbs shipping lags)"),
        Parameter("null_quantiles", (0.99, 0.999), "quantiles of control code windows' "
                  "|ln X/M_fob| to exceed: one test each (many windows a little off, or a few "
                  "far off), Bonferroni over them"),
        Parameter("min_usd", 50_000.0, "a code window counts when the larger side's value "
                  "(of the months both reported) is at least this"),
        Parameter("min_ratio", 1.25, "a window exceeds only this far off at least (X/M_fob or "
                  "M_fob/X): mirror statistics routinely differ by 10-20% (freight, exchange "
                  "rates, timing)"),
        Parameter("level_prior", 3.0, "a pair's level (median log ratio of its control "
                  "windows) is shrunk toward 0 as if it had this many more windows at 0"),
        Parameter("min_windows", 2, "exceeding windows a code (or a pooled pair) needs"),
    )  # fmt: skip

    def run(self, ctx: Context) -> list[Finding]:
        tests = self.pair_tests(ctx)
        if tests is None:
            return []
        p = self.params
        best, codes_at, c, levels = tests
        # BH's q is at least p: a pair above the FDR cannot be kept (it still counts as tested)
        keep = best[best.pv <= p["fdr"]]
        out: list[Finding] = []
        for (e, i), pr in keep.iterrows():
            per = codes_at[pr.level]
            mine = per[(per.exporter == e) & (per.importer == i)]
            cut = float(pr.cut)
            rows = c[(c.exporter == e) & (c.importer == i)]
            rows = rows[rows.lr > cut]
            if len(mine):
                # the codes that carry it: significant alone, else every code exceeding twice
                strong = mine[mine.pb * len(levels) <= p["fdr"]]
                codes = list((strong if len(strong) else mine).hs2022)
                rows = rows[rows.hs2022.isin(codes)]
            else:
                codes = sorted(set(rows.hs2022))
            out.append(self._finding(ctx, e, i, pr, rows, codes, cut, float(pr.rate)))
        return apply_fdr(out, p["fdr"], n_tests=len(best))

    def pair_tests(self, ctx: Context) -> tuple[Any, dict[float, Any], Any, list[float]] | None:
        """The tests before FDR: per pair (`best`: p-value pv, at the null quantile `level`
        with its `cut` and `rate`), per null quantile the codes exceeding at least
        `min_windows` times (pc, pb), the CHPL code windows (`c`: lr, d) and the quantiles;
        None when there is no null (too few control windows) or no usable window. Memoised
        per parameters (the `misdeclared` detector reads them too)."""
        result: tuple[Any, dict[float, Any], Any, list[float]] | None = self.memo(
            ctx, "pair_tests", lambda: self._pair_tests(ctx)
        )
        return result

    def _pair_tests(self, ctx: Context) -> tuple[Any, dict[float, Any], Any, list[float]] | None:
        import numpy as np
        import pandas as pd

        p = self.params
        w = int(p["window"])
        g = code_windows(ctx, w)
        # usable: both reporters reported that window, and both sides this code in at least
        # one of its months (a window one side left empty says nothing about the other's size)
        g = g[g.ok & (g.xp > 0) & (g.mp > 0)]
        if g.empty:
            return None
        f = p["cif_factor"]
        xs, ms = g.x.to_numpy(), g.m.to_numpy() / f
        xp, mp = g.xp.to_numpy(), g.mp.to_numpy() / f
        # a month one side did not report moves the window's ratio but not that of the
        # months both sides reported: the smaller of the two (and its gap) is the evidence
        sw, sp = np.log(xs / ms), np.log(xp / mp)
        sr = np.where(np.abs(sw) < np.abs(sp), sw, sp)
        big = np.maximum(xp, mp) >= p["min_usd"]
        ctrl = (g.grp == "control").to_numpy()
        # each pair's own level (its freight and reporting habits, not `cif_factor`): the
        # median log ratio of its control windows, shrunk toward 0 when they are few
        cw = g[ctrl & big].assign(s=sr[ctrl & big])
        lv = cw.groupby(["exporter", "importer"]).s.agg(["median", "size"])
        shrink = lv["median"] * lv["size"] / (lv["size"] + p["level_prior"])
        at = pd.MultiIndex.from_frame(g[["exporter", "importer"]])
        lr = np.abs(sr - shrink.reindex(at).fillna(0.0).to_numpy())
        null = lr[ctrl & big]
        if len(null) < 20:
            ctx.notes.append("mirror: too few control windows for a null; detector skipped")
            return None
        levels = sorted(set(float(q) for q in as_iter(p["null_quantiles"])))
        need = int(p["min_windows"])
        # a window counts where the code traded at least `min_usd` (a gap threshold instead
        # would hold large series, whose every small deviation is a large gap, to the rate of
        # small ones, whose windows pass it only when far off)
        c = g[~ctrl & big].assign(d=(xs - ms)[~ctrl & big], lr=lr[~ctrl & big])
        best: pd.DataFrame | None = None
        codes_at: dict[float, Any] = {}
        for q in levels:
            cut = max(float(np.quantile(null, q)), math.log(p["min_ratio"]))
            exceed = lr > cut
            # the null rate: how often a large control code window exceeds
            rate = max(float(exceed[ctrl & big].mean()), 1.0 / len(null))
            pair, per = _tests(c.assign(e=exceed[~ctrl & big]), rate, need)
            pair = pair.assign(cut=cut, rate=rate, level=q)
            codes_at[q] = per
            if best is None:
                best = pair
            else:
                better = pair.pv < best.pv
                best.loc[better] = pair.loc[better]
        assert best is not None
        best["pv"] = (best.pv * len(levels)).clip(upper=1.0)
        return best, codes_at, c, levels

    def _finding(self, ctx: Context, e: str, i: str, pr: Any, rows: Any, codes: list[str],
                 cut: float, rate: float) -> Finding:  # fmt: skip
        import numpy as np

        p = self.params
        w = int(p["window"])
        first = int(rows.k.min())
        over = float(rows.d.sum()) / (rows.k.nunique() * w) * 12
        finite = rows.lr[np.isfinite(rows.lr)]
        ratio = f"{math.exp(float(finite.median())):.1f}x" if len(finite) else "one side 0"
        direction = "exporter reports more" if over > 0 else "importer records more"
        since = add_months(date(ctx.post_start.year, ctx.post_start.month, 1), first * w)
        shown = ", ".join(sorted(codes)[:5]) + (", ..." if len(codes) > 5 else "")
        ev = (
            f"{len(rows)} {w}-month code windows beyond the control goods' "
            f"{pr.level:.1%} |ln X/M_fob| ({math.exp(cut):.2f}x) in {shown} "
            f"(median {ratio}, {direction}); pooled over the pair's {int(pr.codes)} CHPL "
            f"codes, {int(pr.kx)} of {int(pr.n)} windows of {money(p['min_usd'])} or more "
            f"exceed, {rate:.1%} expected from the control goods; first {since:%Y-%m}; "
            f"about {money(abs(over))}/yr"
        )
        return Finding(
            kind=self.kind, where=f"{e}->{i}", since=since, size_usd=abs(over),
            evidence=ev, detector=self.name, p_value=float(pr.pv), exporter=e, importer=i,
            link=f"/mirror?hub={e}&target={i}",
        )  # fmt: skip
