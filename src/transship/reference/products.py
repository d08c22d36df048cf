"""Products: the Common High Priority List (CHPL), HS code lists, HS revision concordance."""

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
    split_list,
    unknown,
    validate,
)

Membership = Literal["yes", "no", "unknown"]
Status = Literal["exact", "mapped", "lower_bound", "not_comparable"]
REVISIONS = ("HS1992", "HS1996", "HS2002", "HS2007", "HS2012", "HS2017", "HS2022")
CONCORDED = ("HS2012", "HS2017")  # revisions with shipped UN correlation data
COMPARABLE: frozenset[Status] = frozenset({"exact", "mapped"})
ConcordanceMode = Literal["strict", "upper", "reported"]
# strict: the UN-correlation rule (exact and single-code mappings only; the default);
# upper: also n:n codes, through their older code of the same number or heading (upper bounds);
# reported: every code as reported, no concordance (as trade-data monitors publish).
CONCORDANCE_MODES: tuple[ConcordanceMode, ...] = ("strict", "upper", "reported")
DEFAULT_VERSION = "2024-02"
# First year each revision was in force (WCO; each entered into force on 1 January).
_IN_FORCE = (
    (2022, "HS2022"),
    (2017, "HS2017"),
    (2012, "HS2012"),
    (2007, "HS2007"),
    (2002, "HS2002"),
    (1996, "HS1996"),
)
_HS6 = r"^[0-9]{6}$"


def hs_revision_in_force(year: int) -> str:
    """The HS revision in force in `year` (HS1992 for anything before 1996)."""
    for first, rev in _IN_FORCE:
        if year >= first:
            return rev
    return "HS1992"


