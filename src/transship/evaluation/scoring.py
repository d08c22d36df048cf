"""Scores per detector and scenario kind, the warehouse's labels, and the `detect` triage
table against them."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from transship.errors import UsageError
from transship.evaluation.base import RESOLUTION_MONTHS, Detector, Label, Prediction, Unit
from transship.evaluation.detectors import HubsDetector, default_detectors, finding_prediction
from transship.periods import add_months, months_between
from transship.sources.scenarios import base as role


# -- scoring -----------------------------------------------------------------------------------
@dataclass
class Evaluation:
    """Scores per detector and scenario kind (plus an `all` row per detector)."""

    rows: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    synthetic: bool = True
    params: dict[str, Any] = field(default_factory=dict)

    def to_pyarrow(self) -> Any:
        import pyarrow as pa

        return pa.Table.from_pylist(self.rows)

    def score(self, detector: str, kind: str = "all") -> dict[str, Any]:
        for r in self.rows:
            if r["detector"] == detector and r["kind"] == kind:
                return r
        raise KeyError((detector, kind))


def score(
    detector: Detector, predictions: Iterable[Prediction], labels: Sequence[Label]
) -> list[dict[str, Any]]:
    """Precision, recall, scenarios found and time to detect, per kind and overall."""
    first_seen: dict[Unit, list[date | None]] = {}
    for p in predictions:
        first_seen.setdefault(tuple(p.unit), []).append(p.period)
    starts: dict[str, date] = {}
    kind_of: dict[str, str] = {}
    any_kind: dict[Unit, set[str]] = {}  # unit -> kinds of every label it describes
    truth: dict[str, dict[Unit, set[str]]] = {}  # kind -> truth unit -> scenarios
    for lab in labels:
        sid = lab["scenario"]
        starts[sid] = min(starts.get(sid, lab["period_start"]), lab["period_start"])
        kind_of[sid] = lab["kind"]
        u = detector.unit(lab)
        if u is None:
            continue
        any_kind.setdefault(u, set()).add(lab["kind"])
        if lab["role"] in detector.roles:
            truth.setdefault(lab["kind"], {}).setdefault(u, set()).add(sid)
    false_pos = sum(1 for u in first_seen if u not in any_kind)
    kinds = sorted(set(kind_of.values()))
    rows = []
    for kind in [*kinds, "all"]:
        units: dict[Unit, set[str]] = {}
        for k in truth if kind == "all" else [kind]:
            for u, s in truth.get(k, {}).items():
                units.setdefault(u, set()).update(s)
        found = [u for u in units if u in first_seen]
        matched = sum(
            1 for u in first_seen if u in any_kind and (kind == "all" or kind in any_kind[u])
        )
        predicted = matched + false_pos
        scenarios = sorted({s for ss in units.values() for s in ss})
        delays: dict[str, int] = {}
        for u in found:
            for sid in units[u]:
                early = add_months(starts[sid], -RESOLUTION_MONTHS)
                later = [p for p in first_seen[u] if p is not None and p >= early]
                if later:
                    d = max(0, months_between(starts[sid], min(later)))
                    delays[sid] = min(delays.get(sid, d), d)
        detected = sorted({s for u in found for s in units[u]})
        rows.append(
            {
                "detector": detector.name,
                "kind": kind,
                "truth_units": len(units),
                "found": len(found),
                "recall": round(len(found) / len(units), 3) if units else None,
                "predicted": predicted,
                # no truth of this kind for this detector: its precision says nothing
                "precision": (round(matched / predicted, 3) if predicted else 0.0)
                if units
                else None,
                "matched": matched,
                "scenarios_found": len(detected),
                "scenarios_total": len(scenarios),
                "median_months_to_detect": (statistics.median(delays.values()) if delays else None),
                # per found scenario, so that several warehouses pool into one median
                "months_to_detect": sorted(delays.values()),
            }
        )
    return rows


def read_labels(con: Any) -> list[dict[str, Any]]:
    """The warehouse's scenario labels, checked to belong to its synthetic rows."""
    try:
        table = con.table("scenario_labels")
    except Exception:  # each backend raises its own "table not found"
        table = None
    labels: list[dict[str, Any]] = [] if table is None else table.to_pyarrow().to_pylist()
    if not labels:
        raise UsageError(
            "this warehouse has no scenario labels; build one with `transship demo` or "
            "`transship ingest synthetic`"
        )
    t = con.table("trade_flows")
    t = t.filter(t.source == "synthetic")
    batches = set(t.select("batch_id").distinct().to_pyarrow().column(0).to_pylist())
    labelled = {lab["batch_id"] for lab in labels}
    if batches != labelled:
        raise UsageError(
            f"the synthetic rows come from batches {sorted(batches)} but the labels from "
            f"{sorted(labelled)}; evaluate a warehouse holding one labelled synthetic ingest"
        )
    return labels


