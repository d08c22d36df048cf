"""Detection quality on SYNTHETIC scenario sets, several seeds, tuning and hold-out apart.

    python benchmarks/detection.py --set default --set benchmarks/scenarios/holdout-tha-srb.yaml \
        --seed 3 --seed 5 --workdir /tmp/detection --out detection.json

Each (set, seed) is generated once into `--workdir` (reused when present), then every
detector of `transship evaluate` is scored, and the `detect` triage table is checked: which
injected schemes have a finding in its top 20, and the share of those rows matching no label.
Output: a JSON list of rows (`set`, `seed`, `detector`, `kind`, `recall`, `precision`,
`scenarios_found`, `scenarios_total`, ...), plus one `detector = "detect:top20"` row per
warehouse. Prints a compact table. Bounded: one warehouse build is ~10-30 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any


def run(sets: list[str], seeds: list[int], workdir: Path, detectors: list[str] | None) -> list[
        dict[str, Any]]:  # fmt: skip
    from transship.evaluation import detectors_named, evaluate, read_labels, triage_scores
    from transship.sources.synthetic import SyntheticTrade
    from transship.warehouse import Warehouse

    workdir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for spec in sets:
        name = Path(spec).stem if spec != "default" else "default"
        for seed in seeds:
            db = workdir / f"{name}-s{seed}.duckdb"
            if not db.exists():
                w = Warehouse(db)
                w.ingest(SyntheticTrade(seed=seed, scenarios=spec))
                w.close()
            w = Warehouse(db, read_only=True)
            con = w.ibis()
            t0 = time.perf_counter()
            ev = evaluate(con, detectors_named(detectors))
            for r in ev.rows:
                rows.append({"set": name, "seed": seed, **r})
            tri = triage_scores(con, read_labels(con))
            rows.append({"set": name, "seed": seed, "detector": "detect:top20", "kind": "all",
                         "recall": round(tri["schemes_in_top"] / tri["schemes_total"], 3),
                         "precision": None if tri["false_share"] is None
                         else round(1 - tri["false_share"], 3),
                         "scenarios_found": tri["schemes_in_top"],
                         "scenarios_total": tri["schemes_total"],
                         "median_months_to_detect": tri["median_months_to_detect"],
                         "missed": tri["missed"], "false_findings": tri["false_findings"],
                         "detect_seconds": tri["seconds"],
                         "seconds": round(time.perf_counter() - t0, 1)})  # fmt: skip
            w.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", action="append", dest="sets", help="scenario file or 'default'")
    ap.add_argument("--seed", action="append", type=int, dest="seeds")
    ap.add_argument("--detector", action="append", dest="detectors")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/transship-detection"))
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    rows = run(a.sets or ["default"], a.seeds or [3], a.workdir, a.detectors)
    text = json.dumps(rows, indent=1, default=str)
    if a.out:
        a.out.write_text(text + "\n", encoding="utf-8")
    for r in rows:
        if r["recall"] is None:
            continue
        print(f"{r['set']:<18} {r['seed']:>3} {r['detector']:<22} {r['kind']:<16} "
              f"R {r['recall']:.2f} P {r['precision'] if r['precision'] is not None else '-'} "
              f"{r['scenarios_found']}/{r['scenarios_total']} "
              f"t {r.get('median_months_to_detect')}")  # fmt: skip


if __name__ == "__main__":
    main()
