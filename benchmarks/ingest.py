"""Ingest benchmark (issue: foundation).

Generates BACI-shaped files (t,i,j,k,v,q; sorted by year, exporter, importer, product as
CEPII ships them; BACI country codes; 10% NA quantities) and prints, from one run:
- throughput ratio: `transship ingest baci` vs a bare DuckDB read_csv of the same file into a
  table (target >= 0.8);
- peak RSS of `transship ingest baci` on 1M vs 10M rows (target: within 1.5x);
- the same file ingested again (recognised by its sha256 and skipped) and with --force
  (read again, replacing every row of the earlier batch);
- on the small file, what the fast path keeps: a bad cell in its last line named with file,
  line and column, the warehouse unchanged by the failed ingest, the earlier batch's row;
- both sides under the same DuckDB memory limit (TRANSSHIP_INGEST_MEMORY_LIMIT, which
  transship sets while ingesting) and threads; each side run --repeat times, alternated;
  the ratio is the median over (bare run, transship run right after it) pairs, as load on
  a shared machine moves between runs;
- with `--xlsx`: reading the 22 real Comext workbooks (../shared/data) into canonical rows
  vs a bare python-calamine read of every sheet of the same files (target >= 0.67).
transship's bytecode is written first, as installing it does. Each measurement runs in a fresh
process. Usage: python benchmarks/ingest.py [--rows 10000000]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from transship import reference

K_PER_PAIR = 5000  # products per exporter-importer pair


def generate(path: Path, rows: int) -> None:
    # one code per country: BACI's 276 and 280 are both DEU, and a file using both would hold
    # the same natural key twice (refused, as it should be)
    first: dict[str, int] = {}
    for code, iso in sorted(reference.country_lookup("baci").items(), key=lambda x: int(x[0])):
        if code.isdigit() and code != "0":
            first.setdefault(iso, int(code))
    codes = sorted(first.values())[:150]
    pairs = [(i, j) for i in codes for j in codes if i != j]
    con = duckdb.connect()
    con.execute(
        "CREATE TEMP TABLE pairs AS SELECT * FROM (VALUES "
        + ",".join(f"({n},{i},{j})" for n, (i, j) in enumerate(pairs))
        + ") p(n, i, j)"
    )
    con.execute(
        f"""COPY (
          SELECT 2015 + (r // {K_PER_PAIR * len(pairs)})::INT AS t, p.i, p.j,
                 (10000 + (r % {K_PER_PAIR}) * 190)::INT AS k,
                 round(((hash(r) % 1000000) / 1000.0)::DOUBLE, 3) AS v,
                 CASE WHEN r % 10 = 0 THEN 'NA'
                      ELSE round(((hash(r * 7) % 100000) / 1000.0)::DOUBLE, 3)::VARCHAR END AS q
          FROM range({rows}) t(r)
          JOIN pairs p ON p.n = (r // {K_PER_PAIR}) % {len(pairs)}
          ORDER BY r
        ) TO '{path}' (HEADER, DELIMITER ',')"""
    )


def run(code: str, *args: str) -> tuple[float, int, float]:
    """`run_text` without the output."""
    seconds, rss, cpu, _ = run_text(code, *args)
    return seconds, rss, cpu


def run_text(code: str, *args: str) -> tuple[float, int, float, str]:
    """Seconds, peak RSS (KiB), CPU seconds (user + system) and the output of `code` in a fresh
    interpreter.

    The peak is the child's VmHWM: getrusage's ru_maxrss survives exec, so it would count
    the parent's memory at fork time (this process holds the generated rows) as the child's.
    CPU seconds move less with the load of a shared machine than wall seconds do.
    """
    wrapped = (
        code + "\nprint('RSS', next(line.split()[1] for line in open('/proc/self/status') "
        "if line.startswith('VmHWM')))"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", wrapped, *args], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    rss = next(int(line.split()[1]) for line in out.stdout.splitlines() if line.startswith("RSS"))
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, rss, cpu, out.stdout


# The bare load runs under the DuckDB memory limit transship sets while ingesting (the
# setting's default, 256MB unless TRANSSHIP_INGEST_MEMORY_LIMIT says otherwise) and DuckDB's
# default threads (one per core), as transship's ingest does: both sides measured alike.
BARE = (
    "import sys, duckdb\n"
    "con = duckdb.connect(sys.argv[1], config={'memory_limit': sys.argv[3]})\n"
    "con.execute(f\"CREATE TABLE t AS SELECT * FROM read_csv('{sys.argv[2]}')\")"
)
TRANSSHIP = (
    "import sys\nfrom transship.cli import main\n"
    "sys.argv = ['transship', '-w', sys.argv[1], 'ingest', 'baci',\n"
    "            '--hs-rev', 'HS2017', sys.argv[2], *sys.argv[3:]]\n"
    "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code"
)
# What the fast path keeps, shown on the small file: a bad cell in its last line is named
# (file, line, column) and leaves the warehouse as it was; the batch row records the input.
CHECKS = (
    "import sys, duckdb\nfrom transship.errors import InputError\n"
    "from transship.sources.baci import baci_file\nfrom transship.warehouse import Warehouse\n"
    "with Warehouse(sys.argv[1]) as wh:\n"
    "    before = wh.count()\n"
    "    try:\n        wh.ingest(baci_file(sys.argv[2], hs_rev='HS2017'))\n"
    "    except InputError as e:\n        print('ERROR', e)\n"
    "    else:\n        raise SystemExit('the bad cell was not refused')\n"
    "    b = wh.batches(2)\n"
    "    print('KEPT', before == wh.count(), b[0]['status'], b[1]['status'],\n"
    "          b[1]['rows_written'], b[1]['input_sha256'][:12])"
)


XLSX_DIR = (
    Path(__file__).resolve().parents[1].parent
    / "shared/data/eurostat-eu27-cn8-exports-2020-2022/raw-xlsx"
)
BARE_XLSX = (
    "import sys, glob\nfrom python_calamine import CalamineWorkbook\n"
    "for f in sorted(glob.glob(sys.argv[1] + '/*.xlsx')):\n"
    "    wb = CalamineWorkbook.from_path(f)\n"
    "    for n in wb.sheet_names:\n"
    "        wb.get_sheet_by_name(n).to_python(skip_empty_area=False)"
)
TRANSSHIP_XLSX = (
    "import sys, glob\nfrom transship.sources.comext import comext_source\n"
    "if __name__ == '__main__':\n"
    "    src, _ = comext_source(sorted(glob.glob(sys.argv[1] + '/*.xlsx')))\n"
    "    print('ROWS', src.num_rows)"
)


def xlsx() -> None:
    if not XLSX_DIR.is_dir():
        print(f"--xlsx: {XLSX_DIR} not found (../shared/data); skipped")
        return
    print(f"Comext workbooks; load average {os.getloadavg()[0]:.1f} at start")
    bare_s, _, bare_cpu = run(BARE_XLSX, str(XLSX_DIR))
    ts_s, rss, ts_cpu = run(TRANSSHIP_XLSX, str(XLSX_DIR))
    print(
        f"22 Comext workbooks: bare calamine read {bare_s:6.1f}s ({bare_cpu:.1f} CPU s) | "
        f"transship comext {ts_s:6.1f}s ({ts_cpu:.1f} CPU s, RSS {rss / 1024:,.0f} MiB) | "
        f"ratio {bare_s / ts_s:.2f} (target >= 0.67) | load average {os.getloadavg()[0]:.1f}"
    )


def compile_package() -> str:
    """Write transship's bytecode, as installing the package does.

    Both sides should start as an installed program starts: DuckDB's modules were compiled
    when pip installed them, while an editable checkout run with PYTHONDONTWRITEBYTECODE set
    (as on these machines) compiles every transship module from source in every process,
    ~0.1 s of start-up the bare load never pays. A user's first run writes the same files.
    """
    import compileall

    import transship

    package = Path(transship.__file__).parent
    compileall.compile_dir(package, quiet=1)
    return f"transship's bytecode written under {package} as an install does"


def checks(d: Path, f: Path, warehouse: Path) -> None:
    """Run CHECKS on a copy of `f` whose last line holds an unknown exporter code."""
    bad = d / "bad.csv"
    with open(f, "rb") as src, open(bad, "wb") as out:
        data = src.read()
        head, last = data.rstrip(b"\n").rsplit(b"\n", 1)
        t, _, rest = last.partition(b",")
        out.write(head + b"\n" + t + b",999," + rest.partition(b",")[2] + b"\n")
    _, _, _, text = run_text(CHECKS, str(warehouse), str(bad))
    error = next(line[6:] for line in text.splitlines() if line.startswith("ERROR"))
    kept = next(line.split()[1:] for line in text.splitlines() if line.startswith("KEPT"))
    print(
        f"  checks kept on the fast path: a bad cell in the last line -> {error!r}; warehouse "
        f"unchanged {kept[0]} (batch {kept[1]}, the earlier one {kept[2]} with {kept[3]} rows, "
        f"sha256 {kept[4]}...)"
    )
    bad.unlink()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--small", type=int, default=1_000_000)
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs of each side, alternated; best time kept"
    )
    ap.add_argument("--xlsx", action="store_true", help="also the Comext workbook ratio")
    ap.add_argument("--xlsx-only", action="store_true", help="only the Comext workbook ratio")
    args = ap.parse_args()
    if args.xlsx or args.xlsx_only:
        xlsx()
        if args.xlsx_only:
            return
    from transship.settings import get_settings

    limit = get_settings().ingest_memory_limit
    compiled = compile_package()
    print(
        f"BACI-shaped synthetic rows; both sides under DuckDB memory_limit={limit}, "
        f"default threads ({os.cpu_count()} cores); best of {args.repeat} alternated runs, "
        f"peak RSS the largest seen; load average {os.getloadavg()[0]:.1f} at start; "
        f"{compiled}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        results = {}
        for n in (args.small, args.rows):
            f = d / f"baci_{n}.csv"
            generate(f, n)
            mb = f.stat().st_size / 1e6
            bare: list[tuple[float, int, float]] = []
            ours: list[tuple[float, int, float]] = []
            loads: list[float] = []  # the 1-minute load average as each pair starts
            for _ in range(args.repeat):
                for p in d.glob("*.duckdb*"):
                    p.unlink()
                loads.append(os.getloadavg()[0])
                bare.append(run(BARE, str(d / f"bare_{n}.duckdb"), str(f), limit))
                ours.append(run(TRANSSHIP, str(d / f"ts_{n}.duckdb"), str(f)))
            # the identical file again: recognised by its sha256 and skipped
            again_s, _, _ = run(TRANSSHIP, str(d / f"ts_{n}.duckdb"), str(f))
            # --force reads it again, replacing every row of the earlier batch
            forced_s, _, _ = run(TRANSSHIP, str(d / f"ts_{n}.duckdb"), str(f), "--force")
            bare_s, bare_rss = min(s for s, _, _ in bare), max(r for _, r, _ in bare)
            ts_s, ts_rss = min(s for s, _, _ in ours), max(r for _, r, _ in ours)
            # each run pairs with the bare run just before it: the ratio of a pair is the
            # fairest on a shared machine (load moves between pairs, less within one)
            pairs = sorted(b[0] / t[0] for b, t in zip(bare, ours, strict=True))
            cpu = sorted(b[2] / t[2] for b, t in zip(bare, ours, strict=True))
            results[n] = (bare_s, ts_s, ts_rss, (again_s, forced_s), bare_rss, pairs, cpu)
            print(
                f"{n:>11,} rows ({mb:,.0f} MB): bare DuckDB read_csv {bare_s:6.2f}s "
                f"({n / bare_s:,.0f} rows/s, RSS {bare_rss / 1024:,.0f} MiB) | "
                "transship ingest baci "
                f"{ts_s:6.2f}s ({n / ts_s:,.0f} rows/s, RSS {ts_rss / 1024:,.0f} MiB) | "
                f"same file again {again_s:5.2f}s (skipped), --force {forced_s:6.2f}s | runs bare "
                + " ".join(f"{s:.2f}" for s, _, _ in bare)
                + ", transship "
                + " ".join(f"{s:.2f}" for s, _, _ in ours)
                + " | CPU s bare "
                + " ".join(f"{c:.2f}" for _, _, c in bare)
                + ", transship "
                + " ".join(f"{c:.2f}" for _, _, c in ours)
                + " | load average at each pair "
                + " ".join(f"{x:.1f}" for x in loads)
                + f", at the end {os.getloadavg()[0]:.1f}"
            )
            if n == args.small:
                checks(d, f, d / f"ts_{n}.duckdb")
            for p in d.glob("*.duckdb*"):
                p.unlink()
            f.unlink()
        bare_s, ts_s, _, again_s, _, pairs, cpu = results[args.rows]
        small = results[args.small][5]
        print(
            f"throughput ratio transship/bare at {args.rows:,} rows: median of pairs "
            f"{pairs[len(pairs) // 2]:.2f} (pairs {' '.join(f'{r:.2f}' for r in pairs)}; "
            f"best times {bare_s / ts_s:.2f}) (target >= 0.8; at {args.small:,} rows "
            f"{small[len(small) // 2]:.2f})"
        )
        print(
            f"CPU ratio transship/bare (CPU seconds, which load moves less) at {args.rows:,} "
            f"rows: median of pairs {cpu[len(cpu) // 2]:.2f} (at {args.small:,} rows "
            f"{results[args.small][6][len(cpu) // 2]:.2f})"
        )
        print(
            f"re-ingest of the identical file: skipped in {again_s[0]:.2f}s (ratio to a bare "
            f"load {bare_s / again_s[0]:.2f}); --force, replacing every row: "
            f"{again_s[1]:.2f}s (ratio {bare_s / again_s[1]:.2f})"
        )
        rss_ratio = results[args.rows][2] / results[args.small][2]
        bare_ratio = results[args.rows][4] / results[args.small][4]
        print(
            f"peak RSS ratio {args.rows:,} / {args.small:,} rows: {rss_ratio:.2f} (target <= 1.5; "
            f"bare DuckDB {bare_ratio:.2f})"
        )


if __name__ == "__main__":
    main()
