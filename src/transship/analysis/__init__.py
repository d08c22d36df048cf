"""Analyses as Ibis expressions over trade_flows (backend-agnostic: DuckDB or Spark).

Every analysis takes an Ibis connection with a `trade_flows` table (`Warehouse.ibis()`, or
`engine.connect(path, engine="duckdb"|"spark")`) and returns an `AnalysisResult`.
"""

from transship.analysis.result import AnalysisResult, FlowsResult

__all__ = ["AnalysisResult", "FlowsResult"]
