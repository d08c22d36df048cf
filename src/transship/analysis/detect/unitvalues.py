"""`unit_values`: goods declared under a neighbouring code keep their weight, so the
neighbour's USD/kg moves toward the CHPL code's.

Per declaring side (the exporter's exports, the importer's imports), pair, and non-CHPL code
n of a heading whose CHPL code c the pair also trades (c's reference: its HS2022-era unit
value for the pair; older revisions' codes held other goods), two tests:
- a neighbour with its own baseline (`min_base_months`): a level step in its monthly log unit
  value beyond a linear trend (the trend absorbs price drift), scanned over quarterly splits,
  toward c's and closing at most `max_frac` of the gap; its z is calibrated on all candidates
  (divided by the root of their median z^2 over a normal's, never below 1);
- a neighbour new to the pair: it trades in the months c trades (exact hypergeometric test on
  months) at a unit value nearer c's than the code's across all pairs (a normal test on its
  mean against the spread of the pairs' means), the two combined by Fisher's method.
The p-value is the stronger test's, times two and times the CHPL codes compared;
Benjamini-Hochberg runs over every neighbour series tested. The evidence gives both unit
values, the share of the gap closed and the USD a year that weighs like c's goods.

The warehouse does the heavy part in one query (`_series`): monthly sums per code, then per
series (side, pair, code) and split bucket the sums the tests need (months, time, log unit
value, their squares and products, value, and a bit mask of the bucket's months), then one
row per series with its buckets as a list, the code's spread across pairs and whether the pair
trades both a CHPL code and a neighbour of the heading; only those series come back.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Any, ClassVar

from transship.analysis.detect.base import (
    Context,
    Detector,
    Finding,
    Parameter,
    apply_fdr,
    fisher,
    hypergeom_sf,
    money,
    norm_sf,
    register,
)
from transship.analysis.detect.panel import monthly_rows
from transship.periods import add_months, months_between

KEYS = ["flow", "reporter", "partner", "hs2022"]
SUMS = ("n", "st", "stt", "sy", "sty", "syy", "sv")


@register
class UnitValueDetector(Detector):
    name: ClassVar[str] = "unit_values"
    kind: ClassVar[str] = "unit_value"
    description: ClassVar[str] = (
        "A non-CHPL code's unit value (USD/kg) for one pair stepped toward that of a CHPL "
        "code of the same heading the pair trades: CHPL goods declared under the neighbour "
        "keep their weight."
    )
    # off in `detect` (run it by name, `detect:unit_values` in the benchmark): it finds 5 of
    # 38 misdeclared pairs on the tuning sets at precision 1.0, none of 11 on the hold-out
    # sets, where one false row (ITA->CHN 8532, seed 13) reached three triage tables
    default: ClassVar[bool] = False
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        Parameter("fdr", 0.05, "false-discovery rate across all code pairs and sides (BH)"),
        Parameter("min_month_usd", 10_000.0, "a month's unit value counts only with this much "
                  "trade in the code (small lots have rounded weights)"),
        Parameter("min_usd", 50_000.0, "neighbour codes with less trade a year after "
                  "post_start are left out"),
        Parameter("min_gap", 0.2, "the CHPL code's log unit value must differ from the "
                  "neighbour's baseline by at least this much (else the goods look alike)"),
        Parameter("min_base_months", 12, "months with a unit value before a split"),
        Parameter("min_post_months", 4, "months with a unit value from a split on"),
        Parameter("min_ref_months", 3, "HS2022-era months of the CHPL code (its reference)"),
        Parameter("min_spread", 0.05, "floor of the residual monthly spread of a log unit value"),
        Parameter("max_frac", 1.5, "a step may close at most this share of the gap (beyond: "
                  "the neighbour moved past the CHPL goods, not toward them)"),
        Parameter("step_months", 3, "months between the scan's split points"),
        Parameter("min_months", 2, "months with a unit value after post_start a neighbour needs"),
        Parameter("min_moved_usd", 100_000.0, "leave out findings moving less a year"),
    )  # fmt: skip

    def run(self, ctx: Context) -> list[Finding]:
        from transship.analysis.detect.codeshift import _one_per_heading

        p = self.params
        tests = self.candidates(ctx)
        if tests is None:
            return []
        recs, explain, n_tests = tests
        out = [explain(r) for r in recs[recs.pv <= p["fdr"]].to_dict("records")]
        best: dict[tuple[str, ...], Finding] = {}
        for f in out:  # one per neighbour code and side: its strongest CHPL code
            kk = (f.where, *f.key)
            if kk not in best or f.p_value < best[kk].p_value:
                best[kk] = f
        kept = apply_fdr(list(best.values()), p["fdr"], n_tests=n_tests)
        kept = [f for f in kept if f.size_usd >= p["min_moved_usd"]]
        by: dict[str, Finding] = {}
        for f in sorted(kept, key=lambda f: f.p_value):
            by.setdefault(f"{f.where}|{f.key[0]}", f)
        return _one_per_heading(list(by.values()))

    def candidates(
        self, ctx: Context
    ) -> tuple[Any, Callable[[dict[str, Any]], Finding], int] | None:
        """Every neighbour/CHPL code pair's tests before FDR (a DataFrame: p_step, p_month,
        pv ...), a function explaining one of its records as a finding, and the number of
        neighbour series tested; None when the data leave no split. Memoised per parameters."""
        result: tuple[Any, Callable[[dict[str, Any]], Finding], int] | None = self.memo(
            ctx, "candidates", lambda: self._candidates(ctx)
        )
        return result

    def _candidates(
        self, ctx: Context
    ) -> tuple[Any, Callable[[dict[str, Any]], Finding], int] | None:
        import numpy as np
        import pandas as pd

        p = self.params
        b0 = date(ctx.baseline[0].year, ctx.baseline[0].month, 1)
        first = date(ctx.post_start.year, ctx.post_start.month, 1)
        step = int(p["step_months"])
        if months_between(b0, first) < int(p["min_base_months"]):
            return None
        tbl = _series(ctx, b0, first, step, p, monthly=False).to_pyarrow()
        if tbl.num_rows == 0 or tbl.column("dups")[0].as_py():  # a month in several rows
            tbl = _series(ctx, b0, first, step, p, monthly=True).to_pyarrow()
        if tbl.num_rows == 0:
            return None
        last = tbl.column("last")[0].as_py()
        last = date(last.year, last.month, 1)
        n_split = (months_between(first, last) - int(p["min_post_months"]) + 1) // step + 1
        if n_split < 1:
            return None
        years = max(1.0, (months_between(first, last) + 1) / 12.0)
        s = tbl.drop_columns(["bk", "last", "dups"]).to_pandas()
        s["row"] = np.arange(len(s))
        cref = s[s.grp == "chpl"][["flow", "reporter", "partner", "heading", "hs2022", "nc",
                                   "lc", "m1", "row"]]  # fmt: skip
        cref = cref.rename(columns={"hs2022": "chs", "m1": "ac", "row": "crow"})
        ns = s[(s.grp == "control") & (s.v1 >= p["min_usd"] * years) & (s.m1 >= p["min_months"])]
        cp = ns.drop(columns=["grp", "nc", "lc"]).merge(
            cref, on=["flow", "reporter", "partner", "heading"]
        )
        if cp.empty:
            return None
        own = (cp.nn >= p["min_base_months"]).to_numpy()
        cp["mu"] = np.where(own, cp.lu0, cp.luc)
        cp["sd"] = np.maximum(np.where(own, cp.sd0, cp.sdc), p["min_spread"])
        cp["own"] = own
        cp = cp[np.isfinite(cp.mu) & np.isfinite(cp.sd) & ((cp.lc - cp.mu).abs() >= p["min_gap"])]
        if cp.empty:
            return None
        cp = cp.sort_values([*KEYS, "chs"]).reset_index(drop=True)
        bk = _buckets(tbl.column("bk"))
        # months a neighbour new to the pair traded together with the CHPL code (after start)
        fresh = (cp.nn < p["min_base_months"]).to_numpy()
        co, fco = _co_months(bk, cp.row.to_numpy()[fresh], cp.crow.to_numpy()[fresh], step, first)
        cp["co"], cp["fco"] = np.nan, None
        cp.loc[fresh, "co"] = co
        cp.loc[fresh, "fco"] = pd.Series(fco, index=cp.index[fresh], dtype=object)
        splits = [add_months(first, k * step) for k in range(n_split)]
        rows, u = np.unique(cp.row.to_numpy(), return_inverse=True)
        cp["u"] = u
        z, d, v_post, n_post = _step_scan(_cube(bk, rows, n_split), p)
        # calibration on the data (most series are not misdeclared): the step z over its
        # median square (a normal's is 0.455), the months' hit rate over the normal's
        tested = z[z != 0]
        lam = max(1.0, float(np.median(tested**2)) / 0.4549) if len(tested) else 1.0
        z = z / math.sqrt(lam)
        k_c = cp.groupby(KEYS)["chs"].transform("count").to_numpy()
        # the step test, for neighbours with their own baseline (vectorised over candidates)
        gap0 = (cp.lc - cp.lu0).to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = d[u] / gap0[:, None]
        zt = np.where((frac > 0) & (frac <= p["max_frac"]) & cp.own.to_numpy()[:, None],
                      z[u] * np.sign(gap0)[:, None], -np.inf)  # fmt: skip
        k_step = np.argmax(zt, axis=1)
        z_best = zt[np.arange(len(cp)), k_step]
        p_step = np.where(z_best > 0, 0.5 * np.vectorize(math.erfc)(
            np.maximum(z_best, 0) / math.sqrt(2)) * n_split, 1.0)  # fmt: skip
        # the months test, for neighbours the pair traded too little before for a baseline:
        # they trade in the months the CHPL code trades (an exact test on months), at a unit
        # value nearer the CHPL code's than the code's across pairs (one normal test), the
        # two combined by Fisher's method
        new = ~cp.own.to_numpy()
        post_months = months_between(first, last) + 1
        gap = (cp.lc - cp.mu).to_numpy()
        closed = (cp.lm1.to_numpy() - cp.mu.to_numpy()) / gap
        z_pair = closed * np.abs(gap) / cp.sd.to_numpy()
        n_co = cp.co.fillna(0).to_numpy()
        eligible = new & (n_co >= 2) & (closed >= 0.5) & (closed <= p["max_frac"])
        p_month = np.ones(len(cp))
        ac, m1 = cp.ac.to_numpy(), cp.m1.to_numpy()
        for i in np.flatnonzero(eligible):
            p_co = hypergeom_sf(int(n_co[i]), post_months, int(ac[i]), int(m1[i]))
            p_month[i] = fisher([p_co, norm_sf(float(z_pair[i]))])
        pv = np.minimum(np.minimum(p_step, p_month) * 2 * k_c, 1.0)  # two tests, each CHPL code
        recs = cp.assign(p_step=p_step, k_step=k_step, p_month=p_month, pv=pv, closed=closed,
                         z_pair=z_pair)  # fmt: skip
        ctx.notes.append(
            f"unit_values: {len(cp)} neighbour/CHPL code pairs, {int(new.sum())} of them without "
            f"the neighbour's own baseline; step z divided by {math.sqrt(lam):.2f} "
            "(calibrated on all of them)"
        )

        def explain(r: dict[str, Any]) -> Finding:
            return self._finding(r, d, v_post, n_post, post_months, splits, years)

        return recs, explain, len(rows)

    def _finding(self, r: dict[str, Any], d: Any, v_post: Any, n_post: Any, post_months: int,
                 splits: list[date], years: float) -> Finding:  # fmt: skip
        """The finding of one neighbour code n against one CHPL code c (pair and side), from
        the stronger of its two tests, explained."""
        mu, lc = float(r["mu"]), float(r["lc"])
        u, k = int(r["u"]), int(r["k_step"])
        side = r["flow"]
        exporter, importer = ((r["reporter"], r["partner"]) if side == "export"
                              else (r["partner"], r["reporter"]))  # fmt: skip
        head = (f"{r['reporter']}'s {side}s: {r['hs2022']} against {r['chs']} (CHPL, "
                f"${math.exp(lc):,.0f}/kg for this pair since {splits[0]:%Y})")  # fmt: skip
        w0, wc = math.exp(-mu), math.exp(-lc)
        if r["p_step"] <= r["p_month"]:
            since = splits[k]
            w1 = math.exp(-(mu + d[u][k]))
            m = min(max((w1 - w0) / (wc - w0), 0.0), 1.0) if wc != w0 else 0.0
            moved = 12.0 * m * v_post[u][k] / max(n_post[u][k], 1)
            ev = (f"{head}: from ${math.exp(mu):,.0f}/kg before {since:%Y-%m} it stepped "
                  f"{math.exp(d[u][k]):.2f}x beyond its trend toward {r['chs']}'s (p "
                  f"{r['p_step']:.1e}, best of {len(splits)} splits); about {m:.0%} of its value "
                  f"since weighs like {r['chs']}'s goods")  # fmt: skip
        else:
            since = r["fco"].date() if hasattr(r["fco"], "date") else r["fco"]
            w1 = math.exp(-float(r["lm1"]))
            m = min(max((w1 - w0) / (wc - w0), 0.0), 1.0) if wc != w0 else 0.0
            moved = m * float(r["v1"]) / years
            ev = (f"{head}: the pair traded {r['hs2022']} in {int(r['nn'])} baseline months; "
                  f"since {splits[0]:%Y-%m} in {int(r['m1'])}, {int(r['co'])} of them months "
                  f"{r['chs']} traded too ({int(r['ac'])} of {post_months}), at "
                  f"${math.exp(float(r['lm1'])):,.0f}/kg, {r['closed']:.0%} of the way from the "
                  f"code's ${math.exp(mu):,.0f}/kg across pairs (z {r['z_pair']:.1f}) to "
                  f"{r['chs']}'s (p {r['p_month']:.1e})")  # fmt: skip
        ev += f"; about {money(moved)}/yr declared under the neighbour"
        return Finding(
            kind=self.kind, where=f"{exporter}->{importer} {r['heading']}", since=since,
            size_usd=moved, evidence=ev, detector=self.name, p_value=float(r["pv"]),
            exporter=exporter, importer=importer, hs=r["heading"], key=(side, r["hs2022"]),
            link=f"/product?hub={exporter}&target={importer}&products={r['heading']}",
        )  # fmt: skip


def _series(ctx: Context, b0: date, first: date, step: int, p: dict[str, Any],
            monthly: bool) -> Any:  # fmt: skip
    """Ibis, one query: per series (flow, reporter, partner, hs2022) of CHPL and control
    codes, from the rows with a net weight (older revisions' codes mapped to HS2022; a month
    counts with at least `min_month_usd`): the sums of its months before `first` (nn, lu0,
    sd0), from it (m1, lm1, v1) and of its HS2022 era (nc, lc); the code's mean and spread of
    the pairs' baseline unit values (luc, sdc); the last month of any series (last); and
    `bk`, its buckets of `step` months (b, 0 from `first`; SUMS and a bit mask of the months
    counted). Only CHPL codes with `min_ref_months` and neighbours with `min_months` and
    `min_usd` come back, where the pair (and side) trades the other kind in the same heading.

    `monthly`: sum the rows of a series and month first (several sources, or older codes
    mapped to one). Without, each row is taken as a month; `dups` counts the months that had
    more than one row (then the caller asks again with `monthly`)."""
    import ibis

    t = monthly_rows(ctx)
    t = t.filter(t.net_kg > 0)
    if monthly:
        t = t.group_by(*KEYS, "period").agg(grp=t.grp.arbitrary(), value_usd=t.value_usd.sum(),
                                             net_kg=t.net_kg.sum())  # fmt: skip
    months = t.period.year() * 12 + t.period.month()
    idx = months - (first.year * 12 + first.month)
    back = -1 - idx  # months before `first`: in buckets of 62 (a mask's bits), mostly one
    b = ibis.ifelse(idx < 0, -1 - back // 62, idx // step).cast("int64")
    bit = ibis.ifelse(idx < 0, back - 62 * (-1 - b), idx - b * step)
    ok = (t.value_usd >= p["min_month_usd"]) & (t.net_kg > 0)
    lu, tm = (t.value_usd / t.net_kg).ln(), (months - (b0.year * 12 + b0.month)) / 12.0
    t = t.mutate(b=b, era=t.period >= date(first.year, 1, 1), bit=ibis.literal(1, "int64") << bit,
                 n=ok.cast("int64"), st=ok.ifelse(tm, 0.0), y=ok.ifelse(lu, 0.0),
                 sv=ok.ifelse(t.value_usd, 0.0))  # fmt: skip
    k = t.group_by(*KEYS, "b", "era").agg(
        grp=t.grp.arbitrary(), n=t.n.sum(), st=t.st.sum(), stt=(t.st * t.st).sum(),
        sy=t.y.sum(), sty=(t.st * t.y).sum(), syy=(t.y * t.y).sum(), sv=t.sv.sum(),
        mask=(t.bit * t.n).bit_or(), dups=t.bit.sum() - t.bit.bit_or(), mp=t.period.max(),
    )  # fmt: skip
    pre, post = k.b < 0, k.b >= 0
    s = k.group_by(*KEYS).agg(
        grp=k.grp.arbitrary(), nn=k.n.sum(where=pre), sy0=k.sy.sum(where=pre),
        syy0=k.syy.sum(where=pre), m1=k.n.sum(where=post), sy1=k.sy.sum(where=post),
        v1=k.sv.sum(where=post).fill_null(0), nc=k.n.sum(where=k.era), syr=k.sy.sum(where=k.era),
        mp=k.mp.max(), dups=k.dups.sum(),
        bk=ibis.struct({c: k[c] for c in ("b", *SUMS, "mask")}).collect(where=k.n > 0),
    )  # fmt: skip
    s = s.mutate(nn=s.nn.fill_null(0), m1=s.m1.fill_null(0), nc=s.nc.fill_null(0))
    var = (s.syy0 - s.sy0 * s.sy0 / s.nn) / (s.nn - 1).nullif(0)
    s = s.mutate(
        heading=s.hs2022.substr(0, 4),
        lu0=s.sy0 / s.nn.nullif(0),
        sd0=ibis.ifelse(var < 0, 0.0, var).sqrt(),
        lm1=s.sy1 / s.m1.nullif(0),
        lc=s.syr / s.nc.nullif(0),
        isc=(s.grp == "chpl") & (s.nc >= p["min_ref_months"]),
        # a neighbour's value a year is checked exactly once the months are known
        isn=(s.grp == "control") & (s.v1 >= p["min_usd"]) & (s.m1 >= p["min_months"]),
    )
    ctl = s.filter(s.grp == "control")
    code = ctl.group_by("flow", "hs2022").agg(luc=ctl.lu0.mean(), sdc=ctl.lu0.std())
    pair = s.group_by("flow", "reporter", "partner", "heading").agg(hc=s.isc.max(),
                                                                   hn=s.isn.max())  # fmt: skip
    pair = pair.filter(pair.hc, pair.hn)
    x = s.join(pair, ["flow", "reporter", "partner", "heading"]).filter(s.isc | s.isn)
    x = x.left_join(code, ["flow", "hs2022"]).select(x, code.luc, code.sdc)
    return x.select(*KEYS, "grp", "heading", "nn", "lu0", "sd0", "m1", "lm1", "v1", "nc", "lc",
                    "luc", "sdc", "bk", last=s.mp.max(), dups=s.dups.sum())  # fmt: skip


def _buckets(col: Any) -> dict[str, Any]:
    """numpy arrays of the series' buckets (a pyarrow list column, chunk by chunk): `row`
    (the series' row) and the fields of `_series`' bk."""
    import numpy as np

    parts: dict[str, list[Any]] = {"row": []}
    start = 0
    for arr in col.chunks:
        lens = arr.value_lengths().fill_null(0).to_numpy(zero_copy_only=False)
        parts["row"].append(np.repeat(np.arange(start, start + len(arr)), lens))
        start += len(arr)
        flat = arr.flatten()
        for f, a in zip([x.name for x in flat.type], flat.flatten(), strict=True):
            parts.setdefault(f, []).append(a.to_numpy(zero_copy_only=False))
    return {f: v[0] if len(v) == 1 else np.concatenate(v) for f, v in parts.items()}


def _co_months(bk: dict[str, Any], nrow: Any, crow: Any, step: int,
               first: date) -> tuple[Any, list[date | None]]:  # fmt: skip
    """Per (neighbour row, CHPL row): the months from `first` on both traded, and the first."""
    import numpy as np

    post = bk["b"] >= 0
    width = int(bk["b"][post].max()) + 1 if post.any() else 1
    masks = np.zeros((int(bk["row"].max()) + 1, width), dtype=np.int64)
    masks[bk["row"][post], bk["b"][post]] = bk["mask"][post]
    both = masks[nrow] & masks[crow]
    co = np.bitwise_count(both).sum(axis=1)
    fb = np.argmax(both != 0, axis=1)
    x = both[np.arange(len(both)), fb]
    bit = np.log2(np.maximum(x & -x, 1)).astype(np.int64)  # the lowest month of the bucket
    off = fb * step + bit
    fco = [add_months(first, int(off[i])) if co[i] else None for i in range(len(co))]
    return co, fco


def _cube(bk: dict[str, Any], rows: Any, n_split: int) -> dict[str, Any]:
    """Per series of `rows` (sorted) and column (0: before the first split, then split
    buckets, the last taking the months after it): the sums of its buckets."""
    import numpy as np

    pos = np.searchsorted(rows, bk["row"])
    hit = rows[np.minimum(pos, len(rows) - 1)] == bk["row"]
    col = np.clip(bk["b"][hit], -1, n_split - 1) + 1
    flat = pos[hit] * (n_split + 1) + col
    size = len(rows) * (n_split + 1)
    return {f: np.bincount(flat, weights=bk[f][hit].astype(float), minlength=size)
            .reshape(len(rows), n_split + 1) for f in SUMS}  # fmt: skip


def _step_scan(cube: dict[str, Any], p: dict[str, Any]) -> tuple[Any, ...]:
    """Per series (rows of `cube`: per column, sums of 1, t, t^2, y, ty, y^2 and value) and
    split k: the level step d of y = a + b t + d [column > k] (least squares; the trend absorbs
    a unit value's drift) and its z; the value and months from the split on. The normal
    equations are solved in closed form (the step's part after partialling out a + b t)."""
    import numpy as np

    tot = {k: v.sum(axis=1)[:, None] for k, v in cube.items()}
    post = {k: np.ascontiguousarray(cube[k][:, ::-1]).cumsum(axis=1)[:, ::-1][:, 1:]
            for k in ("n", "st", "sy", "sv")}  # fmt: skip
    n, st, stt, sy, sty, syy = (tot[k] for k in ("n", "st", "stt", "sy", "sty", "syy"))
    n1, st1, sy1 = post["n"], post["st"], post["sy"]
    det0 = n * stt - st * st  # of the trend's normal equations
    det = det0 * n1 - (n1 * n1 * stt - 2 * n1 * st1 * st + st1 * st1 * n)  # with the step
    ok = (n1 >= p["min_post_months"]) & (n - n1 >= p["min_base_months"]) & (np.abs(det) >= 1e-9)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (det0 * sy1 - n1 * (stt * sy - st * sty) - st1 * (n * sty - st * sy)) / det
        rss = syy - (stt * sy * sy - 2 * st * sy * sty + n * sty * sty) / det0 - d * d * det / det0
        s2 = np.maximum(rss / np.maximum(n - 3, 1), p["min_spread"] ** 2)
        se = np.sqrt(s2 * np.maximum(det0 / det, 1e-12))
        z = np.where(ok, d / se, 0.0)
    return z, np.where(ok, d, 0.0), post["sv"], n1
