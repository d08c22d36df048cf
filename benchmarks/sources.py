"""Real-source benchmark (issue 3): Comext ingest and Comtrade request planning.

Prints, from one run (each measurement in a fresh process):
- Comext: `transship ingest comext` on the real 1.1M-row CN8 file in ../shared/data vs a bare
  DuckDB read_csv of the same file into a table: throughput ratio and peak RSS of both;
- Comtrade: how many calls the FT data set plans with a key and without (preview), and how
  long planning takes.
Usage: python benchmarks/sources.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(code: str) -> tuple[float, int, str]:
    """Seconds, peak RSS (KiB) and stdout of `code` in a fresh interpreter."""
    wrapped = (
        code + "\nimport resource; print('RSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", wrapped], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    rss = int(out.stdout.strip().splitlines()[-1].split()[1])
    return seconds, rss, out.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    args = ap.parse_args()
    gz = (
        args.shared
        / "eurostat-eu27-cn8-exports-2020-2022"
        / "eu27_exports_cn8_monthly_2020_2022.csv.gz"
    )
    with tempfile.TemporaryDirectory() as tmp:
        bare_s, bare_rss, _ = run(
            f"import duckdb; con = duckdb.connect('{tmp}/bare.duckdb');"
            f"con.execute(\"CREATE TABLE t AS SELECT * FROM read_csv('{gz}', "
            "types={'product_code': 'VARCHAR'})\")"
        )
        ours_s, ours_rss, _ = run(
            "from transship.sources.comext import comext_source\n"
            "from transship.warehouse import Warehouse\n"
            f"src, _ = comext_source(['{gz}'], flow='export')\n"
            f"with Warehouse('{tmp}/ours.duckdb') as wh: wh.ingest(src)"
        )
    rows = 1_141_670
    print(
        f"comext: {rows:,} rows; bare DuckDB read_csv {bare_s:.1f} s, {bare_rss / 1024:.0f} MiB; "
        f"transship ingest comext {ours_s:.1f} s, {ours_rss / 1024:.0f} MiB"
    )
    print(
        f"comext throughput ratio (ours / bare): {bare_s / ours_s:.2f}; "
        f"peak memory ratio: {ours_rss / bare_rss:.2f}"
    )
    plan_s, _, out = run(
        "from transship.sources.comtrade import plan_comtrade\n"
        "for t in ('free', 'premium', 'preview'):\n"
        "    p = plan_comtrade(reporters='TUR', partners='russia+ft_five', products='chpl',"
        " period='2015-01..2024-12', freq='M', flows=['export', 'import'], mirror=True, tier=t)\n"
        "    print(t, len(p.requests))"
    )
    counts = dict(line.split() for line in out.splitlines() if not line.startswith("RSS"))
    print(
        f"comtrade FT data set: {counts['free']} calls with a free key, {counts['premium']} "
        f"premium, {counts['preview']} without a key (preview); planned 3x in {plan_s:.1f} s"
    )


if __name__ == "__main__":
    main()
