"""Screening benchmarks, measured in one run (2 shared cores; figures vary by machine).

1. rules only: declarations per second through validation + every rule of a policy + the
   combination step, vectorised in DuckDB (target >= 100,000/s); audit append measured apart.
2. party screening: names per second against a generated 50,000-entity list (target >= 1,000/s).
3. matching (benchmarks/_matching.py): per development set and split (benchmarks/devsets.py)
   precision/recall/F1 at FLAG and BLOCK, recall at FLAG of perturbed listed names and the
   false-alarm rate of near misses against the real OFAC SDN + OpenSanctions lists,
   cross-script recall, `transship screen` end to end on a 10k-declaration file, names/s
   against a generated 1M-name list with peak memory, and nomenklatura's logic-v2 on the same
   pairs (--nomenklatura-python, a throwaway venv).

    python benchmarks/screening.py [--declarations 1000000] [--million 1000000]
        [--nomenklatura-python /tmp/nk-venv/bin/python] [--skip-rules]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"


def _declarations(n: int, seed: int = 7) -> Any:
    import pyarrow as pa

    from transship.reference import chpl

    rnd = random.Random(seed)
    chpl_codes = [i.hs6 for i in chpl()]
    other = ["847130", "940540", "620342", "870323", "300490", "851830", "732690"]
    countries = ["USA", "DEU", "FRA", "CHN", "TUR", "RUS", "KAZ", "ARE", "GEO", "ARM", "BLR"]
    codes = [
        (rnd.choice(chpl_codes) if rnd.random() < 0.4 else rnd.choice(other))
        + rnd.choice(["", "00", "0010", "001099"])
        for _ in range(min(n, 100_000))
    ]
    k = len(codes)
    col = {
        "id": [f"D{i}" for i in range(n)],
        "date": [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(n)],
        "origin_country": [countries[(i * 7) % len(countries)] for i in range(n)],
        "destination_country": [countries[(i * 3 + 5) % len(countries)] for i in range(n)],
        "exporter_country": ["TUR"] * n,
        "hs_code": [codes[i % k] for i in range(n)],
        "value": [str(1000 + i % 50_000) for i in range(n)],
        "currency": ["USD"] * n,
    }
    return pa.table({c: pa.array(v, pa.string()) for c, v in col.items()})


def bench_rules(n: int) -> dict[str, Any]:
    import duckdb

    from transship.screening import audit
    from transship.screening.declarations import conform
    from transship.screening.engine import screen_table
    from transship.screening.policies import all_policies

    table = conform(_declarations(n))
    out: dict[str, Any] = {"declarations": n}
    for pol in all_policies():
        t0 = time.perf_counter()
        r = screen_table(table, pol)
        dt = time.perf_counter() - t0
        out[pol.id] = {"per_s": round(n / dt), "seconds": round(dt, 2), "decisions": r.counts}
    con = duckdb.connect()
    t0 = time.perf_counter()
    audit.append(con, r, table, "benchmark")
    dt = time.perf_counter() - t0
    out["audit_append_per_s"] = round(n / dt)
    return out


_SYL = [
    "ka", "ro", "ma", "shi", "tek", "no", "lo", "gi", "vo", "za", "pro", "mash", "sib", "al",
    "tyn", "ser", "gei", "ura", "lan", "der", "bel", "ost", "nov", "grad", "mir", "ton", "el",
    "ekt", "ron", "vik", "tor", "kom", "plekt", "sna", "bin", "dus", "tri", "ya", "cha", "zhe",
]  # fmt: skip
_WORDS = ["Trading", "Logistics", "Electronics", "Systems", "Industrial", "Group", "Import"]
_FORMS = ["LLC", "OOO", "JSC", "Ltd.", "Ltd. Şti.", "A.Ş.", "GmbH", "FZE", "TOO", "MChJ", ""]
_CTRY = ["RU", "TR", "AE", "HK", "CN", "KZ", "AM", "GE", "UZ", "KG", "BY", "IR"]


def _word(rnd: random.Random) -> str:
    return "".join(rnd.choice(_SYL) for _ in range(rnd.randint(2, 4))).capitalize()


def _entity_name(rnd: random.Random) -> str:
    parts = [_word(rnd) for _ in range(rnd.randint(1, 2))]
    if rnd.random() < 0.6:
        parts.append(rnd.choice(_WORDS))
    return " ".join([*parts, rnd.choice(_FORMS)]).strip()


def _variant(name: str, rnd: random.Random) -> str:
    words = name.split()
    i = rnd.randrange(len(words))
    w = words[i]
    if len(w) > 4:
        j = rnd.randrange(1, len(w) - 1)
        w = w[:j] + w[j + 1 :]  # drop a letter
    words[i] = w
    words[-1] = rnd.choice(_FORMS) or words[-1]
    return " ".join(words)


def bench_parties(entities: int, queries: int) -> dict[str, Any]:
    import duckdb

    from transship.screening.lists import load_list
    from transship.screening.matcher import Matcher

    rnd = random.Random(11)
    names = [_entity_name(rnd) for _ in range(entities)]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "generated.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["id", "name", "aliases", "country"])
            for i, n in enumerate(names):
                alias = _variant(n, rnd) if rnd.random() < 0.3 else ""
                w.writerow([f"g{i}", n, alias, rnd.choice(_CTRY)])
        con = duckdb.connect()
        t0 = time.perf_counter()
        loaded = load_list(con, "generated", [path], "csv")
        load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    m = Matcher.from_warehouse(con, ["generated"])
    index_s = time.perf_counter() - t0
    qs = [
        (_variant(rnd.choice(names), rnd) if rnd.random() < 0.3 else _entity_name(rnd))
        for _ in range(queries)
    ]
    t0 = time.perf_counter()
    hits = sum(1 for q in qs if m.screen(q, "RUS"))
    dt = time.perf_counter() - t0
    return {
        "entities": loaded.entities,
        "names_indexed": loaded.names,
        "load_seconds": round(load_s, 1),
        "index_seconds": round(index_s, 1),
        "queries": queries,
        "names_per_s": round(queries / dt),
        "queries_with_hits": hits,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--declarations", type=int, default=1_000_000)
    ap.add_argument("--entities", type=int, default=50_000)
    ap.add_argument("--queries", type=int, default=5_000)
    ap.add_argument("--million", type=int, default=1_000_000, help="generated list size (0: skip)")
    ap.add_argument("--e2e-declarations", type=int, default=10_000)
    ap.add_argument("--skip-rules", action="store_true")
    ap.add_argument("--nomenklatura-python", help="interpreter with nomenklatura installed")
    a = ap.parse_args()
    sys.path.insert(0, str(HERE))
    import _matching

    report = {
        "rules_only": "skipped" if a.skip_rules else bench_rules(a.declarations),
        "party_screening_generated_50k": bench_parties(a.entities, a.queries),
        "matching": _matching.run(a.nomenklatura_python, a.million, a.e2e_declarations),
    }
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
