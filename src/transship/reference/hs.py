"""HS nomenclature facts: the revisions, which one was in force when, which codes exist."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from transship.reference._load import fail, read_csv, resolve_dir, split_list

REVISIONS = ("HS1992", "HS1996", "HS2002", "HS2007", "HS2012", "HS2017", "HS2022")
# First year each revision was in force (WCO; each entered into force on 1 January).
_IN_FORCE = (
    (2022, "HS2022"),
    (2017, "HS2017"),
    (2012, "HS2012"),
    (2007, "HS2007"),
    (2002, "HS2002"),
    (1996, "HS1996"),
)
HS6_PATTERN = r"^[0-9]{6}$"


def hs_revision_in_force(year: int) -> str:
    """The HS revision in force in `year` (HS1992 for anything before 1996)."""
    for first, rev in _IN_FORCE:
        if year >= first:
            return rev
    return "HS1992"


@functools.cache
def hs6_codes(data_dir: Path) -> dict[str, frozenset[str]]:
    """Every six-digit code of hs6_codes.csv -> the revisions it exists in (cached)."""
    path = data_dir / "hs6_codes.csv"
    out: dict[str, frozenset[str]] = {}
    for line, row in read_csv(path, ("hs6", "revisions")):
        revs = split_list(row["revisions"])
        if not re.match(HS6_PATTERN, row["hs6"]) or not revs or set(revs) - set(REVISIONS):
            raise fail(path, line, f"bad row {row!r}")
        out[row["hs6"]] = frozenset(revs)
    return out


def hs6_exists(code: str, revision: str = "HS2022", *, data_dir: Path | str | None = None) -> bool:
    """Whether `code` is a six-digit subheading of `revision` (HS2012/HS2017/HS2022)."""
    return revision in hs6_codes(resolve_dir(data_dir)).get(code, frozenset())
