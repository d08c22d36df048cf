"""Misdeclaration detectors: goods declared under a neighbouring code of the same heading.

- `code_mismatch` (two sides): for an exporter->importer pair, a heading (HS4) and a month,
  the importer records more of the CHPL codes than the exporter declared while the exporter
  declared more of the heading's non-CHPL codes than the importer recorded (or the reverse:
  the importer declares the neighbour). The mismatched value is the smaller of the two
  shortfalls; its share of the heading's trade is compared with the pooled distribution over
  every pair, heading and month (`null_quantile`), and a unit's p-value is the binomial chance
  of at least its number of exceeding months.
- `code_shift` (one side, also both sides alike): its own module, `codeshift`.
- `unit_values`: goods declared under a neighbouring code keep their weight, so the
  neighbour's USD/kg moves toward the CHPL code's. Per declaring side (the exporter's
  exports, the importer's imports), pair, and non-CHPL code n of a heading whose CHPL code c
  the pair also trades (c's reference: its HS2022-era unit value for the pair; older
  revisions' codes held other goods), two tests:
  - a neighbour with its own baseline (`min_base_months`): a level step in its monthly log
    unit value beyond a linear trend (the trend absorbs price drift), scanned over quarterly
    splits, toward c's and closing at most `max_frac` of the gap; its z is calibrated on all
    candidates (divided by the root of their median z^2 over a normal's, never below 1);
  - a neighbour new to the pair: it trades in the months c trades (exact hypergeometric test
    on months) at a unit value nearer c's than the code's across all pairs (a normal test on
    its mean against the spread of the pairs' means), the two combined by Fisher's method.
  The p-value is the stronger test's, times two and times the CHPL codes compared;
  Benjamini-Hochberg runs over every neighbour series tested. The evidence gives both unit
  values, the share of the gap closed and the USD a year that weighs like c's goods.
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
    binom_sf,
    fisher,
    hypergeom_sf,
    money,
    norm_sf,
    register,
)
from transship.analysis.detect.panel import code_table, heading_table
from transship.periods import add_months, months_between


@register
class CodeMismatchDetector(Detector):
    name: ClassVar[str] = "code_mismatch"
    kind: ClassVar[str] = "code_mismatch"
    description: ClassVar[str] = (
        "Exporter and importer declare the same heading's trade under different codes "
        "(CHPL on one side, a non-CHPL neighbour on the other)."
    )
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        Parameter("fdr", 0.05, "false-discovery rate across all pairs, headings, directions"),
        Parameter("cif_factor", 1.06, "imports are CIF: M_fob = M / cif_factor"),
        Parameter("null_quantile", 0.995, "pooled quantile of the mismatched share to exceed"),
        Parameter("min_usd", 50_000.0, "a month counts only with this much heading trade"),
    )  # fmt: skip

    def run(self, ctx: Context) -> list[Finding]:
        out, n_units = self.candidates(ctx)
        return apply_fdr(out, self.params["fdr"], n_tests=n_units)

    def candidates(self, ctx: Context) -> tuple[list[Finding], int]:
        """Every (pair, heading, direction) exceeding at least twice, with its p-value, before
        FDR; and the number of such units tested. Memoised per parameters."""
        result: tuple[list[Finding], int] = self.memo(ctx, "candidates",
                                                      lambda: self._candidates(ctx))  # fmt: skip
        return result

    def _candidates(self, ctx: Context) -> tuple[list[Finding], int]:
        import ibis

        p = self.params
        f = p["cif_factor"]
        h = heading_table(ctx)
        h = h.filter(h.period >= ctx.post_start)
        z = {k: h[k].fill_null(0.0) for k in ("xc", "mc", "xn", "mn")}
        zero = ibis.literal(0.0)
        a = ibis.least(ibis.greatest(z["mc"] / f - z["xc"], zero),
                       ibis.greatest(z["xn"] - z["mn"] / f, zero))  # fmt: skip
        b = ibis.least(ibis.greatest(z["xc"] - z["mc"] / f, zero),
                       ibis.greatest(z["mn"] / f - z["xn"], zero))  # fmt: skip
        tot = z["xc"] + z["xn"] + (z["mc"] + z["mn"]) / f
        h = h.mutate(a=a, b=b, tot=tot,
                     both=((z["xc"] + z["xn"]) > 0) & ((z["mc"] + z["mn"]) > 0))  # fmt: skip
        h = h.filter(h.both, h.tot >= p["min_usd"])
        h = h.mutate(sa=h.a / h.tot, sb=h.b / h.tot)
        q_row = h.agg(q=h.sa.quantile(p["null_quantile"])).to_pyarrow()
        cut = q_row.column(0)[0].as_py()
        cut = max(float(cut or 0.0), 0.02)
        units = h.group_by("exporter", "importer", "heading").agg(
            n=h.count(), ka=(h.sa > cut).sum(), kb=(h.sb > cut).sum(),
            fa=h.period.min(where=h.sa > cut), fb=h.period.min(where=h.sb > cut),
            va=h.a.sum(where=h.sa > cut), vb=h.b.sum(where=h.sb > cut),
            ma=h.sa.mean(where=h.sa > cut), mb=h.sb.mean(where=h.sb > cut),
        )  # fmt: skip
        rows = units.filter((units.ka >= 2) | (units.kb >= 2)).to_pyarrow().to_pylist()
        n_units = int(units.count().to_pyarrow().as_py()) * 2
        out: list[Finding] = []
        for r in rows:
            for k, first, v, share, who in (
                (r["ka"], r["fa"], r["va"], r["ma"], "the exporter declares the non-CHPL "
                 "neighbour, the importer records CHPL"),
                (r["kb"], r["fb"], r["vb"], r["mb"], "the exporter declares CHPL, the "
                 "importer records the non-CHPL neighbour"),
            ):  # fmt: skip
                if k < 2:
                    continue
                years = max(1.0, r["n"] / 12)
                ev = (f"heading {r['heading']}: {who} in {k} of {r['n']} months (mismatched "
                      f"share {share:.0%} of the heading's trade, pooled {p['null_quantile']:.1%}"
                      f" quantile {cut:.0%}); {money(v)} mismatched")  # fmt: skip
                out.append(Finding(
                    kind=self.kind, where=f"{r['exporter']}->{r['importer']} {r['heading']}",
                    since=first, size_usd=float(v) / years, evidence=ev, detector=self.name,
                    p_value=binom_sf(int(k), int(r["n"]), 1 - p["null_quantile"]),
                    exporter=r["exporter"], importer=r["importer"], hs=r["heading"],
                    link=f"/mirror?hub={r['exporter']}&target={r['importer']}"
                         f"&products={r['heading']}",
                ))  # fmt: skip
        return out, n_units


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
        import ibis
        import numpy as np

        p = self.params
        t = code_table(ctx)
        last = t.agg(m=t.period.max()).to_pyarrow().column(0)[0].as_py()
        if last is None:
            return None
        last = date(last.year, last.month, 1)
        b0 = date(ctx.baseline[0].year, ctx.baseline[0].month, 1)
        first = date(ctx.post_start.year, ctx.post_start.month, 1)
        step = int(p["step_months"])
        n_split = (months_between(first, last) - int(p["min_post_months"]) + 1) // step + 1
        if n_split < 1 or months_between(b0, first) < int(p["min_base_months"]):
            return None
        keys = ["flow", "reporter", "partner", "hs2022"]
        idx = t.period.year() * 12 + t.period.month() - (first.year * 12 + first.month)
        g = t.filter(t.v >= p["min_month_usd"], t.kg > 0)
        g = g.mutate(
            lu=(g.v / g.kg).ln(), heading=g.hs2022.substr(0, 4),
            tm=(g.period.year() * 12 + g.period.month() - (b0.year * 12 + b0.month))
            .cast("float64") / 12.0,
            b=ibis.ifelse(idx < 0, -1, ibis.least((idx // step).cast("int64"), n_split - 1)),
        )  # fmt: skip
        # the CHPL codes' reference: their HS2022-era unit value (older codes held other goods)
        c = g.filter(g.grp == "chpl", g.period >= date(first.year, 1, 1))
        cref = c.group_by([*keys, "heading"]).agg(nc=c.count(), lc=c.lu.mean(),
                                                  ac=c.count(where=c.b >= 0))  # fmt: skip
        cref = cref.filter(cref.nc >= p["min_ref_months"]).rename(chs="hs2022")
        n = g.filter(g.grp == "control")
        years = max(1.0, (months_between(first, last) + 1) / 12.0)
        ns = n.group_by([*keys, "heading"]).agg(
            lu0=n.lu.mean(where=n.b < 0), sd0=n.lu.std(where=n.b < 0),
            nn=n.count(where=n.b < 0), v1=n.v.sum(where=n.b >= 0), m1=n.count(where=n.b >= 0),
            lm1=n.lu.mean(where=n.b >= 0),
        )  # fmt: skip
        ns = ns.filter(ns.v1 >= p["min_usd"] * years, ns.m1 >= p["min_months"])
        # a neighbour the pair traded little before is compared with the code's unit value
        # across every pair (its spread includes the pairs' grades)
        pre = n.filter(n.b < 0)
        pm = pre.group_by("flow", "reporter", "partner", "hs2022").agg(lp=pre.lu.mean())
        code = pm.group_by("flow", "hs2022").agg(luc=pm.lp.mean(), sdc=pm.lp.std())
        ns = ns.left_join(code, ["flow", "hs2022"]).select(ns, code.luc, code.sdc)
        cand = ns.join(cref, ["flow", "reporter", "partner", "heading"])
        # months a neighbour new to the pair traded together with the CHPL code (after start)
        fresh = n.filter(n.b >= 0).join(ns.filter(ns.nn < p["min_base_months"]).select(*keys), keys)
        cc = c.filter(c.b >= 0).select("flow", "reporter", "partner", "heading", "period",
                                       chs="hs2022")  # fmt: skip
        both = fresh.join(cc, ["flow", "reporter", "partner", "heading", "period"])
        co = both.group_by([*keys, "chs"]).agg(co=both.count(), fco=both.period.min())
        cand = cand.left_join(co, [*keys, "chs"]).select(cand, co.co, co.fco)
        cp = cand.to_pandas()
        if cp.empty:
            return None
        own = (cp.nn >= p["min_base_months"]).to_numpy()
        cp["mu"] = np.where(own, cp.lu0, cp.luc)
        cp["sd"] = np.maximum(np.where(own, cp.sd0, cp.sdc), p["min_spread"])
        cp["own"] = own
        cp = cp[np.isfinite(cp.mu) & np.isfinite(cp.sd) & ((cp.lc - cp.mu).abs() >= p["min_gap"])]
        if cp.empty:
            return None
        splits = [add_months(first, k * step) for k in range(n_split)]
        ck = cp[keys].drop_duplicates()
        sel = n.join(ibis.memtable(ck), keys)
        nb = sel.group_by([*keys, "b"]).agg(
            n=sel.count(), st=sel.tm.sum(), stt=(sel.tm * sel.tm).sum(), sy=sel.lu.sum(),
            sty=(sel.tm * sel.lu).sum(), syy=(sel.lu * sel.lu).sum(), sv=sel.v.sum(),
        ).to_pandas()  # fmt: skip
        z, d, v_post, n_post = _step_scan(nb, keys, n_split, p)
        # calibration on the data (most series are not misdeclared): the step z over its
        # median square (a normal's is 0.455), the months' hit rate over the normal's
        tested = z[z != 0]
        lam = max(1.0, float(np.median(tested**2)) / 0.4549) if len(tested) else 1.0
        z = z / math.sqrt(lam)
        units = nb[keys].drop_duplicates().set_index(keys).index
        cp["u"] = units.get_indexer(cp.set_index(keys).index)
        cp = cp[cp.u >= 0]
        k_c = cp.groupby(keys)["chs"].transform("count").to_numpy()
        # the step test, for neighbours with their own baseline (vectorised over candidates)
        u = cp.u.to_numpy()
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
        for i in np.flatnonzero(eligible):
            p_co = hypergeom_sf(int(n_co[i]), post_months, int(cp.ac.iat[i]), int(cp.m1.iat[i]))
            p_month[i] = fisher([p_co, norm_sf(z_pair[i])])
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

        return recs, explain, len(ck)

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


def _step_scan(nb: Any, keys: list[str], n_split: int, p: dict[str, Any]) -> tuple[Any, ...]:
    """Per series (rows of `nb`: per split bucket b, -1 before the first split, sums of 1, t,
    t^2, y, ty, y^2 and value) and split k: the level step d of y = a + b t + d [bucket >= k]
    (least squares; the trend absorbs a unit value's drift) and its z; the value and months
    from the split on."""
    import numpy as np
    import pandas as pd

    units = nb[keys].drop_duplicates().set_index(keys).index
    row = units.get_indexer(pd.MultiIndex.from_frame(nb[keys]))
    cube = {}
    for col in ("n", "st", "stt", "sy", "sty", "syy", "sv"):
        m = np.zeros((len(units), n_split + 1))
        np.add.at(m, (row, nb.b.to_numpy() + 1), nb[col].to_numpy(dtype=float))
        cube[col] = m
    tot = {k: v.sum(axis=1)[:, None] for k, v in cube.items()}
    post = {k: np.cumsum(v[:, ::-1], axis=1)[:, ::-1][:, 1:] for k, v in cube.items()}
    n1, st1, sy1 = post["n"], post["st"], post["sy"]
    big_n = np.broadcast_to(tot["n"], n1.shape)
    a = np.zeros((*n1.shape, 3, 3))
    a[..., 0, 0] = big_n
    a[..., 0, 1] = a[..., 1, 0] = tot["st"]
    a[..., 1, 1] = tot["stt"]
    a[..., 0, 2] = a[..., 2, 0] = a[..., 2, 2] = n1
    a[..., 1, 2] = a[..., 2, 1] = st1
    y = np.stack(np.broadcast_arrays(tot["sy"], tot["sty"], sy1), axis=-1)
    ok = (n1 >= p["min_post_months"]) & (big_n - n1 >= p["min_base_months"])
    a[~ok] = np.eye(3)
    det = np.linalg.det(a)
    a[np.abs(det) < 1e-9] = np.eye(3)
    inv = np.linalg.inv(a)
    beta = np.einsum("...ij,...j->...i", inv, y)
    rss = tot["syy"] - np.einsum("...i,...i->...", beta, y)
    s2 = np.maximum(rss / np.maximum(big_n - 3, 1), p["min_spread"] ** 2)
    se = np.sqrt(s2 * np.maximum(inv[..., 2, 2], 1e-12))
    ok &= np.abs(det) >= 1e-9
    d = np.where(ok, beta[..., 2], 0.0)
    z = np.where(ok, d / se, 0.0)
    return z, d, post["sv"], n1
