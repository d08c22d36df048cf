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

from _analysis_pandas import PANDAS, pd_load

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