class Tier(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Literal["1", "2", "3.A", "3.B", "4.A", "4.B"]
    label: str = Field(min_length=1)


class ChplVersion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[0-9]{4}-[a-z0-9-]+$")
    title: str = Field(min_length=1)
    published: dt.date | None
    date_precision: Literal["day", "month", "unknown"]
    item_count: int = Field(gt=0)
    source: str = Field(min_length=1)
    notes: str = ""


class ChplItem(BaseModel):
    """One CHPL HS6 code: tier (current version), HS2022 text, membership per version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hs6: str = Field(pattern=_HS6)
    tier: Literal["1", "2", "3.A", "3.B", "4.A", "4.B"]
    description: str = Field(min_length=1)
    membership: dict[str, Membership]
    notes: str = ""


class ConcordanceLink(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    old_code: str = Field(pattern=_HS6)
    relationship: Literal["1:1", "n:1", "1:n", "n:n"]
    contained_in_x: bool
    also_maps_to: tuple[str, ...] = ()


class Concordance(BaseModel):
    """How one HS2022 code is represented in an older revision (see hs_concordance meta)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hs2022: str = Field(pattern=_HS6)
    revision: Literal["HS2012", "HS2017"]
    status: Status
    links: tuple[ConcordanceLink, ...]


@functools.cache
def _hs6_codes(data_dir: Path) -> dict[str, frozenset[str]]:
    path = data_dir / "hs6_codes.csv"
    out: dict[str, frozenset[str]] = {}
    for line, row in read_csv(path, ("hs6", "revisions")):
        revs = split_list(row["revisions"])
        if not re.match(_HS6, row["hs6"]) or not revs or set(revs) - set(REVISIONS):
            raise fail(path, line, f"bad row {row!r}")
        out[row["hs6"]] = frozenset(revs)
    return out


def hs6_exists(code: str, revision: str = "HS2022", *, data_dir: Path | str | None = None) -> bool:
    """Whether `code` is a six-digit subheading of `revision` (HS2012/HS2017/HS2022)."""
    return revision in _hs6_codes(resolve_dir(data_dir)).get(code, frozenset())


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
    hs = _hs6_codes(data_dir)
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


@functools.cache
def _concordance(data_dir: Path) -> dict[tuple[str, str], Concordance]:
    path = data_dir / "hs_concordance.csv"
    cols = (
        "hs2022",
        "revision",
        "status",
        "old_code",
        "relationship",
        "contained_in_x",
        "also_maps_to",
    )
    hs = _hs6_codes(data_dir)
    grouped: dict[tuple[str, str], tuple[str, list[ConcordanceLink]]] = {}
    for line, row in read_csv(path, cols):
        if row["contained_in_x"] not in ("yes", "no"):
            raise fail(
                path, line, f"field 'contained_in_x': {row['contained_in_x']!r} is not yes/no"
            )
        link = validate(
            path,
            line,
            ConcordanceLink,
            {
                "old_code": row["old_code"],
                "relationship": row["relationship"],
                "contained_in_x": row["contained_in_x"] == "yes",
                "also_maps_to": split_list(row["also_maps_to"]),
            },
        )
        key = (row["hs2022"], row["revision"])
        if row["revision"] not in hs.get(link.old_code, frozenset()):
            raise fail(path, line, f"{link.old_code} is not an {row['revision']} subheading")
        status, links = grouped.setdefault(key, (row["status"], []))
        if status != row["status"]:
            raise fail(
                path,
                line,
                f"status {row['status']!r} contradicts {status!r} "
                f"given earlier for {key[0]} in {key[1]}",
            )
        links.append(link)
    out: dict[tuple[str, str], Concordance] = {}
    for (code, rev), (status, links) in grouped.items():
        conc = validate(
            path,
            None,
            Concordance,
            {"hs2022": code, "revision": rev, "status": status, "links": tuple(links)},
        )
        if conc.status != _status_of(conc.links):
            raise fail(
                path,
                None,
                f"{code} in {rev}: status {conc.status!r} does not follow "
                f"from its links (expected {_status_of(conc.links)!r})",
            )
        out[code, rev] = conc
    return out


def _status_of(links: tuple[ConcordanceLink, ...]) -> Status:
    """The status the links imply (the rule in hs_concordance.csv.meta.yaml)."""
    inside = [link for link in links if link.contained_in_x]
    if links and len(inside) == len(links):
        return "exact"
    if len(links) == 1:
        return "mapped"
    return "lower_bound" if inside else "not_comparable"


@dataclass(frozen=True)
class CodeMapping:
    """One HS2022 code expressed in an older revision."""

    hs2022: str
    status: Status | Literal["no_data"]
    old_codes: tuple[str, ...]  # codes to sum (exact/mapped) or the lower bound (lower_bound)
    reason: str

    @property
    def comparable(self) -> bool:
        return self.status in COMPARABLE


@dataclass(frozen=True)
class RevisionMapping:
    """A product set in one HS revision: which codes to use, which are not comparable."""

    revision: str
    details: dict[str, CodeMapping]

    @property
    def codes(self) -> dict[str, tuple[str, ...]]:
        """Every HS2022 code -> the codes of this revision to use; () if not comparable."""
        return {k: m.old_codes if m.comparable else () for k, m in self.details.items()}

    @property
    def comparable(self) -> dict[str, tuple[str, ...]]:
        """HS2022 code -> old codes, for codes with an exact or single-code mapping."""
        return {k: m.old_codes for k, m in self.details.items() if m.comparable}

    @property
    def not_comparable(self) -> dict[str, str]:
        """HS2022 code -> reason, for every code that cannot be followed into this revision."""
        return {k: m.reason for k, m in self.details.items() if not m.comparable}

    @property
    def lower_bounds(self) -> dict[str, tuple[str, ...]]:
        """Old codes that lie wholly inside an otherwise non-comparable HS2022 code."""
        return {k: m.old_codes for k, m in self.details.items() if m.status == "lower_bound"}

    @property
    def old_codes(self) -> frozenset[str]:
        """All old codes to select in this revision (comparable codes only)."""
        return frozenset(c for codes in self.comparable.values() for c in codes)

    def to_hs2022(self) -> dict[str, tuple[str, ...]]:
        """Old code -> the HS2022 codes of this set it stands for (comparable codes only)."""
        out: dict[str, list[str]] = {}
        for new, olds in sorted(self.comparable.items()):
            for old in olds:
                out.setdefault(old, []).append(new)
        return {k: tuple(v) for k, v in out.items()}


def _map_code(code: str, revision: str, data_dir: Path) -> CodeMapping:
    if revision == "HS2022":
        return CodeMapping(code, "exact", (code,), "same revision")
    if revision not in CONCORDED:
        return CodeMapping(code, "no_data", (), f"no UN correlation table shipped for {revision}")
    conc = _concordance(data_dir).get((code, revision))
    if conc is None:
        return CodeMapping(
            code,
            "no_data",
            (),
            f"{code} is not in the shipped concordance "
            "(rebuild with scripts/build_concordance.py --codes)",
        )
    olds = tuple(link.old_code for link in conc.links)
    if conc.status == "exact":
        return CodeMapping(code, "exact", olds, f"{'+'.join(olds)} add up to {code}")
    if conc.status == "mapped":
        (link,) = conc.links
        return CodeMapping(
            code,
            "mapped",
            olds,
            f"single {revision} code {olds[0]}; it also "
            f"covers {len(link.also_maps_to)} other HS2022 codes (upper bound)",
        )
    inside = tuple(link.old_code for link in conc.links if link.contained_in_x)
    if conc.status == "lower_bound":
        return CodeMapping(
            code,
            "lower_bound",
            inside,
            f"drawn from {len(olds)} {revision} "
            f"codes; only {'+'.join(inside)} lie wholly inside it (lower bound)",
        )
    return CodeMapping(
        code,
        "not_comparable",
        (),
        f"drawn from {len(olds)} {revision} codes, "
        "none of which lies wholly inside it: no comparable code",
    )


@dataclass(frozen=True)
class ModeMapping:
    """A product set in one revision under a concordance mode (see CONCORDANCE_MODES).

    `codes`: HS2022 code -> the codes of `revision` counted for it; `kinds`: how each was
    found (exact, mapped, upper, reported); `left_out`: HS2022 code -> why it is not counted.
    """

    revision: str
    mode: ConcordanceMode
    codes: dict[str, tuple[str, ...]]
    kinds: dict[str, str]
    left_out: dict[str, str]


def _upper_codes(code: str, revision: str, data_dir: Path) -> tuple[tuple[str, ...], int]:
    """Older codes an n:n code is counted through in `upper` mode, and its number of links.

    The UN correlations link such a code to every older code any of its goods came from
    (852990: 483 HS2017 codes, from pumps to aircraft parts, because flat-panel modules were
    carved out of all of them). Summing all of them would bound nothing useful, so `upper`
    counts the older code with the same number when the link exists (852990 <- 852990,
    854231 <- 854231 before 2017), else the linked codes of the same HS4 heading. Those older
    codes also hold goods now classed elsewhere, so they overstate the product: an upper
    bound of what was traded under it, not an exact series.
    """
    conc = _concordance(data_dir).get((code, revision))
    if conc is None:
        return (), 0
    olds = [link.old_code for link in conc.links]
    if code in olds:
        return (code,), len(olds)
    return tuple(sorted(o for o in olds if o[:4] == code[:4])), len(olds)


def map_in_mode(pset: ProductSet, revision: str, mode: ConcordanceMode = "strict") -> ModeMapping:
    """Express `pset` in `revision` under a concordance mode (strict, upper or reported)."""
    if mode not in CONCORDANCE_MODES:
        raise ReferenceDataError(unknown("concordance mode", mode, CONCORDANCE_MODES))
    rev = revision.upper().replace(" ", "")
    if rev not in REVISIONS:
        raise ReferenceDataError(unknown("HS revision", revision, REVISIONS))
    codes: dict[str, tuple[str, ...]] = {}
    kinds: dict[str, str] = {}
    left: dict[str, str] = {}
    if mode == "reported":
        listed = rev in ("HS2012", "HS2017", "HS2022")  # revisions with a shipped code list
        for c in sorted(pset):
            if listed and not hs6_exists(c, rev, data_dir=pset.data_dir):
                left[c] = f"{c} does not exist in {rev} (counted as reported, no concordance)"
            else:
                codes[c], kinds[c] = (c,), "reported"
        return ModeMapping(rev, mode, codes, kinds, left)
    strict = pset.in_revision(rev)
    for c, m in strict.details.items():
        if m.comparable:
            codes[c], kinds[c] = m.old_codes, m.status
            continue
        if mode == "upper" and m.status in ("not_comparable", "lower_bound"):
            olds, n_links = _upper_codes(c, rev, pset.data_dir)
            if olds:
                codes[c], kinds[c] = olds, "upper"
                continue
            left[c] = f"{m.reason}; none of its {n_links} {rev} links is of its heading"
            continue
        left[c] = m.reason
    return ModeMapping(rev, mode, codes, kinds, left)


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
        return RevisionMapping(rev, {c: _map_code(c, rev, self.data_dir) for c in sorted(self)})


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
    hs = _hs6_codes(d)
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
