"""Per-code share tests for large hubs, pooled across codes (used by `hubs` and `surges`).

A large hub (ARE, HKG, SGP, CHN) that carries a scheme worth a few percent of its trade in
the schemed goods shows no growth worth the name on its totals, but its *share* of the world's
flows on a leg (its share of everything the target and its neighbours receive of a code, or
of what the coalition supplies of a code) moves, code by code, far beyond the quarter-to-quarter
noise of that share, which is small where flows are large and smooth.

For each candidate, leg and code: the share of the leg's world total (all reporters except the
target countries, which stop reporting), quarterly; its baseline mean and spread (quarters of
the baseline, normalised by the mean); its post mean from a split quarter on, as a multiple of
the baseline mean, less the candidate-leg's own trend (the median multiple of its control
codes); a z-score over the baseline spread (floored, `min_spread`). A code *exceeds* when its
z is above `z`. The test pools codes: are more CHPL codes than control codes of the same
candidate and leg exceeding? (one-sided Fisher exact test: the controls of the same candidate
carry its own over-dispersion -- trend mixes across partners, lumpy codes -- so no normal
approximation is trusted.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from transship.analysis.detect.base import hypergeom_sf


@dataclass(frozen=True)
class ShareStats:
    p: float
    k_chpl: int  # CHPL codes whose share rose beyond z
    n_chpl: int
    k_ctrl: int
    n_ctrl: int
    exceeding: tuple[str, ...]  # the CHPL codes, largest z first
    median_rise: float  # median post/baseline share multiple of the exceeding codes, detrended


def world_shares(df: Any, exclude: frozenset[str] | set[str]) -> Any:
    """pandas: the panel (hub, leg, hs2022, grp, q, v) with `share` of the leg's world total
    per code and quarter, reporters in `exclude` left out of candidates and world."""
    d = df[~df.hub.isin(list(exclude))]
    w = d.groupby(["leg", "hs2022", "q"]).v.sum().rename("world")
    d = d.join(w, on=["leg", "hs2022", "q"])
    return d.assign(share=d.v / d.world)


def share_tests(
    shares: Any, pre_lo: int, pre_hi: int, split: int, last_q: int, *, z: float,
    min_spread: float, min_codes: int, table: list[Any] | None = None,
) -> dict[tuple[str, str], ShareStats]:  # fmt: skip
    """Per (hub, leg): the pooled code-share test of the window from `split` to `last_q`
    against the baseline quarters `pre_lo`..`pre_hi`."""
    import numpy as np

    n0 = pre_hi - pre_lo + 1
    n1 = last_q - split + 1
    keys = ["hub", "leg", "hs2022", "grp"]
    base = shares[(shares.q >= pre_lo) & (shares.q <= pre_hi)]
    # quarters without trade are zeros of the share (they count in mean and spread)
    b = base.assign(s2=base.share**2).groupby(keys)[["share", "s2"]].sum()
    b.columns = ["s", "s2"]
    m0 = b.s / n0
    var0 = (b.s2 / n0 - m0**2).clip(lower=0.0) * n0 / max(n0 - 1, 1)
    post = shares[shares.q >= split].groupby(keys).share.sum() / n1
    t = (
        np.sqrt(var0)
        .rename("sd")
        .to_frame()
        .join(m0.rename("m0"))
        .join(post.rename("m1"))
        .fillna({"m1": 0.0})
    )
    t = t[t.m0 > 0].reset_index()
    t["r"] = t.m1 / t.m0
    t["rsd"] = np.maximum(t.sd / t.m0, min_spread)
    trend = t[t.grp == "control"].groupby(["hub", "leg"]).r.median().rename("k")
    t = t.join(trend, on=["hub", "leg"])
    t = t[t.k.notna() & (t.k > 0)]
    t["z"] = (t.r - t.k) / (t.rsd * math.sqrt(1.0 / n0 + 1.0 / n1))
    t["rise"] = t.r / t.k
    t["ex"] = t.z > z
    if table is not None:  # the per-code scores, for `both_legs_tests`
        table.append(t)
    out: dict[tuple[str, str], ShareStats] = {}
    for (hub, leg), g in t.groupby(["hub", "leg"]):
        c = g[g.grp == "chpl"]
        k = g[g.grp == "control"]
        if len(c) < min_codes or len(k) < min_codes:
            continue
        k1, k0 = int(c.ex.sum()), int(k.ex.sum())
        p = hypergeom_sf(k1, len(c) + len(k), k1 + k0, len(c)) if k1 else 1.0
        top = c[c.ex].sort_values("z", ascending=False)
        out[(str(hub), str(leg))] = ShareStats(
            p=p, k_chpl=k1, n_chpl=len(c), k_ctrl=k0, n_ctrl=len(k),
            exceeding=tuple(str(x) for x in top.hs2022),
            median_rise=float(top.rise.median()) if k1 else 1.0,
        )  # fmt: skip
    return out


def share_since(
    shares: Any, hub: str, leg: str, codes: tuple[str, ...], pre_lo: int, pre_hi: int,
    first: int, z: float,
) -> int | None:  # fmt: skip
    """Since when: the first quarter from `first` on in which the exceeding codes' summed
    share is more than `z` baseline spreads above its baseline mean, two quarters running."""
    d = shares[(shares.hub == hub) & (shares.leg == leg) & shares.hs2022.isin(list(codes))]
    if d.empty:
        return None
    s = d.groupby("q").share.sum()
    base = s[(s.index >= pre_lo) & (s.index <= pre_hi)]
    if base.empty:
        return None
    n0 = pre_hi - pre_lo + 1
    mu = float(base.sum()) / n0
    sd = max(float(base.std(ddof=1)) if len(base) > 1 else 0.0, 0.05 * mu)
    # every quarter from `first` on, those without trade as zeros: "running" means
    # consecutive quarters, not consecutive quarters that traded
    post = s.reindex(range(first, max(int(s.index.max()), first - 1) + 1), fill_value=0.0)
    above = [bool(v > mu + z * sd) for v in post.to_numpy()]
    for i in range(len(above) - 1):
        if above[i] and above[i + 1]:
            return int(post.index[i])
    return None


@dataclass(frozen=True)
class BothLegs:
    p: float
    k_chpl: int  # CHPL codes whose share rose beyond z on both legs
    n_chpl: int  # CHPL codes with a baseline on both legs
    rate: float  # the null rate used: pooled over every candidate's controls, or its own
    codes: tuple[str, ...]


def both_legs_tests(table: Any, z: float, legs: tuple[str, str]) -> dict[str, BothLegs]:
    """Per candidate: CHPL codes whose share rose beyond `z` on *both* legs (more of the
    coalition's supply and more of the target-bound trade, as goods passing through do),
    against the rate at which control codes do so: the larger of the rate over every
    candidate's controls and the candidate's own (lumpy, noisy candidates have more)."""
    from transship.analysis.detect.base import binom_sf

    w = table.pivot_table(index=["hub", "hs2022", "grp"], columns="leg", values="z")
    if not all(leg in w.columns for leg in legs):
        return {}
    w = w.dropna(subset=list(legs)).reset_index()
    w["ex"] = (w[legs[0]] > z) & (w[legs[1]] > z)
    ctrl = w[w.grp == "control"]
    pooled = (float(ctrl.ex.sum()) + 1.0) / (len(ctrl) + 1.0)
    out: dict[str, BothLegs] = {}
    for hub, g in w.groupby("hub"):
        c, k = g[g.grp == "chpl"], g[g.grp == "control"]
        if c.empty:
            continue
        own = float(k.ex.sum()) / len(k) if len(k) else 0.0
        rate = max(pooled, own)
        k1 = int(c.ex.sum())
        top = c[c.ex].assign(m=c[list(legs)].min(axis=1)).sort_values("m", ascending=False)
        out[str(hub)] = BothLegs(p=binom_sf(k1, len(c), rate) if k1 else 1.0, k_chpl=k1,
                                 n_chpl=len(c), rate=rate,
                                 codes=tuple(str(x) for x in top.hs2022))  # fmt: skip
    return out
