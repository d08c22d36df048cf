"""Flat rows of the reference data, for printing as a table, CSV or JSON (used by the CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from transship.reference._load import ReferenceDataError, resolve_dir, unknown
from transship.reference.countries import countries, groups
from transship.reference.events import events
from transship.reference.products import _chpl, chpl_versions

Kind = Literal["chpl", "countries", "groups", "events"]


def records(kind: Kind, *, data_dir: Path | str | None = None) -> list[dict[str, object]]:
    """Rows of plain values (str, int, None); list fields are joined with `;`."""
    d = resolve_dir(data_dir)
    if kind == "chpl":
        versions = [v.id for v in chpl_versions(data_dir=d)]
        return [
            {
                "hs6": i.hs6,
                "tier": i.tier,
                "description": i.description,
                **{f"in_{v}": i.membership[v] for v in versions},
                "notes": i.notes,
            }
            for i in _chpl(d)
        ]
    if kind == "countries":
        return [
            {
                "iso3": c.iso3,
                "iso2": c.iso2,
                "name": c.name,
                "kind": c.kind,
                "m49": c.m49,
                "comtrade": c.comtrade,
                "comtrade_alt": ";".join(c.comtrade_alt),
                "baci": c.baci,
                "baci_alt": ";".join(c.baci_alt),
                "iso3_origin": c.iso3_origin,
                "notes": c.notes,
            }
            for c in countries(data_dir=d)
        ]
    if kind == "groups":
        return [
            {
                "name": g.name,
                "description": g.description,
                "members": ";".join(g.members),
                "countries": ";".join(sorted(g.countries)),
                "n_countries": len(g.countries),
                "source": g.source,
            }
            for g in groups(data_dir=d).values()
        ]
    if kind == "events":
        return [
            {
                "id": e.id,
                "date": e.date.isoformat(),
                "date_precision": e.date_precision,
                "kind": e.kind,
                "jurisdiction": e.jurisdiction,
                "title": e.title,
                "source": e.source,
            }
            for e in events(data_dir=d)
        ]
    raise ReferenceDataError(
        unknown("record kind", kind, ["chpl", "countries", "groups", "events"])
    )
