"""Reference facts as validated data: CHPL, HS concordance, countries, groups, timeline.

The lowest layer of transship: it imports nothing else from the package and, at runtime,
only the standard library, PyYAML and pydantic. Every data file under `data/` names its
source and date (YAML keys, or a CSV's `<name>.meta.yaml` sidecar); see `data_sources()`.
Every accessor takes an optional `data_dir` so tests can point it at a modified copy;
results are cached per directory, so data files are assumed not to change while a process runs.
Models build their validators when first used (`defer_build`): a process that reads no
concordance, CHPL or events (a CLI ingest) does not pay for their models.
"""

from __future__ import annotations

from pathlib import Path

from transship.reference._load import (
    DATA_DIR,
    FileMeta,
    ReferenceDataError,
    SourceRef,
    data_files,
    file_meta,
    resolve_dir,
)
from transship.reference.concordance import (
    CONCORDANCE_MODES,
    CodeMapping,
    ConcordanceMode,
    ModeMapping,
    RevisionMapping,
    map_in_mode,
)
from transship.reference.countries import (
    Country,
    Group,
    Scheme,
    countries,
    country,
    country_lookup,
    groups,
    parse_countries,
)
from transship.reference.events import Event, event, events
from transship.reference.hs import REVISIONS, hs6_exists, hs_revision_in_force
from transship.reference.products import (
    ChplItem,
    ChplVersion,
    ProductSet,
    Tier,
    chpl,
    chpl_tiers,
    chpl_versions,
    parse_products,
)
from transship.reference.records import records


def data_sources(*, data_dir: Path | str | None = None) -> dict[str, FileMeta]:
    """Provenance (title, sources, source_date) of every data file, by file name."""
    d = resolve_dir(data_dir)
    return {p.name: file_meta(p) for p in data_files(d)}


def validate_all(*, data_dir: Path | str | None = None) -> None:
    """Load every data file, raising ReferenceDataError on the first problem."""
    d = resolve_dir(data_dir)
    data_sources(data_dir=d)
    countries(data_dir=d)
    groups(data_dir=d)
    chpl(data_dir=d)
    events(data_dir=d)
    parse_products("chpl", data_dir=d).in_revision("HS2012")


__all__ = [
    "CONCORDANCE_MODES",
    "DATA_DIR",
    "REVISIONS",
    "ChplItem",
    "ChplVersion",
    "CodeMapping",
    "ConcordanceMode",
    "Country",
    "Event",
    "FileMeta",
    "Group",
    "ModeMapping",
    "ProductSet",
    "ReferenceDataError",
    "RevisionMapping",
    "Scheme",
    "SourceRef",
    "Tier",
    "chpl",
    "chpl_tiers",
    "chpl_versions",
    "countries",
    "country",
    "country_lookup",
    "data_sources",
    "event",
    "events",
    "groups",
    "hs6_exists",
    "hs_revision_in_force",
    "map_in_mode",
    "parse_countries",
    "parse_products",
    "records",
    "validate_all",
]
