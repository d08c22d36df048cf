"""Detection quality on SYNTHETIC scenario sets, several seeds, tuning and hold-out apart.

    python benchmarks/detection.py --set benchmarks/scenarios/tuning-mys-tjk.yaml \
        --holdout benchmarks/scenarios/holdout-sgp-vnm.yaml --seed 3 --seed 5 --seed 7 \
        --workdir /tmp/detection --out detection.json

Each (set, seed) is generated once into `--workdir` (reused when present), then every
`detect` detector is scored (`--detector` to choose; `detect:NAME` also runs one that is off
by default), and the `detect` triage table is checked: which injected schemes have a finding
in its top 20, and the share of those rows matching no label.

Output (`--out`): a JSON object with
- `rows`: one per (set, seed, detector, kind) -- `recall`, `precision`, `scenarios_found`,
  `scenarios_total`, `months_to_detect`, ... (numbers) -- plus a `detector = "detect:top20"`
  row per warehouse;
- `summary`: the same pooled over the seeds of each set and over each group (`tuning`: the
  `--set` files; `holdout`: the `--holdout` files, reported apart and never used to choose
  defaults): recall = found / truth units, precision = matched / predicted, summed over
  warehouses; the median of every found scenario's months to detect;
- `best`: per group and kind, the detector with the highest recall at precision >= 0.8
  (else the highest F1), against the issue's targets;
- `inert`: scenarios that changed no trade for a seed (no labels, not counted).
Prints a compact table. Bounded: one warehouse build is ~10-30 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

TARGET_RECALL = 0.8
TARGET_PRECISION = 0.8


def build(spec: str, seed: int, workdir: Path) -> tuple[Path, list[str]]:
    from transship.sources.synthetic import SyntheticTrade
    from transship.warehouse import Warehouse

    name = Path(spec).stem if spec != "default" else "default"
    db = workdir / f"{name}-s{seed}.duckdb"
    inert_file = db.with_suffix(".inert.json")
    if not db.exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # recorded in `inert` instead
            src = SyntheticTrade(seed=seed, scenarios=spec)
            w = Warehouse(db)
            w.ingest(src)
            w.close()
        inert_file.write_text(json.dumps(src.inert), encoding="utf-8")
    inert = json.loads(inert_file.read_text()) if inert_file.exists() else []
    return db, inert


def run_one(spec: str, seed: int, workdir: Path, detectors: list[str] | None) -> tuple[
        list[dict[str, Any]], list[str]]:  # fmt: skip
    from transship.evaluation import detectors_named, evaluate, read_labels, triage_scores
    from transship.warehouse import Warehouse

    name = Path(spec).stem if spec != "default" else "default"
    db, inert = build(spec, seed, workdir)
    w = Warehouse(db, read_only=True)
    con = w.ibis()
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    from transship.analysis.detect import detect, make_detectors
    from transship.evaluation import FindingsDetector, finding_prediction, score

    # one `detect` run feeds every detector's score and the triage table (as an analyst runs
    # it); --detector names other evaluation detectors, run on their own
    labels = read_labels(con)
    names = [d.name for d in make_detectors()]
    res = detect(con)
    for n in names:
        fd = FindingsDetector(n)
        preds = [finding_prediction(f) for f in res.findings if f.detector == n]
        rows += [{"set": name, "seed": seed, **r} for r in score(fd, preds, labels)]
    if detectors:
        ev = evaluate(con, detectors_named(detectors))
        rows += [{"set": name, "seed": seed, **r} for r in ev.rows]
    tri = triage_scores(con, labels, result=res)
    w.close()
    rows.append({"set": name, "seed": seed, "detector": "detect:top20", "kind": "all",
                 "recall": round(tri["schemes_in_top"] / tri["schemes_total"], 3),
                 "precision": None if tri["false_share"] is None
                 else round(1 - tri["false_share"], 3),
                 "truth_units": tri["schemes_total"], "found": tri["schemes_in_top"],
                 "predicted": tri["rows"], "matched": tri["rows"] - tri["false_findings"],
                 "scenarios_found": tri["schemes_in_top"],
                 "scenarios_total": tri["schemes_total"],
                 "median_months_to_detect": tri["median_months_to_detect"],
                 "months_to_detect": tri["months_to_detect"],
                 "missed": tri["missed"], "false_findings": tri["false_findings"],
                 "false_rows": tri["false_rows"],
                 "detect_seconds": tri["seconds"],
                 "seconds": round(time.perf_counter() - t0, 1)})  # fmt: skip
    return rows, inert


def pool(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Several warehouses' rows of one detector and kind, pooled (sums, then ratios)."""
    rows = list(rows)
    truth = sum(r["truth_units"] for r in rows)
    found = sum(r["found"] for r in rows)
    predicted = sum(r["predicted"] for r in rows)
    matched = sum(r["matched"] for r in rows)
    months = sorted(m for r in rows for m in r.get("months_to_detect") or [])
    return {
        "warehouses": len(rows),
        "truth_units": truth,
        "found": found,
        "recall": round(found / truth, 3) if truth else None,
        "predicted": predicted,
        "matched": matched,
        "precision": round(matched / predicted, 3) if predicted else (0.0 if truth else None),
        "scenarios_found": sum(r["scenarios_found"] for r in rows),
        "scenarios_total": sum(r["scenarios_total"] for r in rows),
        "median_months_to_detect": statistics.median(months) if months else None,
    }


