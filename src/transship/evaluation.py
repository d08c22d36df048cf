"""Detection quality against the synthetic ground truth (`scenario_labels`).

A detector runs one analysis and turns its output into predicted *units*: what it claims is
manipulated, e.g. an exporter->importer pair (mirror), an (exporter, importer, product)
series (anomalies) or an intermediary country (hubs), each with the period it was first seen
when the analysis gives one. The same detector maps every label row onto a unit of its kind
(`unit`); label rows whose role it is meant to find (`roles`) are its truth.

Scores per detector and scenario kind:
- recall: share of the kind's truth units that were predicted;
- precision: predicted units matching a label of the kind, over those plus the predicted
  units matching no label at all (a unit matching only other kinds counts for neither);
  0 when nothing is predicted, empty when the detector has no truth of that kind;
- scenarios: how many of the kind's scenarios had at least one unit found;
- time to detect: per found scenario, months from its start to the earliest prediction of one
  of its units at or after that start (a date up to `RESOLUTION_MONTHS` before it counts as
  0: quarterly detectors date a change to its quarter's first month); the median over
  scenarios.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from transship.errors import UsageError
from transship.periods import add_months, months_between
from transship.sources.scenarios import base as role

Unit = tuple[str, ...]
Label = Mapping[str, Any]

# one role vocabulary with the generator (transship.sources.scenarios.base)
INCREASES = role.INCREASES
# Detectors that work on quarters or 3-month windows date a change to the first month of the
# period they saw it in, up to this many months before the scheme's start: such a date counts
# as detected at the start (0 months), not as a detection before the scheme existed.
RESOLUTION_MONTHS = 2


@dataclass(frozen=True)
class Prediction:
    unit: Unit
    period: date | None = None  # first period the detector saw it, if it says


class Detector(Protocol):
    """What `evaluate` runs: a named, parameterised analysis that predicts units."""

    @property
    def name(self) -> str: ...

    @property
    def parameters(self) -> Mapping[str, object]: ...

    @property
    def roles(self) -> frozenset[str]:
        """Label roles it is meant to find (its truth)."""
        ...

    def unit(self, label: Label) -> Unit | None:
        """The unit of this detector that a label row describes (None: not visible to it)."""
        ...

    def predict(self, con: Any) -> list[Prediction]: ...


# -- detectors over the analysis layer ---------------------------------------------------------
def _all_countries(con: Any) -> str:
    t = con.table("trade_flows")
    codes = t.select(c=t.reporter).distinct().to_pyarrow().column(0).to_pylist()
    return "+".join(sorted(codes))


def _as_date(v: Any) -> date | None:
    if v is None:
        return None
    return v.date() if hasattr(v, "date") and callable(v.date) else v  # type: ignore[no-any-return]


@dataclass
class MirrorDetector:
    """Mirror flags: runs of windows where exporter and importer records disagree.

    Every pair of countries in the warehouse, CHPL goods summed per pair, from 2022.
    """

    name: str = "mirror"
    parameters: dict[str, object] = field(
        default_factory=lambda: {"products": "chpl", "period": "2022-01..2025-12", "window": 3}
    )
    roles: frozenset[str] = frozenset({role.PHANTOM, role.DECLARED_FROM, role.DECLARED_TO})

    def unit(self, label: Label) -> Unit | None:
        return (label["exporter"], label["importer"])

    def predict(self, con: Any) -> list[Prediction]:
        from transship.analysis.mirror import mirror

        everyone = _all_countries(con)
        r = mirror(con, exporters=everyone, importers=everyone, **self.parameters)  # type: ignore[arg-type]
        t = r.table
        rows = t.filter(t.flag).select("exporter", "importer", "period").to_pyarrow().to_pylist()
        return [Prediction((x["exporter"], x["importer"]), _as_date(x["period"])) for x in rows]


@dataclass
class HubsDetector:
    """Hub ranking: candidate hubs whose CHPL trade grew more than controls (95% CI above 0).

    A hub counts as found when either leg (imports from the coalition, exports to Russia and
    its neighbours) is significant; the truth is every country a scenario routed goods through.
    """

    name: str = "hubs"
    parameters: dict[str, object] = field(default_factory=dict)
    roles: frozenset[str] = frozenset(
        {role.ORIGIN_TO_HUB, role.HUB_TO_TARGET, role.HUB_TO_NEIGHBOUR, role.NEIGHBOUR_TO_TARGET}
    )

    def unit(self, label: Label) -> Unit | None:
        kind = label["role"]
        if kind == role.ORIGIN_TO_HUB:
            return (label["importer"],)
        if kind in (role.HUB_TO_TARGET, role.HUB_TO_NEIGHBOUR, role.NEIGHBOUR_TO_TARGET,
                    role.PHANTOM):
            return (label["exporter"],)
        return None

    def predict(self, con: Any) -> list[Prediction]:
        from transship.analysis.hubs import hubs

        t = hubs(con, **self.parameters).table  # type: ignore[arg-type]
        rows = t.filter(t.ci_low > 0).select("hub").to_pyarrow().to_pylist()
        return [Prediction((x["hub"],)) for x in rows]


@dataclass
class AnomaliesDetector:
    """Anomalies: exporter->importer->product series surging far above their baseline.

    Scored as an analyst runs it: every exporter's CHPL exports to Russia, its neighbours and
    the candidate hubs (the flows a roundabout passes through), not to the whole world.
    """

    name: str = "anomalies"
    parameters: dict[str, object] = field(
        default_factory=lambda: {
            "partner": "russia+caucasus_central_asia+hubs",
            "products": "chpl",
            "pre": "2015..2021",
            "threshold": 3.5,
        }
    )
    roles: frozenset[str] = INCREASES

    def unit(self, label: Label) -> Unit | None:
        return (label["exporter"], label["importer"], label["hs2022"])

    def predict(self, con: Any) -> list[Prediction]:
        from transship.analysis.anomalies import anomalies

        t = anomalies(con, **self.parameters).table  # type: ignore[arg-type]
        t = t.filter(t.first_surge_period.notnull())
        rows = t.select("reporter", "partner", "hs2022", "first_surge_period").to_pyarrow()
        return [
            Prediction(
                (x["reporter"], x["partner"], x["hs2022"]), _as_date(x["first_surge_period"])
            )
            for x in rows.to_pylist()
        ]


# -- the `detect` detectors (transship.analysis.detect), scored on their own units ------------
PAIR_ROLES = frozenset({role.PHANTOM, role.DECLARED_FROM, role.DECLARED_TO})


@dataclass
class FindingsDetector:
    """A registered `detect` detector, its findings mapped onto the evaluation's units:
    hubs -> the country; pair detectors -> (exporter, importer), whose truth is the pairs a
    scheme added trade to (surges) or misreported (mirror, code_mismatch)."""

    detector: str
    name: str = ""
    parameters: dict[str, object] = field(default_factory=dict)
    roles: frozenset[str] = PAIR_ROLES

    def __post_init__(self) -> None:
        self.name = self.name or f"detect:{self.detector}"
        if self.detector == "hubs":
            self.roles = HubsDetector().roles
        elif self.detector == "surges":  # more trade on a pair: a scheme's flows
            self.roles = INCREASES

    def unit(self, label: Label) -> Unit | None:
        if self.detector == "hubs":
            return HubsDetector().unit(label)
        return (label["exporter"], label["importer"])

    def predict(self, con: Any) -> list[Prediction]:
        from transship.analysis.detect import detect, make_detectors

        r = detect(con, detectors=make_detectors([self.detector], {self.detector:
                                                                   self.parameters}))  # fmt: skip
        return [finding_prediction(f) for f in r.findings]


def finding_prediction(f: Any) -> Prediction:
    if f.country is not None:
        return Prediction((f.country,), f.since)
    return Prediction((f.exporter, f.importer), f.since)


def default_detectors() -> list[Detector]:
    from transship.analysis.detect import registry

    new = [n for n, c in registry().items() if c.default]  # what `detect` runs
    return [MirrorDetector(), HubsDetector(), AnomaliesDetector(),
            *(FindingsDetector(n) for n in new)]  # fmt: skip


def triage_scores(
    con: Any, labels: Sequence[Label], top: int = 20, result: Any = None
) -> dict[str, Any]:
    """The `detect` triage table against the labels: how many injected schemes have a finding
    in its top `top` rows, and the share of those rows that match no label (false findings).

    A finding matches a scheme when its unit (country for hubs, exporter->importer otherwise)
    is a unit of one of the scheme's label rows (any role)."""
    from transship.analysis.detect import detect

    r = result if result is not None else detect(con)  # a `DetectResult` already run
    rows = r.findings[:top]
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


