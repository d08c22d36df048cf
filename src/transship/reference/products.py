"""Products: the Common High Priority List (CHPL) and product-set expressions."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from transship.reference._load import (
    ReferenceDataError,
    fail,
    read_csv,
    read_yaml,
    resolve_dir,
    unknown,
    validate,
)
from transship.reference.concordance import RevisionMapping, map_code
from transship.reference.hs import HS6_PATTERN, REVISIONS, hs6_codes

Membership = Literal["yes", "no", "unknown"]
DEFAULT_VERSION = "2024-02"


class Tier(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    id: Literal["1", "2", "3.A", "3.B", "4.A", "4.B"]
    label: str = Field(min_length=1)


class ChplVersion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    id: str = Field(pattern=r"^[0-9]{4}-[a-z0-9-]+$")
    title: str = Field(min_length=1)
    published: dt.date | None
    date_precision: Literal["day", "month", "unknown"]
    item_count: int = Field(gt=0)
    source: str = Field(min_length=1)
    notes: str = ""


class ChplItem(BaseModel):
    """One CHPL HS6 code: tier (current version), HS2022 text, membership per version."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    hs6: str = Field(pattern=HS6_PATTERN)
    tier: Literal["1", "2", "3.A", "3.B", "4.A", "4.B"]
    description: str = Field(min_length=1)
    membership: dict[str, Membership]
    notes: str = ""


@functools.cache
def _versions(data_dir: Path) -> tuple[tuple[ChplVersion, ...], tuple[Tier, ...]]:
    path = data_dir / "chpl_versions.yaml"
    raw = read_yaml(path)
    versions = tuple(validate(path, None, ChplVersion, v) for v in raw.get("versions") or [])
    tiers = tuple(validate(path, None, Tier, t) for t in raw.get("tiers") or [])
    ids = [v.id for v in versions]
    if not versions or len(set(ids)) != len(ids) or DEFAULT_VERSION not in ids:
        raise fail(path, None, f"versions must be unique and include {DEFAULT_VERSION}: {ids}")
    for v in versions:
        if v.date_precision == "unknown" and v.published is not None:
            raise fail(path, None, f"version {v.id}: published date but precision unknown")
    return versions, tiers


@functools.cache
def _chpl(data_dir: Path) -> tuple[ChplItem, ...]:
    path = data_dir / "chpl.csv"
    versions = [v.id for v in _versions(data_dir)[0]]
    hs = hs6_codes(data_dir)
    items: list[ChplItem] = []
    for line, row in read_csv(path, ("hs6", "tier", "description", "notes", *versions)):
        membership = {v: row[v] for v in versions}
        item = validate(
            path,
            line,
            ChplItem,
            {
                "hs6": row["hs6"],
                "tier": row["tier"],
                "description": row["description"],
                "membership": membership,
                "notes": row["notes"],
            },
        )
        if "HS2022" not in hs.get(item.hs6, frozenset()):
            raise fail(path, line, f"{item.hs6} is not an HS2022 subheading")
        if any(i.hs6 == item.hs6 for i in items):
            raise fail(path, line, f"duplicate code {item.hs6}")
        items.append(item)
    for v in _versions(data_dir)[0]:
        states = [i.membership[v.id] for i in items]
        if "unknown" not in states and states.count("yes") != v.item_count:
            raise fail(
                path,
                None,
                f"version {v.id}: {states.count('yes')} codes marked yes, "
                f"but chpl_versions.yaml says {v.item_count}",
            )
    return tuple(items)


def chpl_versions(*, data_dir: Path | str | None = None) -> list[ChplVersion]:
    """Published CHPL versions, oldest first."""
    return list(_versions(resolve_dir(data_dir))[0])


def chpl_tiers(*, data_dir: Path | str | None = None) -> list[Tier]:
    return list(_versions(resolve_dir(data_dir))[1])


def normalize_tier(token: str) -> str:
    """`tier1`, `1`, `3a`, `Tier 3.A` -> canonical tier id (`1`, `3.A`)."""
    t = re.sub(r"^tier\s*", "", token.strip(), flags=re.IGNORECASE).upper().replace(" ", "")
    m = re.match(r"^([1-4])\.?([AB])?$", t)
    tier = (m.group(1) + (f".{m.group(2)}" if m.group(2) else "")) if m else t
    valid = ("1", "2", "3", "3.A", "3.B", "4", "4.A", "4.B")  # "3" = 3.A and 3.B
    if tier not in valid:
        raise ReferenceDataError(unknown("CHPL tier", token, [f"tier{v}" for v in valid]))
    return tier


