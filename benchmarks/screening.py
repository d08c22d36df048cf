"""Screening benchmarks, measured in one run (2 shared cores; figures vary by machine).

1. rules only: declarations per second through validation + every rule of a policy + the
   combination step, vectorised in DuckDB (target >= 100,000/s); audit append measured apart.
2. party screening: names per second against a generated 50,000-entity list (target >= 1,000/s).
3. quality: precision and recall on the hand-written, labelled name-variant set in
   benchmarks/data/ (Cyrillic/Latin, Turkish, Armenian, Georgian, legal forms, typos, near
   misses), at the FLAG and BLOCK thresholds; and the same set scored by nomenklatura's
   logic-v2 when it is importable here or in the interpreter given by --nomenklatura-python.

    python benchmarks/screening.py [--declarations 1000000] [--entities 50000] [--queries 5000]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
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


def _variants() -> list[dict[str, str]]:
    with (DATA / "name_variants.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _pr(pred: list[str | None], gold: list[str | None]) -> dict[str, Any]:
    tp = sum(1 for p, g in zip(pred, gold, strict=True) if p is not None and p == g)
    fp = sum(1 for p, g in zip(pred, gold, strict=True) if p is not None and p != g)
    pos = sum(1 for g in gold if g)
    return {
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / pos, 3) if pos else None,
        "true_pos": tp,
        "false_pos": fp,
        "positives": pos,
    }


def bench_quality() -> dict[str, Any]:
    import duckdb

    from transship.screening.lists import load_list
    from transship.screening.matcher import Matcher, Thresholds

    con = duckdb.connect()
    load_list(con, "variants", [DATA / "name_variants_list.csv"], "csv")
    m = Matcher.from_warehouse(con, ["variants"])
    t = Thresholds()
    rows = _variants()
    gold = [r["expected"] or None for r in rows]
    best = []
    for r in rows:
        hits = m.screen(r["query"], r["country"] or None)
        best.append(hits[0] if hits else None)
    misses = [
        f"{r['query']!r} -> {b.entity_id if b else None} ({b.score if b else '-'}), "
        f"expected {r['expected'] or 'none'}"
        for r, b in zip(rows, best, strict=True)
        if (b.entity_id if b and b.score >= t.flag else None) != (r["expected"] or None)
    ]
    return {
        "set": f"{len(rows)} queries, {sum(1 for g in gold if g)} true variants",
        "flag": _pr([b.entity_id if b else None for b in best], gold),
        "block": _pr([b.entity_id if b and b.score >= t.block else None for b in best], gold),
        "errors_at_flag": misses,
    }


NK_SCRIPT = r"""
import csv, json, sys
from followthemoney import model
from nomenklatura.matching import get_algorithm
from nomenklatura.matching.types import ScoringConfig
data = sys.argv[1]
algo = get_algorithm("logic-v2")
config = ScoringConfig.defaults()
def ent(i, schema, names, country):
    e = model.make_entity(schema); e.id = i
    e.add("name", names)
    if country: e.add("country", country.lower()[:2] if len(country) == 2 else country)
    return e
cands = []
for r in csv.DictReader(open(data + "/name_variants_list.csv", encoding="utf-8")):
    names = [r["name"]] + [a for a in r["aliases"].split(";") if a]
    schema = "Person" if "," in r["name"] else "LegalEntity"
    cands.append(ent(r["id"], schema, names, r["country"]))
iso3 = {"RUS":"ru","TUR":"tr","ARM":"am","GEO":"ge","ARE":"ae","HKG":"hk","KAZ":"kz","CHN":"cn",
        "DEU":"de","UZB":"uz","KGZ":"kg","AZE":"az","GBR":"gb","USA":"us"}
out = []
for i, r in enumerate(csv.DictReader(open(data + "/name_variants.csv", encoding="utf-8"))):
    q = ent(f"q{i}", "LegalEntity", [r["query"]], iso3.get(r["country"], ""))
    best = max(((algo.compare(q, c, config).score, c.id) for c in cands), default=(0, None))
    out.append([best[1], best[0]])
print(json.dumps(out))
"""


def bench_nomenklatura(python: str | None) -> dict[str, Any]:
    exe = python or sys.executable
    try:
        proc = subprocess.run(
            [exe, "-c", NK_SCRIPT, str(DATA)], capture_output=True, text=True, timeout=600
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return {"available": False, "reason": str(e)}
    if proc.returncode != 0:
        return {"available": False, "reason": proc.stderr.strip().splitlines()[-1:]}
    scored = json.loads(proc.stdout)
    gold = [r["expected"] or None for r in _variants()]
    out: dict[str, Any] = {"available": True, "python": exe}
    for threshold in (0.5, 0.7):
        pred = [ent if score >= threshold else None for ent, score in scored]
        out[f"threshold_{threshold}"] = _pr(pred, gold)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--declarations", type=int, default=1_000_000)
    ap.add_argument("--entities", type=int, default=50_000)
    ap.add_argument("--queries", type=int, default=5_000)
    ap.add_argument("--nomenklatura-python", help="interpreter with nomenklatura installed")
    a = ap.parse_args()
    report = {
        "rules_only": bench_rules(a.declarations),
        "party_screening": bench_parties(a.entities, a.queries),
        "quality_transship": bench_quality(),
        "quality_nomenklatura_logic_v2": bench_nomenklatura(a.nomenklatura_python),
    }
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