def detectors_named(names: Sequence[str] | None) -> list[Detector]:
    """The default detectors with these names (all when `names` is empty); any registered
    `detect` detector, also one off by default, as `detect:NAME`."""
    from transship.analysis.detect import registry

    known: dict[str, Detector] = {d.name: d for d in default_detectors()}
    if not names:
        return list(known.values())
    for n in registry():
        known.setdefault(f"detect:{n}", FindingsDetector(n))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"unknown detector {', '.join(unknown)}; choose from {', '.join(known)}")
    return [known[n] for n in names]


# -- reference detectors for checking the scoring ----------------------------------------------
@dataclass
class OracleDetector:
    """Predicts exactly the truth units of another detector, at each scenario's start: 1.0."""

    like: Detector
    labels: Sequence[Label]
    name: str = "oracle"
    parameters: dict[str, object] = field(default_factory=dict)

    @property
    def roles(self) -> frozenset[str]:
        return self.like.roles

    def unit(self, label: Label) -> Unit | None:
        return self.like.unit(label)

    def predict(self, con: Any) -> list[Prediction]:
        out = []
        for lab in self.labels:
            u = self.unit(lab)
            if u is not None and lab["role"] in self.roles:
                out.append(Prediction(u, lab["period_start"]))
        return out


@dataclass
class NullDetector:
    """Predicts nothing: 0."""

    like: Detector
    name: str = "null"
    parameters: dict[str, object] = field(default_factory=dict)

    @property
    def roles(self) -> frozenset[str]:
        return self.like.roles

    def unit(self, label: Label) -> Unit | None:
        return self.like.unit(label)

    def predict(self, con: Any) -> list[Prediction]:
        return []


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
