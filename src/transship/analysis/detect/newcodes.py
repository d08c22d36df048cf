"""The extensive margin of a leg (used by `hubs` and `surges`): CHPL codes a country never
traded on the leg in the baseline and trades in most quarters after a split -- a small hub's
onward trade created from nothing (ARM, AZE, KGZ, TJK before 2022 sent the target almost no
CHPL goods), which growth and share tests cannot see (no baseline to grow from). Against the
control codes that do so (one-sided Fisher exact): a lumpy control code trading now and then
is the null."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from transship.analysis.detect.base import hypergeom_sf


@dataclass(frozen=True)
class NewCodes:
    p: float
    k_chpl: int  # CHPL codes new on the leg (no baseline quarter, most quarters after)
    n_chpl: int  # CHPL codes of the universe
    k_ctrl: int
    n_ctrl: int
    codes: tuple[str, ...]  # the new CHPL codes, largest first


def quarters_traded(df: Any, pre_lo: int, pre_hi: int) -> Any:
    """pandas: every (hub, leg, hs2022, grp, q, v) row with trade after the baseline, with
    `nb`, the number of baseline quarters in which that code traded on that leg."""
    d = df[df.v > 0]
    base = d[(d.q >= pre_lo) & (d.q <= pre_hi)]
    nb = base.groupby(["hub", "leg", "hs2022", "grp"]).size().rename("nb")
    post = d[d.q > pre_hi][["hub", "leg", "hs2022", "grp", "q", "v"]]
    return post.join(nb, on=["hub", "leg", "hs2022", "grp"]).fillna({"nb": 0})


def new_codes(traded: Any, split: int, last_q: int, min_share: float) -> dict[
        tuple[str, str], NewCodes]:  # fmt: skip
    """Per (hub, leg): CHPL codes that never traded on the leg in the baseline and trade in
    at least `min_share` of the quarters from `split` on (a lump now and then is not a new
    route), against the control codes that do so (one-sided Fisher exact over every code of
    each group that trades anywhere on that leg)."""
    n_post = last_q - split + 1
    need = max(2, math.ceil(min_share * n_post))
    d = traded[(traded.q >= split) & (traded.nb == 0)]
    cnt = d.groupby(["hub", "leg", "hs2022", "grp"]).agg(n=("q", "size"), v=("v", "sum"))
    cnt = cnt[cnt.n >= need].reset_index()
    universe = traded.groupby(["leg", "grp"]).hs2022.nunique()
    out: dict[tuple[str, str], NewCodes] = {}
    for (hub, leg), g in cnt.groupby(["hub", "leg"]):
        c, k = g[g.grp == "chpl"], g[g.grp == "control"]
        k1, k0 = len(c), len(k)
        n1 = int(universe.get((leg, "chpl"), 0))
        n0 = int(universe.get((leg, "control"), 0))
        if k1 < 2 or n1 == 0 or n0 == 0:
            continue
        out[(str(hub), str(leg))] = NewCodes(
            p=hypergeom_sf(k1, n1 + n0, k1 + k0, n1), k_chpl=k1, n_chpl=n1, k_ctrl=k0,
            n_ctrl=n0, codes=tuple(str(x) for x in c.sort_values("v", ascending=False).hs2022),
        )  # fmt: skip
    return out


def new_since(traded: Any, hub: str, leg: str, codes: Sequence[str], first: int) -> int | None:
    """Since when: the first quarter from `first` on in which at least half of the new codes
    (at least two) trade, and again in the next quarter (a stray lump is not the route)."""
    d = traded[(traded.hub == hub) & (traded.leg == leg) & traded.hs2022.isin(list(codes))]
    n = d[d.q >= first].groupby("q").hs2022.nunique()
    need = max(2, (len(codes) + 1) // 2)
    for q in n.index:
        if n.get(q, 0) >= need and n.get(q + 1, 0) >= need:
            return int(q)
    return None


def new_text(nw: NewCodes | None) -> str:
    if nw is None:
        return "no new CHPL codes"
    return (f"{nw.k_chpl} CHPL codes new on the leg (none in the baseline, most quarters "
            f"after; of {nw.n_chpl}) vs {nw.k_ctrl} of {nw.n_ctrl} control codes: "
            + ", ".join(nw.codes[:4]) + (", ..." if len(nw.codes) > 4 else ""))  # fmt: skip
