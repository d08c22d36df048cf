"""Mirror gaps as a detector: an exporter's CHPL exports to a partner against the partner's
recorded imports (CIF -> FOB at `cif_factor`), 3-month windows, from the post period.

Windows do not overlap (months 1-3, 4-6, ...), so one odd month counts once.
The null comes from the data: the same windows for the control basket (goods of the same
headings, not on the CHPL) give the distribution of |ln(X / M_fob)| that reporting noise,
freight and timing produce. A CHPL window *exceeds* when its |log ratio| is above the
control windows' `null_quantile` and its gap above `min_gap_usd`; a pair's p-value is the
binomial chance of at least its number of exceeding windows at the rate 1 - null_quantile.
A side that reported nothing in a window (missing, not zero) makes that window unusable.
Same computation as `transship mirror` (analysis.mirror), on every pair at once.
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
    binom_sf,
    register,
)
from transship.analysis.detect.panel import heading_table


def sides_panel(ctx: Context) -> Any:
    """pandas: exporter, importer, grp, period, x, m (both sides' reports), monthly, and the
    (reporter, flow, period) months each reporter reported (from the heading table)."""

    def make() -> Any:
        h = heading_table(ctx)
        h = h.filter(h.period >= ctx.post_start)
        g = (
            h.group_by("exporter", "importer", "period")
            .agg(xc=h.xc.sum(), mc=h.mc.sum(), xn=h.xn.sum(), mn=h.mn.sum())
            .to_pandas()
        )
        import pandas as pd

        chpl = g.rename(columns={"xc": "x", "mc": "m"})[["exporter", "importer", "period", "x",
                                                          "m"]].assign(grp="chpl")  # fmt: skip
        ctrl = g.rename(columns={"xn": "x", "mn": "m"})[["exporter", "importer", "period", "x",
                                                          "m"]].assign(grp="control")  # fmt: skip
        both = pd.concat([chpl, ctrl], ignore_index=True).fillna(0.0)
        sx = g[(g.xc.fillna(0) + g.xn.fillna(0)) > 0][["exporter", "period"]].drop_duplicates()
        sm = g[(g.mc.fillna(0) + g.mn.fillna(0)) > 0][["importer", "period"]].drop_duplicates()
        cov = pd.concat([
            sx.rename(columns={"exporter": "reporter"}).assign(flow="export"),
            sm.rename(columns={"importer": "reporter"}).assign(flow="import"),
        ], ignore_index=True)  # fmt: skip
        return both, cov

    return ctx.memo("sides_panel", make)


@register
class MirrorGapDetector(Detector):
    name: ClassVar[str] = "mirror"
    kind: ClassVar[str] = "mirror_gap"
    description: ClassVar[str] = "Exporter and importer records of the same CHPL trade disagree."
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        Parameter("fdr", 0.05, "false-discovery rate across all pairs (BH)"),
        Parameter("cif_factor", 1.06, "imports are CIF: M_fob = M / cif_factor"),
        Parameter("window", 3, "months per rolling window (absorbs shipping lags)"),
        Parameter("null_quantile", 0.99, "quantile of control windows' |ln X/M_fob| to exceed"),
        Parameter("min_gap_usd", 250_000.0, "a window counts only with a gap above this"),
    )  # fmt: skip

    def run(self, ctx: Context) -> list[Finding]:
        import numpy as np
        import pandas as pd

        p = self.params
        g, cov = sides_panel(ctx)
        if g.empty:
            return []
        g = g[g.period >= pd.Timestamp(ctx.post_start)]
        months = sorted(g.period.unique())
        rep = set(zip(cov.reporter, cov.flow, cov.period, strict=True))
        wide = g.pivot_table(index=["exporter", "importer", "grp"], columns="period",
                             values=["x", "m"], aggfunc="sum", fill_value=0.0)  # fmt: skip
        idx = wide.index.to_frame(index=False)
        x = wide["x"].reindex(columns=months, fill_value=0.0).to_numpy()
        m = wide["m"].reindex(columns=months, fill_value=0.0).to_numpy() / p["cif_factor"]
        seen_x = np.array([[(e, "export", t) in rep for t in months] for e in idx.exporter])
        seen_m = np.array([[(i, "import", t) in rep for t in months] for i in idx.importer])
        w = int(p["window"])
        kernel = np.ones(w)

        def roll(a: Any) -> Any:
            return np.array([np.convolve(r, kernel, "valid") for r in a])

        # non-overlapping windows, so that one odd month counts once (overlapping windows
        # would repeat it w times and the binomial below would overstate the evidence)
        blocks = slice(None, None, w)
        xs, ms = roll(x)[:, blocks], roll(m)[:, blocks]
        ok = ((roll(seen_x.astype(float)) == w) & (roll(seen_m.astype(float)) == w))[:, blocks]
        with np.errstate(divide="ignore", invalid="ignore"):
            lr = np.abs(np.log(xs / ms))
        lr[(xs > 0) ^ (ms > 0)] = np.inf  # one side zero: an infinite ratio
        gap = np.abs(xs - ms)
        big = ok & (gap > p["min_gap_usd"])
        ctrl = (idx.grp == "control").to_numpy()
        null = lr[ctrl][big[ctrl] & np.isfinite(lr[ctrl])]
        if len(null) < 20:
            ctx.notes.append("mirror: too few control windows for a null; detector skipped")
            return []
        cut = float(np.quantile(null, p["null_quantile"]))
        exceed = big & (lr > cut)
        out: list[Finding] = []
        ends = months[w - 1 :][::w]
        tested = int((ok[~ctrl].sum(axis=1) > 0).sum())
        for k in np.nonzero(~ctrl)[0]:
            n = int(ok[k].sum())
            hits = int(exceed[k].sum())
            if hits < 2 or n == 0:
                continue
            pv = binom_sf(hits, n, 1 - p["null_quantile"])
            first = int(np.nonzero(exceed[k])[0][0])
            e, i = idx.exporter[k], idx.importer[k]
            over = float(((xs[k] - ms[k]) * exceed[k]).sum() / w * 12 / hits)
            direction = "exporter reports more" if over > 0 else "importer records more"
            finite = lr[k][exceed[k] & np.isfinite(lr[k])]
            ratio = f"{math.exp(float(np.median(finite))):.1f}x" if len(finite) else "one side 0"
            ev = (f"{hits} of {n} {w}-month windows beyond the control goods' "
                  f"{p['null_quantile']:.0%} |ln X/M_fob| ({math.exp(cut):.2f}x); median "
                  f"{ratio}, {direction}; first {pd.Timestamp(ends[first]):%Y-%m}")  # fmt: skip
            out.append(Finding(
                kind=self.kind, where=f"{e}->{i}", since=_month(ends[first], w),
                size_usd=abs(over), evidence=ev, detector=self.name, p_value=pv,
                exporter=e, importer=i,
                link=f"/mirror?hub={e}&target={i}",
            ))  # fmt: skip
        return apply_fdr(out, p["fdr"], n_tests=tested)


def _month(end: Any, w: int) -> date:
    """The first month of the window ending at `end`."""
    import pandas as pd

    from transship.periods import add_months

    return add_months(pd.Timestamp(end).date(), -(w - 1))