def chpl(
    version: str = DEFAULT_VERSION,
    tiers: Iterable[str] | None = None,
    *,
    data_dir: Path | str | None = None,
) -> list[ChplItem]:
    """CHPL codes of `version`, optionally only some tiers (`1`, `tier2`, `3.A`, `4b` ...).

    Raises ReferenceDataError if the membership of some codes in `version` is unknown,
    naming them, rather than returning a list that may be wrong.
    """
    d = resolve_dir(data_dir)
    ids = [v.id for v in _versions(d)[0]]
    if version not in ids:
        raise ReferenceDataError(unknown("CHPL version", version, ids))
    items = _chpl(d)
    unsure = [i.hs6 for i in items if i.membership[version] == "unknown"]
    if unsure:
        raise ReferenceDataError(
            f"CHPL version {version}: membership unknown for {len(unsure)} codes "
            f"({', '.join(unsure)}); public sources do not establish them"
        )
    wanted = None if tiers is None else {normalize_tier(t) for t in tiers}
    # Tiers group the CHPL; lower tiers expand sub-tiers: `3` matches 3.A and 3.B.
    return [
        i
        for i in items
        if i.membership[version] == "yes"
        and (wanted is None or i.tier in wanted or i.tier.split(".")[0] in wanted)
    ]


@dataclass(frozen=True)
class ProductSet:
    """A set of HS2022 six-digit codes with a human label."""

    codes: frozenset[str]
    label: str
    prefixes: tuple[str, ...] = ()
    data_dir: Path = field(default_factory=lambda: resolve_dir(None), compare=False)

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.codes))

    def __len__(self) -> int:
        return len(self.codes)

    def in_revision(self, revision: str) -> RevisionMapping:
        """Express the set in `revision` (HS1992..HS2022) following the UN correlations."""
        rev = revision.upper().replace(" ", "")
        if rev not in REVISIONS:
            raise ReferenceDataError(unknown("HS revision", revision, REVISIONS))
        return RevisionMapping(rev, {c: map_code(c, rev, self.data_dir) for c in sorted(self)})


def _chpl_term(term: str, d: Path) -> tuple[frozenset[str], str]:
    m = re.match(r"^chpl(?:@([^:]+))?(?::(.+))?$", term, flags=re.IGNORECASE)
    if not m:
        raise ReferenceDataError(f"bad CHPL term {term!r}; use chpl, chpl:1,2 or chpl@2023-09")
    version = m.group(1) or DEFAULT_VERSION
    tiers = [normalize_tier(t) for t in m.group(2).split(",")] if m.group(2) else None
    items = chpl(version, tiers, data_dir=d)
    label = f"CHPL {version}" + (f" (tiers {', '.join(tiers)})" if tiers else "")
    return frozenset(i.hs6 for i in items), label


def _code_term(token: str, d: Path, expr: str) -> tuple[frozenset[str], str | None]:
    code = token.replace(".", "").replace(" ", "")
    hs = hs6_codes(d)
    current = [c for c, revs in hs.items() if "HS2022" in revs]
    if not code.isdigit() or len(code) not in (2, 4, 6):
        raise ReferenceDataError(
            f"bad product term {token!r} in {expr!r}: expected chpl, an "
            "HS6 code or a 2/4-digit HS prefix"
        )
    if len(code) == 6:
        if code not in current:
            raise ReferenceDataError(unknown("HS2022 code", code, current, expr))
        return frozenset({code}), None
    matched = frozenset(c for c in current if c.startswith(code))
    if not matched:
        raise ReferenceDataError(f"HS prefix {code!r} in {expr!r} matches no HS2022 code")
    return matched, code


def parse_products(expr: str, *, data_dir: Path | str | None = None) -> ProductSet:
    """Parse `chpl`, `chpl:tier1,tier2`, `chpl@2023-09`, `8542,851762`, joined with `+`.

    2- and 4-digit prefixes expand to every HS2022 subheading that starts with them.
    """
    d = resolve_dir(data_dir)
    codes: set[str] = set()
    labels: list[str] = []
    prefixes: list[str] = []
    terms = [t.strip() for t in expr.split("+")]
    if not expr.strip() or any(not t for t in terms):
        raise ReferenceDataError(f"empty term in product expression {expr!r}")
    for term in terms:
        if term.lower().startswith("chpl"):
            got, label = _chpl_term(term, d)
            codes |= got
            labels.append(label)
            continue
        plain: list[str] = []
        for token in (t.strip() for t in term.split(",")):
            got, prefix = _code_term(token, d, expr)
            codes |= got
            plain.append(token)
            if prefix:
                prefixes.append(prefix)
        labels.append("HS " + ", ".join(plain))
    return ProductSet(frozenset(codes), " + ".join(labels), tuple(prefixes), d)
