"""Synthetic generator benchmark (issue 5).

Generates the default synthetic world (~60 countries x 134 products, 2015-2025 monthly, both
sides of every flow, the default scenarios: ~8M rows) and ingests it into a fresh warehouse,
printing from one run:
- generation alone (batches built, not written): seconds and rows/s;
- generation plus `Warehouse.ingest` (one transaction): seconds and rows/s (target < 30 s);
- the share of the total spent generating.
Usage: python benchmarks/synthetic.py [--min-usd 50000] [--seed N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from transship.sources.synthetic import MIN_USD, SEED, SyntheticTrade
from transship.warehouse import Warehouse

TARGET_SECONDS = 30.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--min-usd", type=float, default=MIN_USD)
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()

    t0 = time.perf_counter()
    src = SyntheticTrade(seed=args.seed, min_usd=args.min_usd)
    rows = sum(b.num_rows for b in src.batches())
    gen = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()
        with Warehouse(Path(tmp) / "bench.duckdb") as wh:
            result = wh.ingest(SyntheticTrade(seed=args.seed, min_usd=args.min_usd))
            labels = wh.con.execute("SELECT count(*) FROM scenario_labels").fetchone()
        total = time.perf_counter() - t1
    assert result.rows_written == rows
    print(f"rows: {rows:,} (labels: {labels[0] if labels else 0:,})")
    print(f"generation only:     {gen:6.1f} s  {rows / gen:12,.0f} rows/s")
    print(f"generation + ingest: {total:6.1f} s  {rows / total:12,.0f} rows/s")
    print(f"share of total spent generating: {gen / total:.2f}")
    verdict = "met" if total < TARGET_SECONDS else "NOT met"
    print(
        f"target < {TARGET_SECONDS:.0f} s: {verdict} (ratio to target {total / TARGET_SECONDS:.2f})"
    )


if __name__ == "__main__":
    main()
