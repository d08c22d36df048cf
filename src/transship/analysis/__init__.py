"""Analyses as Ibis expressions over trade_flows (backend-agnostic: DuckDB or Spark).

Every analysis takes an Ibis connection with a `trade_flows` table (`Warehouse.ibis()`, or
`engine.connect(path, engine="duckdb"|"spark")`) and returns an `AnalysisResult`. The
functions are importable from here or from their modules (`transship.analysis.mirror.mirror`).
Importing this package imports no heavy library; each function imports Ibis when it runs.
"""

from transship.analysis.anomalies import anomalies, event_study
from transship.analysis.flows import flows
from transship.analysis.headline import Headline, headline
from transship.analysis.hubs import control_basket, hubs
from transship.analysis.mirror import mirror
from transship.analysis.result import AnalysisResult, FlowsResult

__all__ = [
    "AnalysisResult",
    "FlowsResult",
    "Headline",
    "anomalies",
    "control_basket",
    "event_study",
    "flows",
    "headline",
    "hubs",
    "mirror",
]
