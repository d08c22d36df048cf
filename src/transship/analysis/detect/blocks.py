"""`blocks`: a country's direct CHPL exports to the target fall while the same goods' exports
to other countries rise -- goods moved off a blocked direct route (Turkey's customs refusing
Russia-bound declarations in 2024, the flows going on via Georgia or Kazakhstan).

The goods may go to any country (one neighbour or several, in the target's region or not), so
every destination is a candidate neighbour (`pair_totals`: each exporter's reported exports to
every partner, CHPL and control goods summed, quarterly). Each leg is a quarterly CHPL-to-
control log ratio (the exporter's trend, and a fall of all its trade with the target, cancel);
its change at a split quarter s compares the quarters from s to the data's end (at most
`post_quarters`) with the `pre_quarters` before s, over the leg's baseline spread (floored,
`min_spread`): a block persists, a lump of a small series does not, so the long post window
is what tells them apart. At each split:

At each split, every leg's z is scaled by the spread of all legs' z at that split (MAD, at
least 1; the legs to the target apart from the others): most legs carry no block, and where
the legs' own baseline spreads understate their changes (a tier's few products) the
cross-section says so.

- direct: the leg to the target must fall by at least `min_leg_z` spreads, and its CHPL USD by
  at least `min_fall_share` of the quarters before (a ratio that fell by the control goods
  rising, or by a few percent of a large flow, is no block); the fall in USD a year is what
  moved;
- neighbours: a destination d took goods when the exporter's CHPL exports to d rose by at least
  `min_part` of what moved and its leg rose by `min_leg_z` spreads; what the routes took must
  add up to `min_arrived` of the fall (goods moved, not lost: a cut with a chance rise
  elsewhere is no block);
- legs p-value: the normal tail of the combined z (Stouffer) of the direct fall, the best
  route's rise and, weighted `onward_weight`, d's own exports to the target (the goods pass
  on; a small weight: they also rise wherever another scheme passes through d), Bonferroni
  over the destinations;
- codes p-value: more CHPL than control products moved on the per-code panel (`pair_quarters`:
  direct down and the configured neighbours up by `log_change`, `pre_quarters` before and
  after s; one-sided Fisher exact: the candidate's own controls carry its lumpiness).

The legs test runs again on each group's level legs (`levels`, module `levels`: padded log
CHPL USD against each leg's own quarterly noise, not against control goods, which a direct
flow a roundabout created hardly has), on all CHPL goods and each tier apart (`level_tiers`:
a block of one tier is a few percent of a large exporter's CHPL exports but most of the
tier's); the ratio legs of each tier only with `tiers` (at `tier_min_leg_z`). Bonferroni over
all the legs tested. No test counts at a split where the coalition's CHPL supply to the
candidate fell by as much as its direct exports (`supply_share`: the goods stopped coming).

Bonferroni over the two tests and the splits, Benjamini-Hochberg across candidates, which are
every reporter outside the target and `exclude` (the coalition by default: a coalition
member's direct exports to Russia falling is the sanction itself, and its goods reaching Russia
via a third country are a roundabout, which `hubs` finds at the hub). `since`: among the
splits with evidence, the one where the direct leg (of the goods with the strongest evidence)
fell most between the `since_quarters` just before and just after it -- a local step: the
long windows that carry the evidence let the splits around a block fall almost as far.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
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
from transship.analysis.detect.hubtext import q_start
from transship.analysis.detect.legs import TARGET, make_legs
from transship.analysis.detect.levels import SUPPLY, make_levels
from transship.analysis.detect.panel import pair_quarters, pair_totals

LEVELS = " (levels)"  # the name of a group of goods' level legs: the group's and this


@dataclass
class _Split:
    p: float
    s: int  # split quarter
    k1: int  # CHPL products moved (codes test)
    n1: int
    k0: int
    n0: int
    z_fall: float  # the direct leg's CHPL-to-control log ratio fell this many spreads
    z_near: float  # ... between the `since_quarters` just before and after the split
    z_rise: float  # the best route's rise
    which: str  # the stronger test: legs or codes
    moved_usd: float  # a year: the fall of the direct CHPL exports
    gained_usd: float  # a year: the rise of the CHPL exports to the destinations that took
    via: tuple[tuple[str, float, float, float], ...]  # (d, leg z, onward z, USD a year)
    codes: tuple[str, ...]
    group: str = "CHPL"  # the goods whose legs moved: all CHPL goods or one tier
    near: dict[str, float] = field(default_factory=dict)  # z_near of each group of goods


@dataclass
class _Legs:
    """The legs test of one candidate at one split, for one group of goods."""

    p: float  # before the Bonferroni over the groups of goods, the tests and the splits
    arrived: bool
    before: float  # direct CHPL USD a year in the quarters before
    moved: float
    gained: float
    z_fall: float  # the direct leg's z (negative: it fell)
    z_near: float
    z_rise: float
    via: tuple[tuple[str, float, float, float], ...]
    cut: bool = False  # the coalition's supply to the candidate fell (`levels` legs only)


def _legs_tests(L: Any, s: int, direct: set[str], p: dict[str, Any], min_z: float,
                no_route: frozenset[str] = frozenset()) -> dict[str, _Legs]:  # fmt: skip
    """Per candidate with a leg to the target: the legs test at split `s` (see the module),
    the direct leg falling and the best route rising by at least `min_z` spreads."""
    w0, w1 = int(p["pre_quarters"]), int(p["post_quarters"])
    z, before, gain = L.change(s, w0, w1)
    sq = int(p["since_quarters"])
    z_near = L.change(s, sq, sq)[0]  # for `since`: the quarters just before and after
    onward: dict[str, int] = {}
    supply: dict[str, int] = {}  # the coalition's exports to the country (`levels` only)
    rows_of: dict[str, list[tuple[str, int]]] = {}
    for (h, d), r in L.row().items():
        if d == TARGET:
            onward[h] = r
        elif h == SUPPLY:
            supply[d] = r
        elif h in direct:  # every destination counts in the Bonferroni, routes or not
            rows_of.setdefault(h, []).append((d, r))
    # most legs carry no block, so at this split the z of the legs to the target, and of the
    # legs to the other countries, are scaled by their spread about their median (MAD, at
    # least 1: where legs move more than their baseline spreads say, all of them do)
    import numpy as np

    is_t = np.zeros(len(z), dtype=bool)
    is_t[list(onward.values())] = True
    for sel in (is_t, ~is_t):
        if sel.sum() >= 5:
            mid = float(np.median(z[sel]))
            mad = max(1.4826 * float(np.median(np.abs(z[sel] - mid))), 1.0)
            z = np.where(sel, z / mad, z)
    out: dict[str, _Legs] = {}
    for hub in direct:
        rt = onward.get(hub)
        if rt is None:
            continue
        moved = -float(gain[rt])
        zt = float(z[rt])
        via = []
        n_dest = len(rows_of.get(hub, []))
        for d, r in rows_of.get(hub, []) if moved > 0 else []:
            if gain[r] < p["min_part"] * moved or d in no_route:
                continue
            zo = float(z[onward[d]]) if d in onward else 0.0
            if z[r] >= min_z:
                via.append((d, float(z[r]), zo, float(gain[r])))
        # the best route: its leg's rise and the goods passing on (d's own exports to the
        # target, weighted `onward_weight`: small, as they also rise wherever another scheme
        # passes through d), combined with the direct fall (Stouffer)
        w = float(p["onward_weight"])
        norm = math.sqrt(2.0 + w * w)
        via.sort(key=lambda v: -(v[1] + w * v[2]))
        zn = via[0][1] if via else 0.0
        zc = (-zt + zn + w * via[0][2]) / norm if via else -math.inf
        gained = sum(v[3] for v in via)
        # the goods must arrive somewhere: a route rose and took a share of the fall
        arrived = moved > 0 and zn >= min_z and gained >= p["min_arrived"] * moved
        # a block stops a share of the direct trade: a ratio that fell by its control goods
        # rising, or by a few percent of a large flow, is no block
        fell = moved >= p["min_fall_share"] * float(before[rt])
        # the coalition kept supplying the country (a fall of its supply is no block)
        sup = supply.get(hub)
        cut = sup is not None and z[sup] <= -min_z and -gain[sup] >= p["supply_share"] * moved
        ok = arrived and fell and -zt >= min_z and not cut
        pv = min(1.0, norm_sf(zc) * max(n_dest, 1)) if ok else 1.0  # Bonferroni: destinations
        out[hub] = _Legs(p=pv, arrived=arrived, before=float(before[rt]), moved=moved,
                         gained=gained, z_fall=zt, z_near=float(z_near[rt]), z_rise=zn,
                         via=tuple(via), cut=cut)  # fmt: skip
    return out


@register
class BlockDetector(Detector):
    name: ClassVar[str] = "blocks"
    kind: ClassVar[str] = "block"
    description: ClassVar[str] = (
        "A country's CHPL exports to the target fell while the same goods' exports to other "
        "countries rose, beyond its control goods (a blocked direct route)."
    )
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        Parameter("fdr", 0.05, "false-discovery rate across all candidate countries (BH)"),
        Parameter("pre_quarters", 8, "quarters before each split compared with those after"),
        Parameter("post_quarters", 16, "most quarters after a split compared (to the data's "
                  "end): a block persists, a lump does not"),
        Parameter("min_post_quarters", 3, "fewest quarters after a split (the data's end)"),
        Parameter("log_change", math.log(1.5), "codes test: a product's direct exports fell "
                  "when they fell by more than this (log, detrended)"),
        Parameter("code_pad_usd", 20_000.0, "codes test: USD a quarter added to a product's "
                  "windows before taking logs (a zero quarter is not an infinite change)"),
        Parameter("min_spread", 0.05, "floor of a leg's quarterly spread of its CHPL-to-control "
                  "log ratio in the baseline"),
        Parameter("min_leg_z", 2.0, "legs test: the direct leg must fall and the best route "
                  "rise by at least this many spreads; the test is on their sum"),
        Parameter("onward_weight", 0.25, "legs test: weight of the route's onward leg (its "
                  "country's exports to the target, against their control goods: the goods "
                  "pass on) in the combined z of the direct fall and the route's rise"),
        Parameter("tier_min_leg_z", 3.0, "the same for one tier's legs: few products, lumpier "
                  "than their spread says, and four more chances"),
        Parameter("min_part", 0.1, "legs test: a destination counts when the exporter's CHPL "
                  "exports to it rose by at least this share of the direct fall"),
        Parameter("min_fall_share", 0.15, "legs test: the direct CHPL exports must fall by at "
                  "least this share of the quarters before (a block stops a share of a route)"),
        Parameter("min_arrived", 0.25, "legs test: the destinations' CHPL gain must be at least "
                  "this share of the direct fall (goods moved, not lost)"),
        Parameter("pad_usd", 100_000.0, "USD a quarter added to CHPL and control before taking "
                  "the log ratio (a small series' lump, ~1 shipment, is not a change)"),
        Parameter("tiers", False, "test each CHPL tier's legs apart too (Bonferroni over the "
                  "five groups of goods): a block of one tier at a large exporter"),
        Parameter("tier_pad_usd", 100_000.0, "the same pad for one tier's legs (each tier is "
                  "tested apart too, Bonferroni over the five groups of goods)"),
        Parameter("levels", True, "test each group of goods' legs also as their own padded log "
                  "levels, against each leg's own quarterly noise (`levels`): a direct flow a "
                  "roundabout created has no control goods; Bonferroni over the legs tested"),
        Parameter("level_pre_quarters", 8, "level legs: quarters before each split compared "
                  "with those after (the flow's recent level)"),
        Parameter("level_tiers", True, "the level legs of each CHPL tier apart too"),
        Parameter("level_pad_usd", 100_000.0, "USD a quarter added to a level leg before its "
                  "log (a small series' lump is not a change)"),
        Parameter("level_min_spread", 0.1, "floor of a level leg's spread (log), before and "
                  "after the split"),
        Parameter("supply_share", 1.0, "no block (by any test) when the coalition's CHPL "
                  "exports to the country, as a level leg, fell by min_leg_z spreads and by at "
                  "least this share of the direct fall in USD (the goods stopped coming, they "
                  "were not moved)"),
        Parameter("min_products", 5, "codes test: fewest CHPL and control products with "
                  "direct exports"),
        Parameter("min_direct_usd", 250_000.0, "leave out candidates with less CHPL exports "
                  "to the target a year before the split"),
        Parameter("min_moved_usd", 250_000.0, "leave out findings moving less a year"),
        Parameter("since_quarters", 4, "since: the split whose direct leg fell most between "
                  "this many quarters just before and just after it"),
        Parameter("exclude", "coalition", "countries that are not candidates"),
        Parameter("no_route", "coalition", "countries that are no route for a block's goods "
                  "(a coalition member passing CHPL goods on to the target is what the sanctions "
                  "stop; its exports there fall)"),
    )  # fmt: skip

    def run(self, ctx: Context) -> list[Finding]:

        p = self.params
        targets = set(reference.parse_countries(ctx.target))
        out_group = set(reference.parse_countries(p["exclude"])) | targets
        pre = tuple(x.year * 4 + (x.month - 1) // 3 for x in ctx.baseline)
        first = ctx.post_start.year * 4 + (ctx.post_start.month - 1) // 3
        first += 0 if ctx.post_start.month % 3 == 1 else 1
        tot = pair_totals(ctx)
        coalition = set(reference.parse_countries(ctx.coalition))
        # all CHPL goods, and each tier apart: a block of one tier (a list of chips) at a large
        # exporter is a few percent of its CHPL exports to the target but most of that tier's
        groups = [("CHPL", tot, float(p["pad_usd"]), True)]
        if "tier" in tot.columns and (p["tiers"] or p["level_tiers"]):
            groups += [(f"tier {t}", tot[(tot.grp == "control") | (tot.tier == t)],
                        float(p["tier_pad_usd"]), bool(p["tiers"])) for t in "1234"]  # fmt: skip
        # each group's legs twice: against its control goods (`legs`) and as its own level
        # (`levels`: a flow a roundabout created has no control goods to speak of)
        legs: list[tuple[str, Any, float]] = []
        for name, d, pad, ratio in groups:
            L = make_legs(d, targets, (pre[0], pre[1]), pad, float(p["min_spread"]))
            if L is not None and ratio:
                z = p["min_leg_z"] if name == "CHPL" else p["tier_min_leg_z"]
                legs.append((name, L, float(z)))  # the group's name: its ratio legs
            V = make_levels(d, targets, coalition, pre[0], float(p["level_pad_usd"]),
                            float(p["level_min_spread"])) if p["levels"] else None  # fmt: skip
            if V is not None and (name == "CHPL" or p["level_tiers"]):
                legs.append((f"{name}{LEVELS}", V, float(p["min_leg_z"])))
        if not legs:
            return []
        L = legs[0][1]
        w0 = int(p["pre_quarters"])
        splits = list(range(max(first, L.q0 + w0), L.last - int(p["min_post_quarters"]) + 2))
        codes = _codes_falls(ctx, targets, out_group, splits, p)
        # the candidates: every exporter with a leg to the target, outside the out-group
        direct = {h for (h, g) in L.row() if g == TARGET and h not in out_group}
        seen: dict[str, list[_Split]] = {}  # per candidate, the splits with evidence
        n_groups = len(legs)
        lp = {**p, "pre_quarters": p["level_pre_quarters"]}  # the level legs' window before
        nr = frozenset(reference.parse_countries(p["no_route"])) if p["no_route"] else frozenset()
        # a level leg needs its whole window before the split (a late baseline leaves fewer
        # quarters than `level_pre_quarters`, and a shorter window would under-count "before")
        w_lv = int(p["level_pre_quarters"])
        tests = {s: [(name, {} if name.endswith(LEVELS) and s - Lg.q0 < w_lv else
                      _legs_tests(Lg, s, direct, lp if name.endswith(LEVELS) else p, z, nr))
                     for name, Lg, z in legs] for s in splits}  # fmt: skip
        for s in splits:
            total = tests[s][0][1]  # all CHPL goods: the candidate's size and the codes test
            for hub in direct:
                if hub not in total or total[hub].before < p["min_direct_usd"]:
                    continue
                cands = [(name, t[hub]) for name, t in tests[s] if hub in t]
                if any(t.cut for name, t in cands if name == "CHPL" + LEVELS):
                    continue  # the coalition stopped supplying it: no block, by any test
                name, lt = min(cands, key=lambda c: c[1].p)
                p_legs = min(1.0, lt.p * n_groups)
                arrived = any(t.arrived for _, t in cands)
                near = {name: -t.z_near for name, t in cands}
                k1, n1, k0, n0, moved_codes = codes.get((hub, s), (0, 0, 0, 0, ()))
                p_codes = hypergeom_sf(k1, n1 + n0, k1 + k0, n1) if k1 >= 2 and arrived else 1.0
                pv = min(1.0, min(p_legs, p_codes) * 2 * len(splits))
                if pv < 1.0:
                    if p_codes < p_legs:  # the codes test: all CHPL goods' legs are shown
                        name, lt = "CHPL", total[hub]
                    seen.setdefault(hub, []).append(_Split(
                        p=pv, s=s, k1=k1, n1=n1, k0=k0, n0=n0, z_fall=-lt.z_fall,
                        z_near=-lt.z_near, z_rise=lt.z_rise,
                        which="legs" if p_legs <= p_codes else "codes", moved_usd=lt.moved,
                        gained_usd=lt.gained, via=lt.via, codes=moved_codes, group=name,
                        near=near,
                    ))  # fmt: skip
        # p: the smallest over the splits. since (and the evidence shown): the split with
        # evidence where the direct leg of the goods with the smallest p (all CHPL or a tier)
        # fell most between the `since_quarters` just before and after it (a local step)
        best: dict[str, _Split] = {}
        for hub, sts in seen.items():
            top = min(sts, key=lambda st: st.p)
            best[hub] = max(sts, key=lambda st: st.near.get(top.group, -math.inf))
            best[hub].p = top.p
        out = [self._finding(ctx, hub, st) for hub, st in best.items()]
        kept = apply_fdr(out, p["fdr"], n_tests=max(len(direct), len(out)))
        return [f for f in kept if f.size_usd >= p["min_moved_usd"]]

    def _finding(self, ctx: Context, hub: str, st: _Split) -> Finding:
        p = self.params
        via = ", ".join(f"{d} (+{money(g)}/yr, {z:.1f} spreads; its exports to {ctx.target} "
                        f"{zo:+.1f})" for d, z, zo, g in st.via[:4]) or "no country"  # fmt: skip
        top = ", ".join(st.codes[:4]) + (", ..." if len(st.codes) > 4 else "")
        levels = st.group.endswith(LEVELS)
        group = st.group.removesuffix(LEVELS)
        goods = "CHPL" if group == "CHPL" else f"CHPL {group}"
        how = ("as a level, against its own quarterly noise" if levels
               else "against its control goods")  # fmt: skip
        ev = (f"{hub}'s {goods} exports to {ctx.target}, {how}, fell "
              f"{st.z_fall:.1f} spreads from {q_start(st.s):%Y-%m} (the quarters after against "
              f"the {p['pre_quarters']} before) while its {goods} exports rose to {via}"
              + ("; the coalition's supply to it did not fall" if levels else "")
              + f"; {st.k1} of {st.n1} CHPL codes fell on the direct route vs {st.k0} of "
              f"{st.n0} control codes" + (f" ({top})" if st.k1 else "")
              + f"; strongest test: {st.which}; {money(st.moved_usd)}/yr off the direct "
              f"route, {money(st.gained_usd)}/yr more to those countries")  # fmt: skip
        return Finding(
            kind=self.kind, where=f"{hub} (direct -> neighbours)", since=q_start(st.s),
            size_usd=max(st.moved_usd, 0.0), evidence=ev, detector=self.name, p_value=st.p,
            country=hub, link=f"/hub?hub={hub}",
        )  # fmt: skip


def _codes_falls(ctx: Context, targets: set[str], out_group: set[str], splits: list[int],
                 p: dict[str, Any]) -> dict[tuple[str, int], tuple[Any, ...]]:  # fmt: skip
    """Per (candidate, split): CHPL products whose direct exports to the target fell by more
    than `log_change` (detrended by the candidate's median control product; the quarters from
    the split, at most `post_quarters`, against the `pre_quarters` before), CHPL products
    with direct exports, the same for control products, and the fallen CHPL codes (largest
    first). A block stops some products (a tier, a list) outright: many codes fall at once,
    where a slump or a lump moves one."""
    import numpy as np

    df = pair_quarters(ctx)
    d = df[~df.hub.isin(sorted(out_group)) & df.leg.isin(sorted(targets))]
    if d.empty or not splits:
        return {}
    w0, w1 = int(p["pre_quarters"]), int(p["post_quarters"])
    q0, last = splits[0] - w0, int(d.q.max())
    d = d[d.q >= q0]
    m = d.groupby(["hub", "hs2022", "grp", "q"]).v.sum().unstack("q", fill_value=0.0)
    cum = np.cumsum(m.reindex(columns=range(q0, last + 1), fill_value=0.0).to_numpy(), axis=1)
    keys = m.index.to_frame(index=False)
    pad = float(p["code_pad_usd"])

    def window(a: int, b: int) -> Any:
        return (cum[:, b - 1] - (cum[:, a - 1] if a > 0 else 0.0)) / (b - a)

    out: dict[tuple[str, int], tuple[Any, ...]] = {}
    for s in splits:
        i = s - q0
        t0, t1 = window(i - w0, i), window(i, min(i + w1, last - q0 + 1))
        f = keys.assign(fall=np.log((t1 + pad) / (t0 + pad)), t0=t0)
        f = f[f.t0 > 0]
        trend = f[f.grp == "control"].groupby("hub").fall.median().rename("fk")
        f = f.join(trend, on="hub").dropna()
        f["moved"] = f.fall - f.fk < -p["log_change"]
        for hub, g in f.groupby("hub"):
            c, k = g[g.grp == "chpl"], g[g.grp == "control"]
            if len(c) < p["min_products"] or len(k) < p["min_products"]:
                continue
            fell = tuple(str(x) for x in c[c.moved].sort_values("t0", ascending=False).hs2022)
            out[(str(hub), s)] = (int(c.moved.sum()), len(c), int(k.moved.sum()), len(k), fell)
    return out
