"""Analysis benchmark (issue 4): each analysis on DuckDB via Ibis vs plain pandas.

Generates >= 10M rows of synthetic trade_flows directly (numpy -> Arrow -> DuckDB;
source='synthetic'): 24 countries (hubs, Russia, coalition members), every ordered pair, both
flows, 105 products (the 50 CHPL codes and 55 control codes, written in the HS revision in
force each year, so the concordance is exercised), monthly 2015-01..2023-12, 80% of cells
present. Then, for each analysis, runs the transship library function and a straightforward
pandas implementation of the same computation written below -- each in a fresh process that
starts from the same warehouse file (pandas reads the columns it needs into a DataFrame, as a
pandas user would; the load time is printed apart) -- checks that the results are equal, and
prints the speed ratio (pandas seconds / transship seconds, each from the start of the work to
the result in memory, imports excluded; target >= 5) and the peak-memory ratio (transship peak
RSS / pandas peak RSS of the process; target <= 0.5), both measured in this one run.

Usage: python benchmarks/analysis.py [--rows 10000000] [--only flows,mirror]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HUBS = ["TUR", "ARE", "CHN", "HKG", "KAZ", "KGZ", "ARM", "GEO", "AZE", "UZB", "SRB", "IND"]
OTHERS = ["RUS", "BLR", "DEU", "FRA", "ITA", "USA", "JPN", "GBR", "POL", "NLD", "KOR", "CHE"]
COUNTRIES = HUBS + OTHERS
MONTHS = [dt.date(2015 + i // 12, i % 12 + 1, 1) for i in range(108)]
N_CONTROL = 55
DENSITY = 0.8

# --------------------------------------------------------------------------------------------
# the analyses, as transship runs them (keyword arguments shared with the pandas versions)
CASES: dict[str, dict[str, Any]] = {
    "flows": dict(products="chpl", period="2023-01..2023-09", compare="prior",
                  baseline="2015..2021", by=("reporter", "partner")),
    "mirror": dict(exporters="TUR+ARE+CHN+KAZ", importers="russia+ft_five+ARM",
                   products="chpl", window=3, by_product=True),
    "hubs": dict(baseline="2015..2021"),
    "anomalies": dict(partner="russia+caucasus_central_asia", pre="2015..2021"),
    "event_study": dict(event="invasion", reporter="hubs", partner="russia", before=12,
                        after=12),
}  # fmt: skip
KEYS = {
    "flows": ["reporter", "partner"],
    "mirror": ["exporter", "importer", "hs2022", "period"],
    "hubs": ["hub", "leg"],
    "anomalies": ["reporter", "partner", "hs2022"],
    "event_study": ["rel_month"],
}


def generate(path: Path, rows: int, seed: int = 7) -> int:
    """Write about `rows` synthetic rows; returns the exact count."""
    import pyarrow as pa

    from transship import reference
    from transship.analysis.hubs import control_basket
    from transship.warehouse import Warehouse

    chpl = [i.hs6 for i in reference.chpl()]
    ctrl = control_basket("chpl")[:N_CONTROL]
    products = chpl + ctrl
    # each product's code in each revision (CHPL: its single older code; else a filler code)
    by_rev: dict[str, list[str]] = {"HS2022": products}
    for rev in ("HS2017", "HS2012"):
        m = reference.parse_products("chpl").in_revision(rev).comparable
        by_rev[rev] = [m[c][0] if c in m else f"99{n:04d}" for n, c in enumerate(chpl)] + ctrl
    pairs = [(r, p) for r in COUNTRIES for p in COUNTRIES if r != p]
    n_series = len(pairs) * 2 * len(products)
    density = min(1.0, rows / (n_series * len(MONTHS)))
    rng = np.random.default_rng(seed)
    months = np.array(MONTHS, dtype="datetime64[D]")
    years = 2015 + np.arange(len(MONTHS)) // 12
    rev_of_month = np.where(years >= 2022, 2, np.where(years >= 2017, 1, 0))
    revs = ["HS2012", "HS2017", "HS2022"]
    codes = np.array([by_rev[r] for r in revs])  # (3, n_products)
    post = months >= np.datetime64("2022-03-01")
    total = 0
    with Warehouse(path) as wh:
        # the rows are stored in trade_rows under batch 1 (source and batch_id in its row)
        wh.con.execute(
            "INSERT INTO ingest_batches (batch_no, batch_id, source, started, status) "
            "VALUES (1, 'bench', 'synthetic', now(), 'ok')"
        )
        batch: list[Any] = []
        for pi, (rep, par) in enumerate(pairs):
            for flow in ("export", "import"):
                n = len(products) * len(MONTHS)
                k = np.repeat(np.arange(len(products)), len(MONTHS))
                t = np.tile(np.arange(len(MONTHS)), len(products))
                keep = rng.random(n) < density
                k, t = k[keep], t[keep]
                level = rng.normal(10, 2, len(products))[k]
                value = np.exp(level + rng.normal(0, 0.5, len(k)))
                if par == "RUS" and rep in ("TUR", "ARE", "KAZ", "KGZ", "ARM") and flow == "export":
                    value = np.where(post[t] & (k < len(chpl)), value * 5, value)  # rerouting
                tbl = pa.table({
                    "reporter": pa.array([rep] * len(k)),
                    "partner": pa.array([par] * len(k)),
                    "flow": pa.array([flow] * len(k)),
                    "hs": pa.array(codes[rev_of_month[t], k]),
                    "hs_rev": pa.array(np.array(revs)[rev_of_month[t]]),
                    "period": pa.array(months[t]),
                    "value_usd": pa.array(np.round(value, 2)),
                    "valuation": pa.array(["FOB" if flow == "export" else "CIF"] * len(k)),
                })  # fmt: skip
                batch.append(tbl)
                total += len(k)
            if len(batch) >= 46 or pi == len(pairs) - 1:  # one insert per ~400k rows
                wh.con.register("_gen", pa.concat_tables(batch))
                wh.con.execute(
                    "INSERT INTO trade_rows SELECT 1, reporter, partner, flow, hs, hs_rev, "
                    "period, 'M', value_usd, NULL, NULL, NULL, valuation FROM _gen"
                )
                wh.con.unregister("_gen")
                batch = []
    return total


# --------------------------------------------------------------------------------------------
# straightforward pandas implementations of the same computations
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
    out = pd.concat(
        [
            main.groupby(keys).value_usd.sum().rename("value_usd"),
            main.groupby(keys).size().rename("rows"),
            prior.groupby(keys).value_usd.sum().rename("compare_usd"),
            (base.groupby(keys).value_usd.sum() / 7).rename("baseline_usd"),
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


def run_transship(name: str, db: str) -> Any:
    from transship import analysis
    from transship.analysis.engine import close, connect

    fn = getattr(analysis, name)
    con = connect(db)
    try:
        result = fn(con, **CASES[name])
        assert result.synthetic, "benchmark data must be labelled synthetic"
        return result.to_pandas()
    finally:
        close(con)


# --------------------------------------------------------------------------------------------
def child(name: str, impl: str, db: str, out: str) -> None:
    """One measurement in this fresh process: prints seconds and peak RSS, saves the result."""
    import resource

    import duckdb  # noqa: F401  # imports are not timed, on either side
    import ibis  # noqa: F401
    import pandas as pd  # both sides return a DataFrame to compare

    import transship.analysis.anomalies
    import transship.analysis.engine
    import transship.analysis.hubs
    import transship.analysis.mirror  # noqa: F401

    start = time.perf_counter()
    load = 0.0
    if impl == "transship":
        result = run_transship(name, db)
    else:
        df = pd_load(db)
        load = time.perf_counter() - start
        result = PANDAS[name](df)
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    pd.DataFrame(result).to_pickle(out)
    print(json.dumps({"seconds": seconds, "load_seconds": load, "rss_kib": rss}))


def measure(name: str, impl: str, db: Path, out: Path) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", name, impl, str(db), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{name}/{impl} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def compare(name: str, a: Any, b: Any) -> None:
    """Raise unless the two result tables hold the same rows and values."""
    import pandas as pd

    keys = KEYS[name]
    cols = [c for c in a.columns if not c.startswith("_")]
    missing = [c for c in cols if c not in b.columns]
    assert not missing, f"{name}: pandas result lacks {missing}"

    def norm(df: Any) -> Any:
        df = df[cols].copy()
        for c in df.columns:
            if str(df[c].dtype).startswith(("datetime", "date")) or df[c].dtype == object:
                df[c] = df[c].map(lambda v: None if v is None or pd.isna(v) else str(v)[:10])
        return df.sort_values(keys).reset_index(drop=True)

    a, b = norm(a), norm(b)
    assert len(a) == len(b), f"{name}: {len(a)} rows vs {len(b)} in pandas"
    for c in cols:
        x, y = a[c], b[c]
        if pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
            xv, yv = x.astype(float).to_numpy(), y.astype(float).to_numpy()
            ok = np.isclose(xv, yv, rtol=1e-9, atol=1e-6, equal_nan=True)
            assert ok.all(), f"{name}.{c}: first difference at row {int(np.argmin(ok))}"
        else:
            xs = [None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
                  else v for v in x.tolist()]  # fmt: skip
            ys = [None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
                  else v for v in y.tolist()]  # fmt: skip
            assert xs == ys, f"{name}.{c} differs"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:6])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--only", default=",".join(CASES))
    ap.add_argument("--keep", type=Path, help="reuse/keep the generated warehouse here")
    args = ap.parse_args()
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        db = args.keep or Path(tmp) / "bench.duckdb"
        if not db.exists():
            start = time.perf_counter()
            n = generate(db, args.rows)
            print(f"generated {n:,} synthetic rows in {time.perf_counter() - start:.0f}s")
        print(f"{'analysis':<12} {'transship s':>11} {'pandas s':>9} {'(load s)':>9} "
              f"{'speed x':>8} {'transship MiB':>13} {'pandas MiB':>10} {'memory x':>8}  "
              "result")  # fmt: skip
        for name in args.only.split(","):
            ta = measure(name, "transship", db, Path(tmp) / f"{name}.t.pkl")
            pa_ = measure(name, "pandas", db, Path(tmp) / f"{name}.p.pkl")
            a = pd.read_pickle(Path(tmp) / f"{name}.t.pkl")
            b = pd.read_pickle(Path(tmp) / f"{name}.p.pkl")
            compare(name, a, b)
            print(
                f"{name:<12} {ta['seconds']:>11.2f} {pa_['seconds']:>9.2f} "
                f"{pa_['load_seconds']:>9.2f} {pa_['seconds'] / ta['seconds']:>8.1f} "
                f"{ta['rss_kib'] / 1024:>13,.0f} "
                f"{pa_['rss_kib'] / 1024:>10,.0f} {ta['rss_kib'] / pa_['rss_kib']:>8.2f}  "
                f"equal ({len(a):,} rows)",
                flush=True,
            )
        print("targets: speed x >= 5 (pandas s / transship s), memory x <= 0.5 "
              "(transship peak RSS / pandas peak RSS)")  # fmt: skip


if __name__ == "__main__":
    main()
