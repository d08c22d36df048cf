"""The triage table: one row per scheme's subject, so that one scheme's many findings do not
crowd the others out of the top rows.

Detectors see one scheme from several sides: a roundabout is a hub's ranking on both legs
(`hubs`, twice) and the surges on its legs (`surges`: coalition->hub, hub->target); a phantom
or a misdeclaration is the mirror of a pair, its code mismatch and the pooled `misdeclared`
test of the same pair. Each of those is a finding (scored on its own), but the analyst's
question is "where": the table keeps one row per subject --

- a country (hubs, blocks): every finding on it, and every surge on a pair one of whose
  countries is such a subject (the exporter's first: a hub's or a blocked exporter's own
  exports, else the importer's: goods into a hub);
- an exporter->importer pair: every other finding on that pair (mirror, code_mismatch,
  code_shift, misdeclared, unit_values, surges on it).

A row is its strongest finding (kind, where, since, size, evidence, score and q are that
finding's own), with the others under `also`, strongest first; rows keep the findings' order
(score, then size).
"""

from __future__ import annotations

from dataclasses import replace

from transship.analysis.detect.base import Finding

Key = tuple[str, ...]


def subject(f: Finding, countries: set[str]) -> Key:
    """The row a finding belongs to: its country, a surge's country subject, or its pair."""
    if f.country is not None:
        return ("country", f.country)
    if f.kind == "surge":
        for c in (f.exporter, f.importer):
            if c in countries:
                return ("country", str(c))
    return ("pair", str(f.exporter), str(f.importer))


def triage(findings: list[Finding]) -> list[Finding]:
    """Findings (in their ranked order) grouped into one row per subject: the strongest
    finding of each, the others in its `also`."""
    countries = {f.country for f in findings if f.country is not None}
    groups: dict[Key, list[Finding]] = {}
    for f in findings:
        groups.setdefault(subject(f, countries), []).append(f)
    return [replace(g[0], also=tuple(g[1:])) for g in groups.values()]
