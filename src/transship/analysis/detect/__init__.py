"""`detect`: every detector in one run, one ranked triage table of findings with evidence.

Detectors are small classes (`base.Detector`) in a registry (`base.registry()`): each declares
its parameters with defaults and descriptions, returns candidate findings with p-values, and
keeps those that survive its false-discovery-rate control. `detect` runs them, ranks all
findings by score (-log10 q) and then size, groups them into one triage row per subject (a
country or a pair: `triage`), and says what it ran.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from transship.analysis.detect.base import Context, Detector, Finding, Parameter, registry
from transship.analysis.detect.triage import triage
from transship.errors import UsageError

__all__ = ["Context", "DetectResult", "Detector", "Finding", "Parameter", "detect", "registry"]


@dataclass
class DetectResult:
    """`findings`: every detector's findings, ranked (each scored on its own); `table`: the
    triage rows, one per subject, each its strongest finding with the others in `also`."""

    findings: list[Finding]
    synthetic: bool
    notes: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    freq: str = "M"
    table: list[Finding] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        return [{"rank": k + 1, **f.row()} for k, f in enumerate(self.table)]

    def to_pyarrow(self) -> Any:
        import pyarrow as pa

        return pa.Table.from_pylist(self.rows())


def make_detectors(
    names: Sequence[str] | None = None, params: Mapping[str, Mapping[str, Any]] | None = None
) -> list[Detector]:
    """Detector instances by name (all registered when `names` is empty)."""
    known = registry()
    chosen = list(names) if names else [n for n, c in known.items() if c.default]
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise UsageError(f"unknown detector {', '.join(unknown)}; choose from {', '.join(known)}")
    params = params or {}
    return [known[n](**dict(params.get(n, {}))) for n in chosen]


def detect(
    con: Any,
    *,
    detectors: Sequence[str] | Sequence[Detector] | None = None,
    target: str = "russia",
    neighbours: str = "caucasus_central_asia",
    coalition: str = "coalition",
    source: str | None = None,
    limit: int | None = None,
) -> DetectResult:
    """Run the detectors and return one triage table, best evidence first."""
    ds: list[Detector]
    if detectors and not isinstance(detectors[0], str):
        ds = list(detectors)  # type: ignore[arg-type]
    else:
        ds = make_detectors(detectors)  # type: ignore[arg-type]
    ctx = Context(con, target=target, neighbours=neighbours, coalition=coalition, source=source)
    findings: list[Finding] = []
    timings: dict[str, float] = {}
    for d in ds:
        t0 = time.perf_counter()
        findings.extend(d.run(ctx))
        timings[d.name] = round(time.perf_counter() - t0, 2)
    findings.sort(key=lambda f: (-f.score, -f.size_usd, f.where))
    grouped = triage(findings)
    table = grouped[:limit] if limit else grouped
    notes = [
        *ctx.notes,
        f"detectors: {', '.join(d.name for d in ds)}; each controls its false-discovery rate "
        "(Benjamini-Hochberg); score = -log10(q), capped at 300; ranked by score, then size; "
        f"{len(findings)} findings in {len(grouped)} rows: one per country or pair "
        "(the surges on a flagged country's trade with it), the others under `also`",
    ]
    params = {d.name: dict(d.parameters) for d in ds}
    params["context"] = {"target": target, "neighbours": neighbours, "coalition": coalition,
                         "baseline": f"{ctx.baseline[0]:%Y-%m}..{ctx.baseline[1]:%Y-%m}",
                         "post_start": f"{ctx.post_start:%Y-%m}", "source": source}  # fmt: skip
    return DetectResult(findings, ctx.synthetic, notes, params, timings, table=table)
