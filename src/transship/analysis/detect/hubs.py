"""Data-driven hubs: every country that reports trade is a candidate third country.

For each country and leg (imports from the coalition; exports to the target and its
neighbours), each product's log growth g_p = ln(post_p) - ln(pre_p) compares a one-year
window (four quarters) after a split quarter with the baseline's quarterly mean. Three tests
per split, CHPL goods against the control basket of the same headings
(`analysis.hubs.control_basket`), each robust where another is weak:

- did: mean CHPL growth minus mean control growth over its standard error (EBRD design);
  strong for small hubs where the rerouted goods dominate;
- tail: how many CHPL products' share growth (below) exceeds the control basket's 90th
  percentile (binomial against 10%); strong when only some products (one tier) are rerouted;
- share: the same difference on the country's *share* of all countries' flows on that leg
  (its share of target-bound trade, or of coalition supply): growth of the world's flows is
  taken out, which is what matters for large hubs (ARE, HKG, CHN) and for a target whose
  imports collapse.

On the `exports_to_target` leg one more test, the onward test (`legs.onward_scan`): the
country's CHPL-to-control ratio of its exports to the target alone (the neighbours, summed in
on the leg, dilute a reroute's second leg), from a split to the data's end against the eight
quarters before, its largest rise over the splits judged against every country's largest
(median and spread of the maxima: an empirical null, Bonferroni with the leg's other tests),
for all CHPL goods and for each tier apart (a scheme in one tier through a large hub is a few
percent of its CHPL exports but a clear rise of that tier's; Bonferroni over the five).

The split quarters run from the first full quarter after `post_start` to the last one with a
full year after it; a country's p-value is the smallest over tests and splits, times their
number (Bonferroni), and the Benjamini-Hochberg procedure runs across all countries and legs.
`since` is the first quarter (from the first split) in which the leg's CHPL-to-control
ratio is above every baseline quarter's ratio two quarters running (else the first split
whose adjusted p-value is at or below `fdr`). The configured groups
(`hubs`) only label the output ("known hub" or "not in any hub group").
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any, ClassVar

from transship import reference
from transship.analysis.detect.base import (
    Context,
    Detector,
    Finding,
    Parameter,
    apply_fdr,
    binom_sf,
    money,
    norm_sf,
    register,
)
from transship.analysis.detect.hubtext import (
    both_text,
    codes_text,
    evidence,
    growth_text,
    onward_text,
    q_start,
)
from transship.analysis.detect.legs import Onward, make_legs, onward_scan
from transship.analysis.detect.newcodes import new_codes, new_since, quarters_traded
from transship.analysis.detect.panel import leg_panel, pair_totals
from transship.analysis.detect.shares import (
    both_legs_tests,
    share_since,
    share_tests,
    world_shares,
)

LEG_TEXT = {
    "imports_from_coalition": "CHPL imports from the coalition",
    "exports_to_target": "CHPL exports to the target and its neighbours",
}


LEGS = ("imports_from_coalition", "exports_to_target")
# the tests each leg and split runs (Bonferroni over them and the splits)
TESTS = ("did", "share", "codes", "both_legs", "new")


@register
class HubDetector(Detector):
    name: ClassVar[str] = "hubs"
    kind: ClassVar[str] = "reroute_hub"
    description: ClassVar[str] = (
        "A third country's CHPL trade grew beyond its trade in similar (control) goods."
    )
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        Parameter("fdr", 0.05, "false-discovery rate across all countries and legs (BH)"),
        Parameter("min_pre_usd", 500_000.0, "leave out legs with less CHPL trade a year in the "
                  "baseline (too small to estimate growth)"),
        Parameter("min_excess_usd", 1_000_000.0, "leave out legs whose CHPL excess over the "
                  "control-implied path is below this many USD a year"),
        Parameter("min_products", 5, "fewest CHPL and control products traded in both windows"),
        Parameter("tail_quantile", 0.9, "control growth quantile the tail test counts above"),
        Parameter("hubs_group", "hubs", "named group used only to label known hubs"),
        Parameter("share_z", 3.0, "codes test: a code's share of the leg's world total exceeds "
                  "when this many baseline spreads above its detrended baseline"),
        Parameter("min_spread", 0.03, "codes test: floor of a code's quarterly share spread, "
                  "as a fraction of its baseline share"),
        Parameter("min_new_share", 0.5, "new-codes test: a CHPL code with no baseline trade on "
                  "the leg counts as new when it trades in this share of the quarters after "
                  "a split"),
        Parameter("both_z", 2.0, "both-legs test: a code counts when its share z-score is "
                  "above this on both legs (coalition supply and target-bound trade)"),
        Parameter("onward_pre_quarters", 8, "onward test: quarters before a split compared "
                  "with those after (to the data's end)"),
        Parameter("onward_post_quarters", 16, "onward test: most quarters after a split"),
        Parameter("onward_pad_usd", 100_000.0, "onward test: USD a quarter added to CHPL and "
                  "control exports to the target before their log ratio (a lump is no rise)"),
        Parameter("onward_tier_pad_usd", 50_000.0, "onward test: the same pad for one tier's "
                  "exports (each tier is tested apart too, Bonferroni over the five)"),
        Parameter("onward_min_spread", 0.05, "onward test: floor of the ratio's quarterly "
                  "spread in the baseline"),
    )  # fmt: skip

    def run(self, ctx: Context) -> list[Finding]:
        import numpy as np
        import pandas as pd

        p = self.params
        df = self.panel(ctx)
        if df.empty:
            return []
        pre_lo = _q(ctx.baseline[0])
        pre_hi = _q(ctx.baseline[1])
        first = _q(ctx.post_start) + (0 if ctx.post_start.month % 3 == 1 else 1)
        last_q = int(df.q.max())
        # No quarter after the event (data ending before it): nothing to compare; a window
        # of negative length failed share_tests' square root.
        if last_q < first:
            return []
        # splits: the first full quarter after the event, then every January with a year
        # of data after it; each post window runs from its split to the end of the data
        splits = [first] + [q for q in range(first + 1, last_q - 2) if q % 4 == 0]
        known = reference.parse_countries(p["hubs_group"])
        keys = ["hub", "leg", "hs2022", "grp"]
        pre = df[(df.q >= pre_lo) & (df.q <= pre_hi)].groupby(keys).v.sum() / (pre_hi - pre_lo + 1)
        size = pre.groupby(level=["hub", "leg", "grp"]).sum()
        chpl_pre = size.xs("chpl", level="grp") * 4 if "chpl" in size.index.get_level_values(2) \
            else pd.Series(dtype=float)  # fmt: skip
        best: dict[tuple[str, str], dict[str, Any]] = {}
        legs_pair = "both_z" in p  # hubs: two legs per country; surges: one pair each
        n_tests = (len(TESTS) - (0 if legs_pair else 1)) * len(splits)
        shares = world_shares(df, reference.parse_countries(ctx.target))
        traded = quarters_traded(df, pre_lo, pre_hi)
        for s in splits:
            fresh = new_codes(traded, s, last_q, p["min_new_share"])
            tab: list[Any] = []
            codes = share_tests(shares, pre_lo, pre_hi, s, last_q, z=p["share_z"],
                                min_spread=p["min_spread"], min_codes=p["min_products"],
                                table=tab)  # fmt: skip
            both = both_legs_tests(tab[0], p["both_z"], LEGS) if tab and legs_pair \
                else {}  # fmt: skip
            n_post = last_q - s + 1
            post = df[df.q >= s].groupby(keys).v.sum() / n_post
            t = pd.concat({"pre": pre, "post": post}, axis=1).fillna(0.0).reset_index()
            world = t.groupby(["leg", "hs2022"])[["pre", "post"]].sum()
            t = t.join(world.rename(columns={"pre": "wpre", "post": "wpost"}), on=["leg", "hs2022"])
            ok = (t.pre > 0) & (t.post > 0)
            t = t[ok].copy()
            t["g"] = np.log(t.post) - np.log(t.pre)
            t["gs"] = t.g - (np.log(t.wpost) - np.log(t.wpre))
            a = t.groupby(["hub", "leg", "grp"]).agg(m=("g", "mean"), v=("g", "var"),
                                                     n=("g", "size"), ms=("gs", "mean"),
                                                     vs=("gs", "var")).unstack("grp")  # fmt: skip
            if "chpl" not in a.columns.get_level_values(1) or \
                    "control" not in a.columns.get_level_values(1):  # fmt: skip
                a = a.iloc[0:0]
            # the tail test on share growth: product-wide shocks (common to every country)
            # are taken out, so the control quantile is a fair null for each CHPL product
            cut = t[t.grp == "control"].groupby(["hub", "leg"]).gs.quantile(p["tail_quantile"])
            tc = t[t.grp == "chpl"].join(cut.rename("cut"), on=["hub", "leg"])
            k = (tc.gs > tc.cut).groupby([tc.hub, tc.leg]).sum()
            # the lower tail: CHPL products that are merely noisier than the controls (lumpy,
            # small) fill both tails, a scheme only the upper one
            low = t[t.grp == "control"].groupby(["hub", "leg"]).gs.quantile(1 - p["tail_quantile"])
            tl = t[t.grp == "chpl"].join(low.rename("low"), on=["hub", "leg"])
            kd = (tl.gs < tl.low).groupby([tl.hub, tl.leg]).sum()
            seen: set[tuple[str, str]] = set()
            for (hub, leg), r in a.iterrows():
                nc, nk = r[("n", "chpl")], r[("n", "control")]
                if not (nc >= p["min_products"] and nk >= p["min_products"]):
                    continue
                if chpl_pre.get((hub, leg), 0.0) < p["min_pre_usd"]:
                    continue
                se = math.sqrt(r[("v", "chpl")] / nc + r[("v", "control")] / nk)
                did = r[("m", "chpl")] - r[("m", "control")]
                se_s = math.sqrt(r[("vs", "chpl")] / nc + r[("vs", "control")] / nk)
                dsh = r[("ms", "chpl")] - r[("ms", "control")]
                kk = int(k.get((hub, leg), 0))
                kdn = int(kd.get((hub, leg), 0))
                cs = codes.get((hub, leg))
                bl = both.get(hub)
                nw = fresh.get((hub, leg))
                tests = {"new": nw.p if nw else 1.0,
                         "did": norm_sf(did / se) if se > 0 else 1.0,
                         "tail": max(binom_sf(kk, int(nc), 1 - p["tail_quantile"]),
                                     binom_sf(kk, kk + kdn, 0.5)),
                         "share": norm_sf(dsh / se_s) if se_s > 0 else 1.0,
                         "codes": cs.p if cs else 1.0,
                         "both_legs": bl.p if bl else 1.0}  # fmt: skip
                tests = {n: v for n, v in tests.items() if n in TESTS}
                which = min(tests, key=lambda x: tests[x])
                p_split = min(1.0, tests[which] * n_tests)
                keep(best, (hub, leg), {"p": p_split, "s": s, "did": did, "se": se, "k": kk,
                                        "n": int(nc), "dshare": dsh, "which": which,
                                        "ctrl": r[("m", "control")], "codes": cs, "both": bl,
                                        "new": nw}, p["fdr"])  # fmt: skip
                seen.add((hub, leg))
            # legs with (almost) no CHPL baseline -- a small hub's onward trade created from
            # nothing -- have no growth to test: only the new-codes test speaks for them
            for key, nw in fresh.items():
                if key not in seen and "new" in TESTS:
                    keep(best, key, {"p": min(1.0, nw.p * n_tests), "s": s, "did": 0.0,
                                     "se": 0.0, "k": 0, "n": 0, "dshare": 0.0, "which": "new",
                                     "ctrl": 0.0, "codes": codes.get(key), "both": None,
                                     "new": nw}, p["fdr"])  # fmt: skip
        if "onward_pad_usd" in p:  # hubs, not surges: a country's exports to the target alone
            self._onward(ctx, best, splits, pre_lo, pre_hi)
        post_all = df[df.q >= splits[0]]
        out: list[Finding] = []
        for (hub, leg), st in best.items():
            rows = post_all[(post_all.hub == hub) & (post_all.leg == leg)
                            & (post_all.q >= st["s"]) & (post_all.grp == "chpl")]  # fmt: skip
            n_post = last_q - st["s"] + 1
            excess = rows.v.sum() / n_post * 4 - chpl_pre.get((hub, leg), 0.0) * math.exp(
                st["ctrl"]
            )
            st["excess"] = excess
            since = q_start(st["earliest"] if st.get("earliest") is not None else st["s"])
            f = self.finding(hub, leg, st, excess, since, known)
            f.key = (hub, leg)
            out.append(f)
        # the size filter applies after the FDR step: it depends on the outcome
        kept = apply_fdr(out, p["fdr"], n_tests=len(best))
        kept = [f for f in kept if f.size_usd >= p["min_excess_usd"]]
        for f in kept:  # since when: the break in the CHPL/control ratio, where there is one
            hub, leg = f.key
            st = best[(hub, leg)]
            cs = st.get("codes")
            q = None
            bl = st.get("both")
            which_codes = (
                cs.exceeding
                if st["which"] == "codes" and cs is not None
                else bl.codes
                if st["which"] == "both_legs" and bl is not None
                else st["new"].codes
                if st["which"] == "new" and st.get("new") is not None
                else ()
            )
            if st["which"] == "onward":  # the first split near the largest rise
                q = st["onward"].s
            elif st["which"] == "new" and which_codes:  # most new codes trading, running
                q = new_since(traded, hub, leg, which_codes, splits[0])
            elif which_codes:  # the exceeding codes' share
                q = share_since(shares, hub, leg, which_codes, pre_lo, pre_hi, splits[0],
                                p["share_z"])  # fmt: skip
            if q is not None:
                f.since = q_start(q)
            else:
                f.since = _change_quarter(df, hub, leg, pre_lo, pre_hi, splits[0]) or f.since
        return kept

    def panel(self, ctx: Context) -> Any:
        """pandas: hub, leg, hs2022, grp, q, v."""
        return leg_panel(ctx)

    def _onward(self, ctx: Context, best: dict[tuple[str, str], dict[str, Any]],
                splits: list[int], pre_lo: int, pre_hi: int) -> None:  # fmt: skip
        """The onward test: a country's CHPL-to-control ratio of its exports to the target
        alone (a reroute's second leg; the neighbours, summed in with the target on the
        `exports_to_target` leg, dilute it), its rise from a split to the data's end against
        the quarters before, and that rise against every country's largest (`legs`)."""
        import dataclasses

        p = self.params
        targets = set(reference.parse_countries(ctx.target))
        tot = pair_totals(ctx)
        # all CHPL goods, and each tier apart: a scheme in one tier (a list of chips) through a
        # large hub is a few percent of its CHPL exports but a clear rise of that tier's
        groups = [("CHPL", tot, float(p["onward_pad_usd"]))]
        groups += [(f"tier {t}", tot[(tot.grp == "control") | (tot.tier == t)],
                    float(p["onward_tier_pad_usd"])) for t in "1234"]  # fmt: skip
        w0 = int(p["onward_pre_quarters"])
        found: dict[str, Onward] = {}
        for name, d, pad in groups:
            L = make_legs(d, targets, (pre_lo, pre_hi), pad, float(p["onward_min_spread"]))
            if L is None:
                continue
            ok = [s for s in splits if L.q0 + w0 <= s <= L.last - 1]
            for hub, on in onward_scan(L, ok, w0, int(p["onward_post_quarters"])).items():
                on = dataclasses.replace(on, p=min(1.0, on.p * len(groups)), group=name)
                if hub not in found or on.p < found[hub].p:
                    found[hub] = on
        for hub, on in found.items():
            key = (hub, "exports_to_target")
            pv = min(1.0, on.p * (len(TESTS) + 1))  # Bonferroni with the leg's other tests
            cur = best.get(key)
            if cur is not None:
                cur["onward"] = on
                if pv < cur["p"]:
                    cur.update(p=pv, which="onward")
            elif pv < 1.0:
                best[key] = {"p": pv, "s": on.s, "did": 0.0, "se": 0.0, "k": 0, "n": 0,
                             "dshare": 0.0, "which": "onward", "ctrl": 0.0, "codes": None,
                             "both": None, "new": None, "onward": on, "earliest": on.s}  # fmt: skip

    def _onward_evidence(self, leg: str, st: dict[str, Any]) -> list[tuple[str, str | None]]:
        if leg != "exports_to_target" or "onward_pad_usd" not in self.params:
            return []
        on = st.get("onward")
        return [("onward", onward_text(on) if on else None)]

    def finding(self, hub: str, leg: str, st: dict[str, Any], excess: float, since: date,
                known: frozenset[str] | set[str]) -> Finding:  # fmt: skip
        p = self.params
        label = "known hub" if hub in known else "not in any hub group"
        ran, idle = evidence(
            growth_text(st, p["tail_quantile"], "share-based difference"),
            ("codes", st.get("codes") and codes_text(st["codes"], "of the leg")),
            ("both legs", st.get("both") and both_text(st["both"], p["both_z"])),
            *self._onward_evidence(leg, st),
            new=st.get("new"),
        )
        ev = (
            f"{LEG_TEXT[leg]}: {ran}; strongest test: {st['which']}, from "
            f"{q_start(st['s']):%Y-%m}; excess {money(excess)}/yr; {label}{idle}"
        )
        return Finding(
            kind=self.kind, where=f"{hub} ({leg})", since=since, size_usd=excess,
            evidence=ev, detector=self.name, p_value=st["p"], country=hub,
            link=f"/hub?hub={hub}",
        )  # fmt: skip


