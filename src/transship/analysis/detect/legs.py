"""Aggregate legs of every exporter (used by `blocks` and the `hubs` onward test): each
(exporter, destination) pair's CHPL and control exports summed over their codes, quarterly
(`panel.pair_totals`), as a CHPL-to-control log ratio with a baseline spread, and its change at
a split quarter: the quarters from the split to the data's end (at most `post`) against the
`pre` quarters before, in spreads.

A leg's own baseline spread understates a small leg's: one lump moves its ratio far, and a leg
that never traded in the baseline has no spread at all. The spread is floored by the median
spread of the legs of its size (tenths by baseline trade; legs without any count with the
smallest), so a lump is judged against its peers' lumps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

TARGET = "t"  # the leg to the target countries, summed


@dataclass
class Legs:
    """Every (exporter, leg) series, one row each: leg `TARGET` or a partner's code."""

    exporter: Any  # numpy arrays
    leg: Any
    y: Any  # quarterly CHPL-to-control log ratio (padded)
    c: Any  # CHPL USD a quarter
    sd: Any  # baseline spread of y, floored
    q0: int  # quarter of column 0
    last: int  # last quarter

    def __post_init__(self) -> None:
        import numpy as np

        self._cy = np.cumsum(self.y, axis=1)
        self._cc = np.cumsum(self.c, axis=1)

    def row(self) -> dict[tuple[str, str], int]:
        return {(str(e), str(g)): r for r, (e, g) in enumerate(zip(self.exporter, self.leg,
                                                                    strict=True))}  # fmt: skip

    def change(self, s: int, pre: int, post: int) -> tuple[Any, Any, Any]:
        """At split quarter `s`, every leg's (z of its ratio's change, CHPL USD a year in the
        `pre` quarters before, CHPL USD a year gained after)."""
        i = s - self.q0
        j = min(i + post, self.last - self.q0 + 1)

        scale = math.sqrt(1.0 / pre + 1.0 / (j - i))
        z = (window_mean(self._cy, i, j) - window_mean(self._cy, i - pre, i)) / (self.sd * scale)
        before = window_mean(self._cc, i - pre, i) * 4
        return z, before, window_mean(self._cc, i, j) * 4 - before


def window_mean(cum: Any, a: int, b: int) -> Any:
    """Each row's mean of columns a..b-1, from the row-wise cumulative sums `cum`."""
    return (cum[:, b - 1] - (cum[:, a - 1] if a > 0 else 0.0)) / (b - a)


def make_legs(tot: Any, targets: set[str], baseline: tuple[int, int], pad: float,
              min_spread: float) -> Legs | None:  # fmt: skip
    """`tot`: pandas exporter, partner, grp, q, v (`panel.pair_totals`); `baseline`: the
    quarters the spread is taken over; `pad`: USD a quarter added to CHPL and control before
    the log ratio; `min_spread`: floor of every spread."""
    import numpy as np

    d = tot[~tot.exporter.isin(sorted(targets))]
    if d.empty:
        return None
    d = d.assign(leg=np.where(d.partner.isin(sorted(targets)), TARGET, d.partner))
    q0, last = min(baseline[0], int(d.q.min())), int(d.q.max())
    cube = d.groupby(["exporter", "leg", "grp", "q"]).v.sum().unstack("q", fill_value=0.0)
    cube = cube.reindex(columns=range(q0, last + 1), fill_value=0.0)
    grp = cube.index.get_level_values("grp")
    c, k = cube[grp == "chpl"].droplevel("grp"), cube[grp == "control"].droplevel("grp")
    idx = c.index.union(k.index)
    c, k = c.reindex(idx, fill_value=0.0).to_numpy(), k.reindex(idx, fill_value=0.0).to_numpy()
    y = np.log((c + pad) / (k + pad))
    b = slice(baseline[0] - q0, baseline[1] - q0 + 1)
    base = y[:, b]
    sd = base.std(axis=1, ddof=1) if base.shape[1] > 1 else np.zeros(len(y))
    size = c[:, b].mean(axis=1) + k[:, b].mean(axis=1)
    rank = np.argsort(np.argsort(size))
    n_zero = int((size <= 0).sum())
    tenth = np.clip((rank - n_zero) * 10 // max(len(size) - n_zero, 1), 0, 9)
    peers = np.zeros(10)
    for t in range(10):
        sel = (tenth == t) & (size > 0)
        peers[t] = np.median(sd[sel]) if sel.any() else 0.0
    sd = np.maximum(np.maximum(sd, peers[tenth]), min_spread)
    frame = idx.to_frame(index=False)
    return Legs(frame.exporter.to_numpy(), frame.leg.to_numpy(), y, c, sd, q0, last)


@dataclass(frozen=True)
class Onward:
    """A country's exports to the target at its strongest split (the `hubs` onward test)."""

    p: float
    z: float  # the ratio's rise in spreads, at the split where it rose most
    z_null: float  # that rise against every candidate's largest rise (the empirical null)
    s: int  # split quarter
    gain_usd: float  # CHPL USD a year more than in the quarters before
    group: str = "CHPL"  # the goods: all CHPL codes, or one tier's


def onward_scan(L: Legs, splits: list[int], pre: int, post: int, since_z: float = 1.0) -> dict[
        str, Onward]:  # fmt: skip
    """Per exporter: the largest rise over `splits` of its leg to the target, and its p-value
    against the other exporters' largest rises (median and MAD-scaled spread: most countries
    carry no scheme, so their maxima are the null of a maximum over correlated splits, which no
    Bonferroni over splits gets right; the spread is at least 1). Its split is the earliest
    whose rise is within `since_z` of the largest (long windows make earlier splits rise too,
    but less)."""
    import numpy as np

    rows = {h: r for (h, g), r in L.row().items() if g == TARGET}
    if not rows or not splits:
        return {}
    hubs, idx = list(rows), np.array(list(rows.values()))
    zs, gains = [], []
    for s in splits:
        z, _, gain = L.change(s, pre, post)
        zs.append(z[idx])
        gains.append(gain[idx])
    Z, G = np.array(zs), np.array(gains)
    top = Z.max(axis=0)
    at = (top[None, :] - since_z <= Z).argmax(axis=0)  # the first split near the largest
    mid = float(np.median(top))
    # the spread of the maxima, at least that of one z (1): with few countries or quiet ones
    # the MAD is small while a maximum's upper tail is long
    spread = max(1.4826 * float(np.median(np.abs(top - mid))), 1.0)
    from transship.analysis.detect.base import norm_sf

    out: dict[str, Onward] = {}
    for k, h in enumerate(hubs):
        zn = (float(top[k]) - mid) / spread
        out[h] = Onward(p=norm_sf(zn), z=float(top[k]), z_null=zn, s=splits[int(at[k])],
                        gain_usd=float(G[at[k], k]))  # fmt: skip
    return out
