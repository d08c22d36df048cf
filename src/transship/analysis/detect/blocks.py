"""`blocks`: a country's direct CHPL exports to the target fall while the same goods' exports
to the target's neighbours rise -- goods moved off a blocked direct route (Turkey's customs
refusing Russia-bound declarations in 2024, the flows going on via Georgia or Kazakhstan).

Two legs of each candidate exporter's reported exports, quarterly (`pair_quarters`): to the
target, and to the neighbours summed. For each split quarter s (every quarter from the first
full one after `post_start`), each product's change on each leg compares the mean quarter of
`window` quarters from s with the `window` quarters before it, in logs, less the candidate's
own median change of its control goods on that leg (its trend, and a fall of all its trade
with the target, cancel). A product *moved* when its direct exports fell below `-log_change`
and its neighbour exports rose above `+log_change` in the same split: evidence on both legs,
because a drop alone is a sanction or a slump, a rise alone a reroute or a boom. Two tests,
Bonferroni over them and the splits, Benjamini-Hochberg across candidates:

- legs: each leg's quarterly CHPL-to-control log ratio, its change from the `window` quarters
  before s to the `window` from s over its baseline spread (`min_spread` floor); the direct
  leg must fall and the neighbour leg rise, each by at least `min_leg_z` spreads, the
  neighbours' gain must be at least `min_arrived` of the direct fall in USD (goods moved, not
  lost: a cut with a chance rise elsewhere is no block), and the normal tail of the two legs'
  summed z over sqrt(2) is the p-value (summed goods are smooth where products are lumpy);
- codes: more CHPL than control products moved (one-sided Fisher exact; the candidate's own
  controls carry its lumpiness).

Candidates are every reporter outside the target and outside `exclude` (the coalition by
default: a coalition member's direct exports to Russia falling is the sanction itself, and
its goods reaching Russia via a neighbour are a roundabout, which `hubs` finds at the hub).
`since` is the split with the strongest evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from transship import reference
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
from transship.analysis.detect.hubs import q_start
from transship.analysis.detect.panel import pair_quarters


@dataclass
class _Split:
    p: float
    s: int  # split quarter
    k1: int  # CHPL products moved
    n1: int  # CHPL products with direct exports before the split
    k0: int
    n0: int
    z_fall: float  # the direct leg's CHPL-to-control log ratio fell this many spreads
    z_rise: float  # the neighbour leg's rose
    which: str  # the stronger test: legs or codes
    moved_usd: float  # a year: the fall of the direct CHPL exports
    gained_usd: float  # a year: the rise of the CHPL exports to the neighbours
    codes: tuple[str, ...]


@register
class BlockDetector(Detector):
    name: ClassVar[str] = "blocks"
    kind: ClassVar[str] = "block"
    description: ClassVar[str] = (
        "A country's CHPL exports to the target fell while the same goods' exports to the "
        "target's neighbours rose, beyond its control goods (a blocked direct route)."
    )
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        Parameter("fdr", 0.05, "false-discovery rate across all candidate countries (BH)"),
        Parameter("window", 4, "quarters compared before and after each split"),
        Parameter("min_post_quarters", 2, "fewest quarters after a split (the data's end)"),
        Parameter("log_change", math.log(1.5), "a product moved when its direct exports fell "
                  "and its neighbour exports rose by more than this (log, detrended)"),
        Parameter("min_spread", 0.05, "floor of a leg's quarterly spread of its CHPL-to-control "
                  "log ratio in the baseline"),
        Parameter("min_leg_z", 2.0, "legs test: each leg's change must be at least this many "
                  "spreads (the direct one down, the neighbours' up); the test is on their sum"),
        Parameter("min_arrived", 0.25, "legs test: the neighbours' CHPL gain must be at least "
                  "this share of the direct fall (goods moved, not lost)"),
        Parameter("pad_usd", 20_000.0, "USD a quarter added to both windows before taking "
                  "logs (a lumpy product's zero quarter is not an infinite change)"),
        Parameter("min_products", 5, "fewest CHPL and control products with direct exports"),
        Parameter("min_direct_usd", 1_000_000.0, "leave out candidates with less CHPL exports "
                  "to the target a year before the split"),
        Parameter("min_moved_usd", 500_000.0, "leave out findings moving less a year"),
        Parameter("exclude", "coalition", "countries that are not candidates"),
    )  # fmt: skip

    def run(self, ctx: Context) -> list[Finding]:
        import numpy as np

        p = self.params
        df = pair_quarters(ctx)
        if df.empty:
            return []
        targets = reference.parse_countries(ctx.target)
        out_group = set(reference.parse_countries(p["exclude"])) | set(targets)
        d = df[~df.hub.isin(sorted(out_group))]
        d = d.assign(side=np.where(d.leg.isin(sorted(targets)), "t", "n"))
        pre_lo, pre_hi = (x.year * 4 + (x.month - 1) // 3 for x in ctx.baseline)
        first = ctx.post_start.year * 4 + (ctx.post_start.month - 1) // 3
        first += 0 if ctx.post_start.month % 3 == 1 else 1
        w = int(p["window"])
        last = int(d.q.max()) if not d.empty else first - 1
        splits = list(range(first, last - int(p["min_post_quarters"]) + 2))
        if d.empty or not splits or pre_lo > first - w:
            return []
        q0 = min(pre_lo, first - w)
        d = d[d.q >= q0]
        rows = d.groupby(["hub", "hs2022", "grp", "side", "q"]).v.sum().unstack("side")
        rows = rows.reindex(columns=["t", "n"], fill_value=0.0).fillna(0.0)
        cube = {}
        for side in ("t", "n"):
            m = rows[side].unstack("q", fill_value=0.0)
            cube[side] = m.reindex(columns=range(q0, last + 1), fill_value=0.0)
        keys = cube["t"].index.to_frame(index=False)
        vt, vn = cube["t"].to_numpy(), cube["n"].to_numpy()
        ct, cn = np.cumsum(vt, axis=1), np.cumsum(vn, axis=1)
        pad = float(p["pad_usd"])
        n_splits = len(splits)
        best: dict[str, _Split] = {}
        base = slice(pre_lo - q0, pre_hi - q0 + 1)
        # the aggregate legs: each candidate's quarterly CHPL-to-control log ratio, to the
        # target (summed) and to each neighbour apart (goods moved to some neighbours must
        # not be hidden by another neighbour's fall)
        agg = d.assign(leg=np.where(d.side == "t", "t", d.leg))
        agg = agg.groupby(["hub", "leg", "grp", "q"]).v.sum().unstack("q", fill_value=0.0)
        agg = agg.reindex(columns=range(q0, last + 1), fill_value=0.0)
        legs: dict[str, dict[str, tuple[Any, Any, float]]] = {}
        for (hub, leg), g in agg.groupby(level=["hub", "leg"]):
            grp = g.index.get_level_values("grp")
            c = g[grp == "chpl"].to_numpy().sum(axis=0)
            k = g[grp == "control"].to_numpy().sum(axis=0)
            y = np.log((c + pad) / (k + pad))
            sd = max(float(np.std(y[base], ddof=1)), p["min_spread"])
            legs.setdefault(str(hub), {})[str(leg)] = (y, c, sd)

        def window(c: Any, a: int, b: int) -> Any:  # mean quarter of columns a..b-1
            lo = c[:, a - 1] if a > 0 else 0.0
            return (c[:, b - 1] - lo) / (b - a)

        for s in splits:
            i = s - q0
            j = min(i + w, last - q0 + 1)
            t0, t1 = window(ct, i - w, i), window(ct, i, j)
            n0, n1 = window(cn, i - w, i), window(cn, i, j)
            fall = np.log((t1 + pad) / (t0 + pad))
            rise = np.log((n1 + pad) / (n0 + pad))
            frame = keys.assign(fall=fall, rise=rise, t0=t0, t1=t1, n0=n0, n1=n1)
            frame = frame[frame.t0 > 0]
            trend = frame[frame.grp == "control"].groupby("hub")[["fall", "rise"]].median()
            trend.columns = ["fall_k", "rise_k"]
            frame = frame.join(trend, on="hub").dropna(subset=["fall_k"])
            frame["f"] = frame.fall - frame.fall_k
            frame["r"] = frame.rise - frame.rise_k
            frame["moved"] = (frame.f < -p["log_change"]) & (frame.r > p["log_change"])
            scale = math.sqrt(1.0 / w + 1.0 / (j - i))
            for hub, g in frame.groupby("hub"):
                c, k = g[g.grp == "chpl"], g[g.grp == "control"]
                if len(c) < p["min_products"] or len(k) < p["min_products"]:
                    continue
                if c.t0.sum() * 4 < p["min_direct_usd"]:
                    continue
                lg = legs.get(str(hub), {})
                if "t" not in lg or len(lg) < 2:
                    continue
                zt, dt = _change(lg["t"], i, j, w, scale)
                nbs = {leg: _change(v, i, j, w, scale) for leg, v in lg.items() if leg != "t"}
                z = {"t": zt, "n": max(v[0] for v in nbs.values())}
                moved = -dt
                # the neighbours whose CHPL exports rose by min_leg_z: what arrived there
                gained = sum(v[1] for v in nbs.values() if v[0] >= p["min_leg_z"])
                # both legs must move (the direct one down, a neighbour up, each at least
                # min_leg_z spreads), and the goods must arrive (a share of the direct fall
                # shows up at the neighbours: a cut is no block); the evidence is then the
                # sum of the two legs, Bonferroni over the neighbours
                both = min(-z["t"], z["n"]) >= p["min_leg_z"]
                both &= gained >= p["min_arrived"] * moved
                p_legs = norm_sf((z["n"] - z["t"]) / math.sqrt(2.0)) * len(nbs) if both else 1.0
                k1, k0 = int(c.moved.sum()), int(k.moved.sum())
                p_codes = hypergeom_sf(k1, len(c) + len(k), k1 + k0, len(c)) if k1 >= 2 else 1.0
                pv = min(1.0, min(p_legs, p_codes) * 2 * n_splits)
                cur = best.get(str(hub))
                if cur is not None and cur.p <= pv:
                    continue
                best[str(hub)] = _Split(
                    p=pv, s=s, k1=k1, n1=len(c), k0=k0, n0=len(k),
                    z_fall=-float(z["t"]), z_rise=float(z["n"]),
                    which="legs" if p_legs <= p_codes else "codes",
                    moved_usd=moved, gained_usd=gained,
                    codes=tuple(str(x) for x in c[c.moved].sort_values(
                        "t0", ascending=False).hs2022),
                )  # fmt: skip
        tested = len(legs)
        out = [self._finding(ctx, hub, st, d) for hub, st in best.items()]
        kept = apply_fdr(out, p["fdr"], n_tests=max(tested, len(out)))
        return [f for f in kept if f.size_usd >= p["min_moved_usd"]]

    def _finding(self, ctx: Context, hub: str, st: _Split, d: Any) -> Finding:
        w = int(self.params["window"])
        # which neighbours took the goods: their gain in CHPL codes, largest first
        m = d[(d.hub == hub) & (d.side == "n") & (d.grp == "chpl")]
        post = m[(m.q >= st.s) & (m.q < st.s + w)].groupby("leg").v.sum()
        pre = m[(m.q >= st.s - w) & (m.q < st.s)].groupby("leg").v.sum()
        gain = post.sub(pre, fill_value=0.0).sort_values(ascending=False)
        via = ", ".join(str(x) for x in gain[gain > 0].index[:4]) or "the neighbours"
        top = ", ".join(st.codes[:4]) + (", ..." if len(st.codes) > 4 else "")
        ev = (f"{hub}'s CHPL exports to {ctx.target}, against its control goods, fell "
              f"{st.z_fall:.1f} spreads while its CHPL exports to the neighbours ({via}) rose "
              f"{st.z_rise:.1f} spreads, {w} quarters from {q_start(st.s):%Y-%m} against the "
              f"{w} before; {st.k1} of {st.n1} CHPL codes fell and rose on both legs vs "
              f"{st.k0} of {st.n0} control codes" + (f" ({top})" if st.k1 else "")
              + f"; strongest test: {st.which}; {money(st.moved_usd)}/yr off the direct "
              f"route, {money(st.gained_usd)}/yr more to the neighbours")  # fmt: skip
        return Finding(
            kind=self.kind, where=f"{hub} (direct -> neighbours)", since=q_start(st.s),
            size_usd=max(st.moved_usd, 0.0), evidence=ev, detector=self.name, p_value=st.p,
            country=hub, link=f"/hub?hub={hub}",
        )  # fmt: skip


def _change(leg: tuple[Any, Any, float], i: int, j: int, w: int, scale: float) -> tuple[
        float, float]:  # fmt: skip
    """A leg's change from the `w` quarters before column i to columns i..j-1: (z of its
    CHPL-to-control log ratio over its baseline spread, CHPL USD a year)."""
    y, c, sd = leg
    dz = (y[i:j].mean() - y[i - w : i].mean()) / (sd * scale)
    return float(dz), float((c[i:j].mean() - c[i - w : i].mean()) * 4)
