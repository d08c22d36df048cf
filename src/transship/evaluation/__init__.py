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

from transship.evaluation.base import (
    INCREASES,
    RESOLUTION_MONTHS,
    Detector,
    Label,
    Prediction,
    Unit,
)
from transship.evaluation.detectors import (
    PAIR_ROLES,
    AnomaliesDetector,
    FindingsDetector,
    HubsDetector,
    MirrorDetector,
    NullDetector,
    OracleDetector,
    default_detectors,
    detectors_named,
    finding_prediction,
)
from transship.evaluation.scoring import Evaluation, evaluate, read_labels, score, triage_scores

__all__ = [
    "INCREASES",
    "PAIR_ROLES",
    "RESOLUTION_MONTHS",
    "AnomaliesDetector",
    "Detector",
    "Evaluation",
    "FindingsDetector",
    "HubsDetector",
    "Label",
    "MirrorDetector",
    "NullDetector",
    "OracleDetector",
    "Prediction",
    "Unit",
    "default_detectors",
    "detectors_named",
    "evaluate",
    "finding_prediction",
    "read_labels",
    "score",
    "triage_scores",
]