def evaluate(
    con: Any,
    detectors: Sequence[Detector] | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    """Run each detector over the warehouse and score it against `scenario_labels`."""
    labels = read_labels(con)
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    chosen = list(detectors) if detectors is not None else default_detectors()
    for d in chosen:
        if progress:
            progress(d.name)
        rows.extend(score(d, d.predict(con), labels))
    scen = sorted({(lab["kind"], lab["scenario"]) for lab in labels})
    notes.append(
        f"{len(scen)} scenarios ({', '.join(s for _, s in scen)}); "
        f"{len(labels)} label rows from batch {labels[0]['batch_id']}"
    )
    return Evaluation(
        rows=rows,
        notes=notes,
        synthetic=True,
        params={"detectors": {d.name: dict(d.parameters) for d in chosen}},
    )


def triage_scores(
    con: Any, labels: Sequence[Label], top: int = 20, result: Any = None
) -> dict[str, Any]:
    """The `detect` triage table against the labels: how many injected schemes have a row
    in its top `top` rows, and the share of those rows that match no label (false findings).

    A row (one per subject: `transship.analysis.detect.triage`) matches a scheme when the
    unit of its own finding (country for hubs and blocks, exporter->importer otherwise) is a
    unit of one of the scheme's label rows (any role); the findings under its `also` do not
    count."""
    from transship.analysis.detect import detect

    r = result if result is not None else detect(con)  # a `DetectResult` already run
    rows = r.table[:top]
    by_unit: dict[Unit, set[str]] = {}
    starts: dict[str, date] = {}
    for lab in labels:
        sid = lab["scenario"]
        starts[sid] = min(starts.get(sid, lab["period_start"]), lab["period_start"])
        if lab["role"] == role.DIRECT_CUT:  # the origin's lost direct trade: not a scheme's trace
            continue
        by_unit.setdefault((lab["exporter"], lab["importer"]), set()).add(sid)
        h = HubsDetector().unit(lab)
        if h is not None:
            by_unit.setdefault(h, set()).add(sid)
    found: dict[str, date | None] = {}
    false = 0
    false_rows: list[str] = []
    for f in rows:
        u = finding_prediction(f).unit
        sids = by_unit.get(u, set())
        if not sids:
            false += 1
            false_rows.append(f"{f.detector}: {f.where}")
        for sid in sids:
            if f.since is not None and f.since >= add_months(starts[sid], -RESOLUTION_MONTHS):
                at = max(f.since, starts[sid])
                prev = found.get(sid)
                found[sid] = at if prev is None else min(prev, at)
            else:
                found.setdefault(sid, None)
    delays = [months_between(starts[s], d) for s, d in found.items() if d is not None]
    return {
        "top": top,
        "rows": len(rows),
        "findings": len(r.findings),
        "table_rows": len(r.table),
        "schemes_total": len(starts),
        "schemes_in_top": len(found),
        "missed": sorted(set(starts) - set(found)),
        "false_findings": false,
        "false_share": round(false / len(rows), 3) if rows else None,
        "false_rows": false_rows,
        "median_months_to_detect": statistics.median(delays) if delays else None,
        "months_to_detect": sorted(delays),
        "seconds": round(sum(r.timings.values()), 1),
    }