def summarise(rows: list[dict[str, Any]], groups: dict[str, list[str]]) -> list[dict[str, Any]]:
    out = []
    for group, sets in groups.items():
        for label, members in [(group, sets)] + [(s, [s]) for s in sets]:
            mine = [r for r in rows if r["set"] in members]
            for det, kind in sorted({(r["detector"], r["kind"]) for r in mine}):
                sel = [r for r in mine if r["detector"] == det and r["kind"] == kind
                       and r["truth_units"]]  # fmt: skip
                if sel:
                    out.append({"group": group, "set": label, "detector": det, "kind": kind,
                                **pool(sel)})  # fmt: skip
    return out


def best(summary: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per group-level set and kind: the best detector (recall at precision >= 0.8, else F1)."""
    out = []
    for group, label, kind in sorted({(r["group"], r["set"], r["kind"]) for r in summary}):
        cands = [r for r in summary if (r["group"], r["set"], r["kind"]) == (group, label, kind)
                 and r["detector"] != "detect:top20" and kind != "all"]  # fmt: skip
        if not cands:
            continue

        def key(r: dict[str, Any]) -> tuple[bool, float]:
            rec, pre = r["recall"] or 0.0, r["precision"] or 0.0
            f1 = 2 * rec * pre / (rec + pre) if rec + pre else 0.0
            return (pre >= TARGET_PRECISION, rec if pre >= TARGET_PRECISION else f1)

        b = max(cands, key=key)
        met = (b["recall"] or 0) >= TARGET_RECALL and (b["precision"] or 0) >= TARGET_PRECISION
        out.append({"group": group, "set": label, "kind": kind, "detector": b["detector"],
                    "recall": b["recall"], "precision": b["precision"],
                    "scenarios_found": b["scenarios_found"],
                    "scenarios_total": b["scenarios_total"],
                    "median_months_to_detect": b["median_months_to_detect"],
                    "target_met": met})  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--set",
        action="append",
        dest="sets",
        default=[],
        help="scenario file (or 'default') of the tuning group",
    )
    ap.add_argument(
        "--holdout",
        action="append",
        dest="holdouts",
        default=[],
        help="scenario file of the hold-out group (reported apart)",
    )
    ap.add_argument("--seed", action="append", type=int, dest="seeds")
    ap.add_argument("--detector", action="append", dest="detectors")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/transship-detection"))
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    a.workdir.mkdir(parents=True, exist_ok=True)
    specs = [*a.sets, *a.holdouts] or ["default"]
    rows: list[dict[str, Any]] = []
    inert: list[dict[str, Any]] = []
    for spec in specs:
        for seed in a.seeds or [3]:
            r, idle = run_one(spec, seed, a.workdir, a.detectors)
            rows += r
            if a.out:  # progress, in case a long run is stopped
                partial = {"synthetic": True, "partial": True, "rows": rows}
                a.out.write_text(json.dumps(partial, default=str), encoding="utf-8")
            name = Path(spec).stem if spec != "default" else "default"
            inert += [{"set": name, "seed": seed, "scenario": s} for s in idle]
    stem = [Path(s).stem if s != "default" else "default" for s in specs]
    n_tuning = len(a.sets) if (a.sets or a.holdouts) else len(stem)  # no flag: `default`
    groups = {"tuning": stem[:n_tuning], "holdout": stem[n_tuning:]}
    groups = {g: v for g, v in groups.items() if v}
    summary = summarise(rows, groups)
    result = {"synthetic": True, "seeds": a.seeds or [3], "groups": groups, "rows": rows,
              "summary": summary, "best": best(summary), "inert": inert}  # fmt: skip
    if a.out:
        a.out.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    print("SYNTHETIC scenario sets; pooled over seeds", a.seeds or [3])
    for r in summary:
        if r["kind"] == "all" and r["detector"] != "detect:top20":
            continue
        print(f"{r['group']:<8} {r['set']:<18} {r['detector']:<20} {r['kind']:<16} "
              f"R {r['recall']} P {r['precision']} "
              f"{r['scenarios_found']}/{r['scenarios_total']} "
              f"t {r['median_months_to_detect']}")  # fmt: skip
    print("best detector per kind (targets: recall and precision >= 0.8)")
    for b in best(summary):
        print(f"{b['group']:<8} {b['set']:<18} {b['kind']:<16} {b['detector']:<20} "
              f"R {b['recall']} P {b['precision']} {b['scenarios_found']}/"
              f"{b['scenarios_total']} t {b['median_months_to_detect']} "
              f"{'met' if b['target_met'] else 'NOT met'}")  # fmt: skip
    for i in inert:
        print(f"inert (changed no trade): {i['set']} seed {i['seed']}: {i['scenario']}")


if __name__ == "__main__":
    main()
