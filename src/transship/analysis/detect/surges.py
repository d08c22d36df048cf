"""Surges of one exporter's CHPL exports to the target or a neighbour: the `hubs` tests on
each exporter->destination pair."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from transship.analysis.detect.base import Context, Finding, Parameter, money, register
from transship.analysis.detect.hubs import HubDetector
from transship.analysis.detect.hubtext import codes_text, evidence, growth_text, q_start
from transship.analysis.detect.panel import pair_quarters


@register
class SurgeDetector(HubDetector):
    """Surges of one exporter's CHPL exports to one destination (the target or a neighbour),
    with the same tests as `hubs` on the pair: product growth against the control goods of
    the same headings (pooled across the pair's products, so a lumpy small product cannot
    carry it alone), upper-tail counts, and the pair's share of everything the destination
    receives per product (seasonality and the destination's own swings cancel out); FDR
    across every pair."""

    name: ClassVar[str] = "surges"
    kind: ClassVar[str] = "surge"
    description: ClassVar[str] = (
        "One exporter's CHPL exports to the target or a neighbour grew beyond its control goods."
    )
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        Parameter("fdr", 0.05, "false-discovery rate across all exporter->destination pairs"),
        Parameter("min_pre_usd", 250_000.0, "leave out pairs with less CHPL trade a year in the "
                  "baseline"),
        Parameter("min_excess_usd", 1_000_000.0, "leave out pairs whose CHPL excess is below "
                  "this many USD a year"),
        Parameter("min_products", 5, "fewest CHPL and control products traded in both windows"),
        Parameter("tail_quantile", 0.9, "control growth quantile the tail test counts above"),
        Parameter("hubs_group", "hubs", "named group used only to label known hubs"),
        Parameter("share_z", 3.0, "codes test: a code's share of the destination's supply "
                  "exceeds when this many baseline spreads above its detrended baseline"),
        Parameter("min_spread", 0.03, "codes test: floor of a code's quarterly share spread, "
                  "as a fraction of its baseline share"),
        Parameter("min_new_share", 0.5, "new-codes test: a CHPL code the pair never traded in "
                  "the baseline counts as new when it trades in this share of the quarters "
                  "after a split"),
    )  # fmt: skip

    def panel(self, ctx: Context) -> Any:
        return pair_quarters(ctx)

    def finding(self, hub: str, leg: str, st: dict[str, Any], excess: float, since: date,
                known: frozenset[str] | set[str]) -> Finding:  # fmt: skip
        p = self.params
        ran, idle = evidence(
            growth_text(st, p["tail_quantile"], f"share of {leg}'s supply"),
            ("codes", st.get("codes") and codes_text(st["codes"], f"of {leg} supply")),
            new=st.get("new"),
        )
        ev = (
            f"{hub}'s CHPL exports to {leg}: {ran}; strongest test: {st['which']}, from "
            f"{q_start(st['s']):%Y-%m}; excess {money(excess)}/yr{idle}"
        )
        return Finding(
            kind=self.kind, where=f"{hub}->{leg}", since=since, size_usd=excess, evidence=ev,
            detector=self.name, p_value=st["p"], exporter=hub, importer=leg,
            link=f"/hub?hub={hub}&target={leg}",
        )  # fmt: skip
