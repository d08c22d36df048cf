"""Re-screening speed: a 100k-party history against a 1,000-entity list delta.

Builds a warehouse under /tmp: list version 1 (5,000 generated entities), 100,000 audited
declarations with distinct generated parties (200 of them spelling variants of entities the
next version adds), then version 2 (800 entities added, 200 changed), and times
`rescreen` — the party table update (each new name normalised once) and the re-screen
itself — against screening every party one by one with the same delta matcher (measured on a
sample and scaled). Prints the figures of one run.

    python benchmarks/rescreen.py [--parties 100000] [--delta 1000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

# 90 consonant-vowel syllables, 2-3 a word: ~740k words, so unrelated names rarely share one.
SYL = tuple(c + v for c in "bcdfghklmnprstvzjw" for v in "aeiou")
FORMS = ("LLC", "Ltd", "OOO", "A.S.", "GmbH", "JSC", "Trading", "Group", "")


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYL) for _ in range(rng.randint(2, 3))).capitalize()


def name(rng: random.Random) -> str:
    return " ".join(word(rng) for _ in range(rng.randint(2, 3))) + " " + rng.choice(FORMS)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parties", type=int, default=100_000)
    ap.add_argument("--delta", type=int, default=1_000)
    args = ap.parse_args()
    import pyarrow as pa

    from transship.screening import (
        alerts,
        audit,
        listdiff,
        load_lists,
        thresholds_from_settings,
        versions,
    )
    from transship.screening import parties as ps
    from transship.screening import rescreen as rs
    from transship.screening.matcher import Matcher
    from transship.warehouse import Warehouse

    rng = random.Random(7)
    tmp = Path(tempfile.mkdtemp(prefix="transship-rescreen-"))
    wh = tmp / "w.duckdb"
    base = [(f"e{i}", name(rng).strip()) for i in range(5_000)]
    added = [(f"n{i}", name(rng).strip()) for i in range(int(args.delta * 0.8))]
    changed = {e for e, _ in base[: args.delta - len(added)]}

    def write(path: Path, rows: list[tuple[str, str, str]]) -> Path:
        path.write_text(
            "id,name,aliases,country\n" + "".join(f'{i},"{n}","{a}",RU\n' for i, n, a in rows),
            encoding="utf-8",
        )
        return path

    v1 = write(tmp / "v1.csv", [(e, n, "") for e, n in base])
    v2 = write(
        tmp / "v2.csv",
        [(e, n, f"{n} Holding" if e in changed else "") for e, n in base]
        + [(e, n, "") for e, n in added],
    )
    load_lists(wh, "gen", [v1])
    # the history: distinct parties, 200 of them variants of names version 2 adds
    parties = {name(rng).strip() for _ in range(args.parties + 1000)}
    variants = [n.replace("a", "aa", 1) for _, n in added[:200]]
    history = [*variants, *sorted(parties)[: args.parties - len(variants)]]

    class _Result:
        policy, lists, policy_sha256 = "tr-customs-2024", ["gen"], ""
        list_versions: list[dict[str, object]] = []  # noqa: RUF012  (one instance)

    r = _Result()
    n = len(history)
    r.table = pa.table(
        {
            "id": pa.array([f"d{i}" for i in range(n)]),
            "decision": pa.array(["ALLOW"] * n),
            "rules": pa.nulls(n, pa.string()),
            "hits": pa.nulls(n, pa.string()),
            "error": pa.nulls(n, pa.string()),
        }
    )
    decls = pa.table(
        {
            "id": pa.array([f"d{i}" for i in range(n)]),
            "consignee_name": pa.array(history),
            "consignee_country": pa.array(["RU"] * n),
        }
    )
    with Warehouse(wh) as w:
        r.list_versions = versions.audit_entries(list(versions.current(w.con, ["gen"]).values()))
        audit.append_many(w.con, [(r, decls, "batch:history")])
    load_lists(wh, "gen", [v2])
    with Warehouse(wh) as w:
        w.con.execute("SET enable_progress_bar = false")
        t = time.perf_counter()
        ps.update_parties(w.con)
        alerts.sync(w.con)
        t_parties = time.perf_counter() - t
    import shutil

    runs = {}
    for cut in (60.0, 70.0):  # the default, and a stricter pre-score, each on a copy
        copy = tmp / f"w{cut:.0f}.duckdb"
        shutil.copy(wh, copy)
        with Warehouse(copy) as w:
            w.con.execute("SET enable_progress_bar = false")
            t = time.perf_counter()
            rep = rs.rescreen(w.con, prescore=cut)
            runs[cut] = (time.perf_counter() - t, rep.lists[0])
    with Warehouse(wh) as w:
        cur = versions.current(w.con, ["gen"])["gen"]
        ids = listdiff.changed_ids(w.con, "gen", 1, cur.version)
        delta = set(ids["added"] + ids["changed"])
        rows = [x for x in versions.matcher_rows(w.con, [cur]) if x[1] in delta]
    t_rescreen, x = runs[60.0]
    m = Matcher.from_rows(rows, thresholds_from_settings())
    sample = rng.sample(history, 500)
    t = time.perf_counter()
    for p in sample:
        m.screen(p, "RUS")
    per_party = (time.perf_counter() - t) / len(sample)
    full = per_party * n
    print(f"history: {n:,} parties; delta: {x.entities:,} entities ({len(ids['added'])} added, "
          f"{len(ids['changed'])} changed)")  # fmt: skip
    print(f"party table update (first time, every name normalised): {t_parties:.2f} s")
    for cut, (secs, y) in runs.items():
        print(f"rescreen (pre-score {cut:.0f}): {secs:.2f} s; parties screened by the matcher "
              f"{y.candidates:,} ({y.candidates / n:.1%}); new hits {y.hits}; new alerts "
              f"{y.alerts}")  # fmt: skip
    print(f"screening every party instead: {per_party * 1000:.2f} ms a party, ~{full:.0f} s "
          f"(estimated from 500); rescreen (60) is {full / t_rescreen:.0f}x faster")  # fmt: skip


if __name__ == "__main__":
    main()
