"""Screening API under load: a bounded open-loop generator against `transship serve` on loopback.

Starts its own `transship serve` subprocess on a free 127.0.0.1 port with a temporary
warehouse holding the real OFAC SDN list (2024 legacy CSV from ../shared/data; the benchmark
skips with a message when it is absent) and API tokens configured, then:

1. sends single-declaration POST /v1/screen requests at a fixed rate (default 200/s for 10 s)
   on a schedule fixed in advance: each request is due at t0 + i/rate whether or not earlier
   ones have answered (open loop), and its latency is counted from that *scheduled* time, so
   a server that falls behind shows its queueing delay instead of hiding it (no coordinated
   omission);
2. times batches of 1,000 declarations;
3. stops the server normally and checks the audit trail: records written == requests
   answered, `verify` intact, and a copy of the .duckdb file alone (no .wal) holds them all.

Bounded: a fixed number of requests, each with a timeout, a hard deadline for the whole run,
only 127.0.0.1 is ever contacted.

    python benchmarks/load.py [--rate 200] [--duration 10] [--batch 1000] [--src DIR]

`--src` runs the server from another source tree (e.g. an older checkout's src/ for a
before/after figure); the generator and the checks always use this tree.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _loadgen import (
    HOST,
    TOKEN,
    batches,
    cpu_s,
    drain,
    free_port,
    get_pages,
    open_loop,
    pct,
    settle,
    wait_ready,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET_RATE, TARGET_P99_MS, TARGET_BATCH_MS = 200.0, 50.0, 300.0


def find_sdn(data: Path) -> Path | None:
    """The newest 2024 OFAC SDN sdn.csv (alt.csv/add.csv beside it are read when present)."""
    found = sorted((data / "sanctions-lists" / "ofac-sdn").glob("2024-*/sdn.csv"))
    return found[-1] if found else None


def sdn_names(sdn: Path, n: int, rnd: random.Random) -> list[str]:
    import csv

    with sdn.open(encoding="latin-1", newline="") as fh:
        names = [r[1] for r in csv.reader(fh) if len(r) > 3 and r[1] and r[2].strip() != "-0-"]
    return rnd.sample(names, min(n, len(names)))


_WORDS = [
    *("anka atlas bosphorus delta eurasia global kuzey marmara nova orion pamir silk steppe",),
    *("taurus trans vega yildiz altyn baikal caspian dniester ural volga zenit aral",),
]
_WORDS = " ".join(_WORDS).split()
_FORMS = ("Ltd. Şti.", "A.Ş.", "LLC", "GmbH", "\u041e\u041e\u041e", "TOO", "FZE", "")  # OOO


def _unique_name(i: int, rnd: random.Random) -> str:
    """A company name no other declaration of the run uses (syllables, then the index)."""
    syl = [
        "ka",
        "ro",
        "ta",
        "mi",
        "ne",
        "so",
        "lu",
        "va",
        "de",
        "ri",
        "po",
        "za",
        "te",
        "bo",
        "gu",
        "fe",
    ]
    word = "".join(rnd.choice(syl) for _ in range(3)).title()
    return f"{word} {''.join(syl[int(c)] for c in str(i))} {rnd.choice(_FORMS)}".strip()


def declarations(
    n: int, listed: list[str], rnd: random.Random, unique: bool = False
) -> list[dict[str, Any]]:
    """Varied declarations: CHPL and other goods, several routes, 1 in 10 parties listed,
    1 in 50 malformed (bad date or HS code), so every path of the screening runs. Parties
    come from a small vocabulary (real traffic repeats its traders), or with `unique` every
    unlisted party name differs (no party result can be reused)."""
    chpl = ["854231", "854232", "847330", "852691", "880730", "848210", "901380"]
    other = ["620342", "940540", "870323", "300490", "732690"]
    out = []
    for i in range(n):
        party = (
            rnd.choice(listed)
            if listed and rnd.random() < 0.1
            else _unique_name(2 * i, rnd)
            if unique
            else " ".join(rnd.sample(_WORDS, 2)).title() + " " + rnd.choice(_FORMS)
        )
        exporter = (
            _unique_name(2 * i + 1, rnd)
            if unique
            else " ".join(rnd.sample(_WORDS, 2)).title() + " Ltd. Şti."
        )
        d: dict[str, Any] = {
            "id": f"L{i}",
            "date": f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
            "exporter_name": exporter,
            "exporter_country": "TR",
            "consignee_name": party,
            "consignee_country": rnd.choice(["RU", "KZ", "AE", "GE", "AM", "KG"]),
            "origin_country": rnd.choice(["US", "DE", "CN", "TR", "JP"]),
            "destination_country": rnd.choice(["RU", "KZ", "AE", "GE", "AM", "BY"]),
            "hs_code": rnd.choice(chpl if rnd.random() < 0.5 else other) + rnd.choice(["", "0010"]),
            "value": rnd.randint(500, 200_000),
            "currency": "USD",
        }
        if rnd.random() < 0.02:
            d[rnd.choice(["date", "hs_code"])] = "not-valid"
        out.append(d)
    return out


# Every page the dashboard warms at start-up (web/dashboard/server.py `warm`): a page still
# being computed in the background during the load took its CPU from the screening (the
# detect page, ~2 s of CPU, was not waited for and ran during the measured load).
DASHBOARD_PAGES = ("/", "/hub", "/product", "/mirror", "/detect")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=TARGET_RATE, help="requests per second")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds of load (max 60)")
    ap.add_argument("--batch", type=int, default=1000, help="declarations per batch request")
    ap.add_argument("--batches", type=int, default=5, help="batch requests timed")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds per request")
    ap.add_argument("--drain", type=float, default=60.0, help="seconds to wait for a backlog")
    ap.add_argument("--connections", type=int, default=256, help="most open connections")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--src", type=Path, default=ROOT / "src", help="source tree of the server")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument(
        "--unique-parties", action="store_true", help="no party name repeats (no reuse)"
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a server setting, e.g. --set API_PARTY_CACHE=0 (TRANSSHIP_ is prefixed)",
    )
    args = ap.parse_args()
    if not 0 < args.duration <= 60 or not 0 < args.rate <= 2000:
        raise SystemExit("--duration must be in (0, 60] s and --rate in (0, 2000] per s")
    sdn = find_sdn(args.data)
    if sdn is None:
        print(f"skipped: no 2024 OFAC SDN sdn.csv under {args.data}/sanctions-lists/ofac-sdn")
        return
    sys.path.insert(0, str(ROOT / "src"))
    from transship.screening import load_lists, verify_audit

    rnd = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="transship-load-"))
    wh = tmp / "load.duckdb"
    try:
        loaded = load_lists(wh, "ofac-sdn", [sdn])
        n = int(args.rate * args.duration)
        listed = sdn_names(sdn, 300, rnd)
        singles = [
            json.dumps({"declaration": d}).encode() for d in declarations(n + 20, listed, rnd)
        ]
        batch_bodies = [
            json.dumps(
                {"declarations": declarations(args.batch, listed, rnd, args.unique_parties)}
            ).encode()
            for _ in range(args.batches)
        ]
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(args.src.resolve()),
            "TRANSSHIP_API_TOKENS": TOKEN,
            "TRANSSHIP_API_LISTS": "ofac-sdn",  # the setting before issue 12
            "TRANSSHIP_SCREENING_LISTS": "ofac-sdn",
            "TRANSSHIP_API_MAX_BATCH": str(max(1000, args.batch)),
            "TRANSSHIP_API_MAX_REQUEST_BYTES": str(max(1_000_000, *map(len, batch_bodies)) + 1),
            **{"TRANSSHIP_" + k.upper(): v for k, v in (x.split("=", 1) for x in args.set)},
        }
        cmd = [
            sys.executable,
            "-c",
            "from transship.cli import main; main()",
            "--warehouse",
            str(wh),
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
        ]
        log = (tmp / "serve.log").open("wb")
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(port, proc, time.monotonic() + 60)
            # The dashboard computes its default pages in the background at start-up; their
            # requests wait for that, so the load meets a settled server.
            t_warm = time.perf_counter()
            asyncio.run(get_pages(port, DASHBOARD_PAGES, 300))
            warmed_s = time.perf_counter() - t_warm
            # Warm-up (builds the list index, compiles the policy), not measured.
            warm = asyncio.run(open_loop(port, singles[n:], 20, 30, 4))
            if warm["status"].get("200", 0) != 20:
                raise SystemExit(f"warm-up failed: {warm['status']} (log {tmp / 'serve.log'})")
            settled_s = settle(proc.pid)
            load_before = os.getloadavg()
            cpu_before = cpu_s(proc.pid)
            _, health = asyncio.run(drain(port, args.drain))
            run = asyncio.run(
                open_loop(port, singles[:n], args.rate, args.timeout, args.connections)
            )
            drained, after = asyncio.run(drain(port, args.drain))
            run["commits"] = {
                k: after.get("audit_commits", {}).get(k, 0)
                - health.get("audit_commits", {}).get(k, 0)
                for k in ("commits", "records")
            }
            run["server_cpu_s"] = cpu_s(proc.pid) - cpu_before
            # A server still busy with a backlog cannot be timed on batches.
            cpu_batches = cpu_s(proc.pid)
            batch_ms = asyncio.run(batches(port, batch_bodies, 60)) if drained is not None else []
            run["batch_cpu_s"] = cpu_s(proc.pid) - cpu_batches
        finally:
            proc.send_signal(signal.SIGINT)  # a normal shutdown, as Ctrl-C would
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
        load_after = os.getloadavg()
        answered = len(warm["seqs"]) + len(run["seqs"]) + args.batch * len(batch_ms)
        copy = tmp / "copy.duckdb"
        shutil.copyfile(wh, copy)  # the file alone, as a backup would take it
        copied = verify_audit(copy)
        wal_left = (tmp / "load.duckdb.wal").exists()
        print(
            f"dashboard start-up pages computed in {warmed_s:.1f} s, server idle "
            f"{settled_s:.1f} s later (before the load)"
        )
        report(
            args,
            loaded,
            run,
            drained,
            batch_ms,
            answered,
            copied,
            wal_left,
            load_before,
            load_after,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(
    args: Any,
    loaded: Any,
    run: dict[str, Any],
    drained: float | None,
    batch_ms: list[float],
    answered: int,
    copied: Any,
    wal_left: bool,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
) -> None:
    lat, status = run["lat"], run["status"]
    sent = int(args.rate * args.duration)
    ok = status.get("200", 0)
    errors = sent - ok
    achieved = ok / max(run["send_s"], 1e-9)
    p50, p95, p99 = (pct(lat, q) for q in (0.50, 0.95, 0.99))
    print(f"list: ofac-sdn, {loaded.entities} entities, {loaded.names} names (2024 SDN)")
    print(
        f"server: {args.src}; settings {args.set or 'default'}; parties "
        f"{'all distinct' if args.unique_parties else 'from a small vocabulary (repeats)'}"
    )
    print(f"load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f} (1 min)")
    print(f"open loop: {sent} single-declaration requests scheduled at {args.rate:g}/s")
    print(f"  answered 200: {ok}; errors: {errors} {dict(sorted(status.items()))}")
    ratio = achieved / TARGET_RATE
    print(f"  achieved rate: {achieved:.1f}/s (ratio vs {TARGET_RATE:g}/s: {ratio:.2f})")
    if lat:
        print(
            f"  latency from scheduled send, ms: p50 {p50:.1f}  p95 {p95:.1f}  p99 {p99:.1f}  "
            f"max {max(lat):.1f}  (p99 ratio vs {TARGET_P99_MS:g} ms: {p99 / TARGET_P99_MS:.2f})"
        )
    cpu = run["server_cpu_s"]
    print(
        f"  server CPU during the load: {cpu:.1f} s, {cpu * 1000 / max(ok, 1):.1f} ms per answered "
        f"request (2 cores give {2 * max(ok, 1) / max(cpu, 1e-9):.0f} requests/s at this cost)"
    )
    print(
        f"  distinct audit seqs returned: {len(set(run['seqs']))} (== answered: "
        f"{len(set(run['seqs'])) == ok})"
    )
    commits = run["commits"]
    if commits["commits"]:
        print(
            f"  audit: {commits['records']} records in {commits['commits']} commits "
            f"({commits['records'] / commits['commits']:.1f} a commit)"
        )
    if drained is None:
        print(f"  server still busy {args.drain:g} s after the load (backlog); batches skipped")
    else:
        print(f"  server busy after the last response or timeout: {drained:.2f} s (backlog)")
    bm = sorted(batch_ms) or [float("nan")]
    print(
        f"batch of {args.batch}: median {bm[len(bm) // 2]:.0f} ms, max {bm[-1]:.0f} ms over "
        f"{len(bm)} (median ratio vs {TARGET_BATCH_MS:g} ms: "
        f"{bm[len(bm) // 2] / TARGET_BATCH_MS:.2f}); server CPU "
        f"{run['batch_cpu_s'] * 1000 / max(len(batch_ms), 1):.0f} ms a batch"
    )
    print(
        f"audit after shutdown, copy of the .duckdb alone: {copied.records} records "
        f"(answered {answered}: {'equal' if copied.records == answered else 'DIFFERENT'}), "
        f"verify {'intact' if copied.ok else 'BROKEN: ' + '; '.join(copied.problems[:3])}; "
        f".wal left: {wal_left}"
    )
    met = errors == 0 and lat and p99 <= TARGET_P99_MS and bm[len(bm) // 2] <= TARGET_BATCH_MS
    print("targets met" if met else "targets NOT met")


if __name__ == "__main__":
    main()