def _change_quarter(
    df: Any, hub: str, leg: str, pre_lo: int, pre_hi: int, first: int
) -> date | None:
    """Since when: the first quarter from `first` on where the leg's CHPL-to-control ratio
    is above every baseline quarter's ratio and stays above in the next quarter."""
    import numpy as np

    d = df[(df.hub == hub) & (df.leg == leg)]
    q = d.pivot_table(index="q", columns="grp", values="v", aggfunc="sum", fill_value=0.0)
    if "chpl" not in q or "control" not in q:
        return None
    ratio = (q["chpl"] + 1.0) / (q["control"] + 1.0)
    base = ratio[(ratio.index >= pre_lo) & (ratio.index <= pre_hi)]
    if base.empty:
        return None
    top = float(np.max(base.to_numpy()))
    # every quarter from `first` on, one without trade as NaN (never above): "stays above
    # in the next quarter" means the next quarter, not the next one that traded
    last = max(int(ratio.index.max()), first - 1)
    post = ratio.reindex(range(first, last + 1))
    above = (post > top).to_numpy()
    for k in range(len(above) - 1):
        if above[k] and above[k + 1]:
            return q_start(int(post.index[k]))
    return None


def _q(d: date) -> int:
    return d.year * 4 + (d.month - 1) // 3


def keep(best: dict[tuple[str, str], dict[str, Any]], key: tuple[str, str],
         stats: dict[str, Any], fdr: float) -> None:  # fmt: skip
    """Keep a split's stats where they beat the leg's best so far; remember the earliest
    split whose adjusted p-value is at or below `fdr`."""
    cur = best.get(key)
    if cur is None or stats["p"] < cur["p"]:
        stats["earliest"] = cur["earliest"] if cur else None
        best[key] = stats
        cur = stats
    if cur.get("earliest") is None and stats["p"] <= fdr:
        cur["earliest"] = stats["s"]
