"""Analyses as Ibis expressions over trade_flows (backend-agnostic)."""
