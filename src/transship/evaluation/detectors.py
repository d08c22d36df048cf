"""The detectors the evaluation scores: the older analyses (mirror flags, hub ranking,
anomalies), every registered `detect` detector on its own units, and the oracle and null
references that check the scoring (1.0 and 0)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from transship.errors import UsageError
from transship.evaluation.base import INCREASES, Detector, Label, Prediction, Unit
from transship.sources.scenarios import base as role


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
        if kind in (
            role.HUB_TO_TARGET,
            role.HUB_TO_NEIGHBOUR,
            role.NEIGHBOUR_TO_TARGET,
            role.PHANTOM,
        ):
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
    hubs -> the country; blocks -> the country whose direct route a block cut (a label of
    another role maps as for hubs); pair detectors -> (exporter, importer), whose truth is
    the pairs a scheme added trade to (surges) or misreported (mirror, code_mismatch)."""

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
        elif self.detector == "blocks":
            self.roles = frozenset({role.BLOCKED_DIRECT})

    def unit(self, label: Label) -> Unit | None:
        if self.detector == "blocks" and label["role"] == role.BLOCKED_DIRECT:
            return (label["exporter"],)
        if self.detector in ("hubs", "blocks"):
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
