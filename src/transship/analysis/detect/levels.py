"""Level legs (used by `blocks`): each (exporter, destination) pair's CHPL exports as a padded
log level, quarterly, judged against the leg's own quarter-to-quarter noise up to the split --
not against control goods and not against the 2019-2021 baseline.

A direct flow that a roundabout created has no baseline and almost no control goods, so a
CHPL-to-control ratio (`legs`) is noise there; its own level is not: a smooth $0.3M a quarter
that falls to $0.13M and stays there is a break, whatever its control goods do. A leg's change
at split quarter s compares the mean padded log level of the quarters from s (at most `post`)
with the `pre` quarters before s; its spread is the standard deviation of the leg's quarterly
log changes from the data's start to s, over sqrt 2 (the spread of one quarter's level about a
flat level, if the quarters were independent), floored by `min_spread`. A lumpy series has
large quarterly changes, a series that stepped once (a roundabout starting) has one large
change among many small ones, and the pad keeps a series of zeros and one lump from looking
smooth.

`supply`: the coalition's CHPL exports to each country, the same way (a direct flow falling
because the coalition stopped supplying the country is no block).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transship.analysis.detect.legs import TARGET, window_mean

SUPPLY = "_coalition"  # the exporter of the supply legs (leg = the country supplied)


@dataclass
class Levels:
    """Every (exporter, leg) series, one row each: leg `TARGET` or a partner's code; rows with
    exporter `SUPPLY` are the coalition's exports to the country in `leg`."""

    exporter: Any  # numpy arrays
    leg: Any
    y: Any  # quarterly padded log CHPL USD
    c: Any  # CHPL USD a quarter
    q0: int  # quarter of column 0
    last: int  # last quarter
    min_spread: float

    def __post_init__(self) -> None:
        import numpy as np

        self._cy = np.cumsum(self.y, axis=1)
        self._cy2 = np.cumsum(self.y * self.y, axis=1)
        self._cc = np.cumsum(self.c, axis=1)
        d = np.diff(self.y, axis=1)
        self._cd = np.cumsum(d, axis=1)
        self._cd2 = np.cumsum(d * d, axis=1)

    def row(self) -> dict[tuple[str, str], int]:
        return {(str(e), str(g)): r for r, (e, g) in enumerate(zip(self.exporter, self.leg,
                                                                    strict=True))}  # fmt: skip

    def spread(self, s: int) -> Any:
        """Every leg's spread from its quarterly log changes before quarter `s`."""
        import numpy as np

        n = s - self.q0 - 1  # changes between the columns 0 .. s - q0 - 1
        if n < 2:
            return np.full(len(self.y), self.min_spread)
        s1, s2 = self._cd[:, n - 1], self._cd2[:, n - 1]
        var = np.maximum(s2 - s1 * s1 / n, 0.0) / (n - 1)
        return np.maximum(np.sqrt(var / 2.0), self.min_spread)

    def change(self, s: int, pre: int, post: int) -> tuple[Any, Any, Any]:
        """At split quarter `s`, every leg's (z of its level's change, CHPL USD a year in the
        `pre` quarters before, CHPL USD a year gained after)."""
        i = s - self.q0
        j = min(i + post, self.last - self.q0 + 1)

        import numpy as np

        n = j - i
        m1 = window_mean(self._cy, i, j)
        # the quarters after: their own spread about their mean (a lump among zeros is no
        # new level), floored
        v1 = np.maximum(window_mean(self._cy2, i, j) - m1 * m1, 0.0) * n / max(n - 1, 1)
        s1 = np.maximum(np.sqrt(v1), self.min_spread)
        se = np.sqrt(self.spread(s) ** 2 / pre + s1 * s1 / n)
        z = (m1 - window_mean(self._cy, i - pre, i)) / se
        before = window_mean(self._cc, i - pre, i) * 4
        return z, before, window_mean(self._cc, i, j) * 4 - before


def make_levels(tot: Any, targets: set[str], coalition: set[str], baseline_start: int,
                pad: float, min_spread: float) -> Levels | None:  # fmt: skip
    """`tot`: pandas exporter, partner, grp, q, v (`panel.pair_totals`; CHPL rows used);
    `pad`: USD a quarter added before the log; `min_spread`: floor of every spread."""
    import numpy as np
    import pandas as pd

    d = tot[(tot.grp == "chpl") & ~tot.exporter.isin(sorted(targets))]
    if d.empty:
        return None
    d = d.assign(leg=np.where(d.partner.isin(sorted(targets)), TARGET, d.partner))
    sup = d[d.exporter.isin(sorted(coalition)) & (d.leg != TARGET)]
    sup = sup.assign(exporter=SUPPLY)
    d = pd.concat([d, sup], ignore_index=True)
    q0, last = min(baseline_start, int(d.q.min())), int(d.q.max())
    cube = d.groupby(["exporter", "leg", "q"]).v.sum().unstack("q", fill_value=0.0)
    cube = cube.reindex(columns=range(q0, last + 1), fill_value=0.0)
    c = cube.to_numpy()
    frame = cube.index.to_frame(index=False)
    return Levels(frame.exporter.to_numpy(), frame.leg.to_numpy(), np.log(c + pad), c, q0,
                  last, min_spread)  # fmt: skip
