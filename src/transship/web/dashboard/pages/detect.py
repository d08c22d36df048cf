"""Detect (/detect): the triage table of `transship detect`, every finding with its evidence
and a link to the page that shows it."""

from __future__ import annotations

from typing import Any

from transship.web.dashboard.base import PageData, Table, filter_page


def compute(con: Any, f: dict[str, str]) -> PageData:
    from transship.analysis.detect import detect

    r = detect(con, target=f["target"])
    rows = r.rows()
    kinds: dict[str, int] = {}
    for x in rows:
        kinds[x["kind"]] = kinds.get(x["kind"], 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
    head = (
        f"{len(r.findings)} findings survive each detector's false-discovery control, in "
        f"{len(rows)} rows (one per country or pair): {summary}."
    )
    secs = ", ".join(f"{k} {v}" for k, v in r.timings.items())
    return PageData(
        title="Detect: triage of findings",
        headlines=[head],
        tables={"findings": Table(rows, "Findings, best evidence first (score = -log10 q)")},
        synthetic=r.synthetic,
        notes=[*r.notes, f"seconds per detector: {secs}"],
    )


PAGE = filter_page(
    "detect",
    "/detect",
    order=50,
    fields=("target",),
    summary="Triage of findings",
    compute=compute,
)
