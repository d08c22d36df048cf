"""Straightforward pandas implementations of the analyses benchmarks/analysis.py times
transship against: what a pandas user would write for the same computations, checked equal
to transship's results in that benchmark."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def pd_load(db: str) -> Any:
    import duckdb

    con = duckdb.connect(db, read_only=True)
    df = con.execute(
        "SELECT source, reporter, partner, flow::VARCHAR AS flow, hs, hs_rev::VARCHAR AS hs_rev, "
        "period, freq::VARCHAR AS freq, value_usd FROM trade_flows"
    ).df()
    con.close()
    df["period"] = df["period"].astype("datetime64[s]")
    return df


def pd_products(df: Any, products: str, extra: list[dict[str, str]] | None = None) -> Any:
    import pandas as pd

    from transship.analysis.flows import product_map

    rows, _ = product_map(products, sorted(df["hs_rev"].unique()))
    pm = pd.DataFrame(rows + (extra or []))
    return df.merge(pm, on=["hs_rev", "hs"])


def countries(expr: str) -> list[str]:
    from transship import reference

    return sorted(reference.parse_countries(expr))


def ts(s: str) -> Any:
    import pandas as pd

    return pd.Timestamp(s)


def pd_flows(df: Any) -> Any:
    import pandas as pd

    d = df[(df.flow == "export") & (df.freq == "M")]
    d = pd_products(d, "chpl")
    keys = ["reporter", "partner"]
    main = d[(d.period >= ts("2023-01-01")) & (d.period <= ts("2023-09-01"))]
    prior = d[(d.period >= ts("2022-01-01")) & (d.period <= ts("2022-09-01"))]
    base = d[(d.period.dt.year.between(2015, 2021)) & (d.period.dt.month <= 9)]
    # each product averaged over the baseline years it is comparable in: the years whose
    # reported revisions have a code for it (a code new in HS2017 is not counted in 2015-16)
    base = base.assign(year=base.period.dt.year)
    pm = base[["hs_rev", "hs2022"]].drop_duplicates()  # d's rows carry their product already
    revs = base[["year", "hs_rev"]].drop_duplicates()
    n_years = revs.merge(pm, on="hs_rev")[["year", "hs2022"]]
    n_years = n_years.drop_duplicates().groupby("hs2022").size().rename("n_years")
    base = base.merge(n_years, left_on="hs2022", right_index=True)
    out = pd.concat(
        [
            main.groupby(keys).value_usd.sum().rename("value_usd"),
            main.groupby(keys).size().rename("rows"),
            prior.groupby(keys).value_usd.sum().rename("compare_usd"),
            (base.value_usd / base.n_years)
            .groupby([base[k] for k in keys])
            .sum()
            .rename("baseline_usd"),
        ],
        axis=1,
    ).fillna(0)
    for name in ("compare", "baseline"):
        other = out[f"{name}_usd"]
        out[f"{name}_multiple"] = (out.value_usd / other).where(other > 0)
        out[f"{name}_change_usd"] = out.value_usd - other
    return out.reset_index()


def pd_mirror(df: Any) -> Any:
    import pandas as pd

    ex, im = countries("TUR+ARE+CHN+KAZ"), countries("russia+ft_five+ARM")
    d = df[df.freq == "M"]
    keys = ["exporter", "importer", "hs2022"]
    x = pd_products(d[(d.flow == "export") & d.reporter.isin(ex) & d.partner.isin(im)], "chpl")
    x = x.rename(columns={"reporter": "exporter", "partner": "importer"})
    x = x.groupby([*keys, "period"]).value_usd.sum().rename("x").reset_index()
    m = pd_products(d[(d.flow == "import") & d.reporter.isin(im) & d.partner.isin(ex)], "chpl")
    m = m.rename(columns={"reporter": "importer", "partner": "exporter"})
    m = m.groupby([*keys, "period"]).value_usd.sum().rename("m").reset_index()
    lo, hi = min(x.period.min(), m.period.min()), max(x.period.max(), m.period.max())
    units = pd.DataFrame({"period": pd.date_range(lo, hi, freq="MS").astype("datetime64[s]")})
    units["u"] = range(len(units))
    pairs = pd.concat([x[keys], m[keys]]).drop_duplicates()
    g = pairs.merge(units, how="cross")
    g = g.merge(x, on=[*keys, "period"], how="left").merge(m, on=[*keys, "period"], how="left")
    cov_x = d[(d.flow == "export") & d.reporter.isin(ex)][["reporter", "period"]].drop_duplicates()
    cov_m = d[(d.flow == "import") & d.reporter.isin(im)][["reporter", "period"]].drop_duplicates()
    g = g.merge(cov_x.rename(columns={"reporter": "exporter"}).assign(x_cov=1),
                on=["exporter", "period"], how="left")  # fmt: skip
    g = g.merge(cov_m.rename(columns={"reporter": "importer"}).assign(m_cov=1),
                on=["importer", "period"], how="left")  # fmt: skip
    g = g.fillna({"x": 0.0, "m": 0.0, "x_cov": 0, "m_cov": 0}).sort_values([*keys, "u"])
    roll = (
        g.groupby(keys)[["x", "m", "x_cov", "m_cov"]]
        .rolling(3)
        .sum()
        .reset_index(level=list(range(len(keys))), drop=True)
    )
    g[["x_sum", "m_sum", "x_n", "m_n"]] = roll.to_numpy()
    g = g[g.u >= 2].copy()
    g["x_missing"], g["m_missing"] = g.x_n < 3, g.m_n < 3
    g["x_usd"] = g.x_sum.where(~g.x_missing)
    g["m_usd"] = g.m_sum.where(~g.m_missing)
    g["m_fob_usd"] = g.m_usd / 1.06
    g["gap_usd"] = g.x_usd - g.m_fob_usd
    both = (g.x_usd > 0) & (g.m_fob_usd > 0)
    g["log_ratio"] = np.log((g.x_usd / g.m_fob_usd).where(both))
    total = g.x_usd + g.m_fob_usd
    g["sym_share"] = (g.gap_usd.abs() / total).where(total > 0)
    wide = (g.log_ratio.abs() > math.log(2)).where(both, True)
    breach = (g.gap_usd.abs() > 1e6) & wide
    g["breach"] = breach.astype("boolean").where(~(g.x_missing | g.m_missing))
    b = g.breach.fillna(False).astype(int)
    run = (1 - b).groupby([g[k] for k in keys]).cumsum()
    length = b.groupby([g[k] for k in keys] + [run]).transform("sum")
    g["flag"] = (b == 1) & (length >= 2)
    return g


def pd_hubs(df: Any) -> Any:
    import pandas as pd

    from transship import reference
    from transship.analysis.hubs import _pre_months, control_basket
    from transship.periods import parse_period

    hubs, coal = countries("hubs"), countries("coalition")
    dest = countries("russia+caucasus_central_asia")
    ctrl = control_basket("chpl")
    d = df[(df.freq == "M") & df.reporter.isin(hubs) & df.partner.isin(dest + coal)]
    d = d[d.flow.isin(["import", "export"])]
    extra = [{"hs_rev": rev, "hs": c, "hs2022": c, "grp": "control"}
             for rev in sorted(d.hs_rev.unique()) for c in ctrl
             if rev == "HS2022" or reference.hs6_exists(c, rev)]  # fmt: skip
    d = pd_products(d, "chpl", extra)
    d["grp"] = d["grp"].fillna("chpl")
    d["leg"] = np.where((d.flow == "import") & d.partner.isin(coal), "imports_from_coalition",
                        np.where((d.flow == "export") & d.partner.isin(dest), "exports_to_target",
                                 None))  # fmt: skip
    d = d[d.leg.notna() & (d.partner != d.reporter)].rename(columns={"reporter": "hub"})
    last = d.period.max()
    post_months = (last.year - 2022) * 12 + last.month - 3 + 1
    d["pre"] = d.value_usd.where(d.period.dt.year.between(2015, 2021), 0.0)
    d["post"] = d.value_usd.where(d.period >= ts("2022-03-01"), 0.0)
    per = d.groupby(["hub", "leg", "hs2022", "grp"])[["pre", "post"]].sum().reset_index()
    n_pre = _pre_months("chpl", ctrl, parse_period("2015..2021"), "M")
    per["n_pre"] = per.hs2022.map(n_pre)
    per = per[per.n_pre.notna()]
    per["pre_avg"], per["post_avg"] = per.pre / per.n_pre, per.post / post_months
    both = (per.pre_avg > 0) & (per.post_avg > 0)
    per["g"] = (np.log(per.post_avg) - np.log(per.pre_avg)).where(both)
    rows = []
    for (hub, leg), grp in per.groupby(["hub", "leg"]):
        c, k = grp[grp.grp == "chpl"], grp[grp.grp == "control"]
        nc, nk = int(c.g.count()), int(k.g.count())
        did = c.g.mean() - k.g.mean()
        se = math.sqrt(c.g.var() / nc + k.g.var() / nk) if nc > 1 and nk > 1 else float("nan")
        rows.append({
            "hub": hub, "leg": leg, "pre_usd": (c.pre_avg * 12).sum(),
            "post_usd": (c.post_avg * 12).sum(), "chpl_growth": c.g.mean(),
            "control_growth": k.g.mean(), "did": did, "se": se,
            "ci_low": did - 1.959963984540054 * se, "ci_high": did + 1.959963984540054 * se,
            "n_products": nc, "n_control": nk,
        })  # fmt: skip
    out = pd.DataFrame(rows)
    out["_z"] = (out.did / out.se).where(out.se > 0).fillna(-1e300)
    out = out.sort_values(["leg", "_z", "did", "hub"], ascending=[True, False, False, True])
    out["rank"] = out.groupby("leg").cumcount() + 1
    return out.drop(columns="_z")


def pd_anomalies(df: Any) -> Any:
    d = df[(df.flow == "export") & (df.freq == "M")]
    d = d[d.partner.isin(countries("russia+caucasus_central_asia"))]
    d = pd_products(d, "chpl")
    keys = ["reporter", "partner", "hs2022"]
    s = d.groupby([*keys, "period"]).value_usd.sum().rename("v").reset_index()
    pre = s[s.period.dt.year.between(2015, 2021) & (s.v > 0)].copy()
    pre["y"] = np.log(pre.v)
    stats = pre.groupby(keys).y.agg(med="median", n_pre="size").reset_index()
    stats = stats[stats.n_pre >= 12]
    pre = pre.merge(stats, on=keys)
    pre["dev"] = (pre.y - pre.med).abs()
    stats = stats.merge(pre.groupby(keys).dev.median().rename("mad").reset_index(), on=keys)
    stats["scale"] = np.maximum(stats.mad * 1.4826, 0.1)
    post = s[s.period >= ts("2022-01-01")].merge(stats, on=keys)
    last = s[s.period >= ts("2022-01-01")].period.max()
    n_post = (last.year - 2022) * 12 + last.month
    post["surge"] = (post.v > 0) & ((np.log(post.v) - post.med) / post.scale > 3.5)
    agg = post.groupby(keys).agg(post_total=("v", "sum")).reset_index()
    first = post[post.surge].groupby(keys).period.min().rename("first_surge_period").reset_index()
    out = stats.merge(agg, on=keys, how="left").merge(first, on=keys, how="left")
    out["post_usd"] = out.post_total.fillna(0.0) / n_post
    out["score"] = ((np.log(out.post_usd) - out.med) / out.scale).where(out.post_usd > 0)
    out["pre_median_usd"], out["pre_mad"] = np.exp(out.med), out.mad
    out = out.sort_values(["score", *keys], ascending=[False, True, True, True],
                          na_position="last")  # fmt: skip
    out["rank"] = range(1, len(out) + 1)
    return out


def pd_event_study(df: Any) -> Any:
    import pandas as pd

    d = df[(df.flow == "export") & (df.freq == "M") & df.reporter.isin(countries("hubs"))]
    d = pd_products(d[d.partner == "RUS"], "chpl")
    periods = pd.date_range("2021-02-01", "2023-02-01", freq="MS").astype("datetime64[s]")
    s = d[d.period.isin(periods)].groupby("period").value_usd.sum()
    out = pd.DataFrame({"period": periods, "rel_month": range(-12, 13)})
    out["value_usd"] = out.period.map(s).fillna(0.0)
    out["pre_mean_usd"] = out.value_usd[out.rel_month < 0].mean()
    out["index"] = (out.value_usd / out.pre_mean_usd).where(out.pre_mean_usd > 0)
    return out


PANDAS = {"flows": pd_flows, "mirror": pd_mirror, "hubs": pd_hubs, "anomalies": pd_anomalies,
          "event_study": pd_event_study}  # fmt: skip
