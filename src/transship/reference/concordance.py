"""HS revision concordance: an HS2022 product set expressed in older revisions.

Built on the UN correlation tables shipped in `data/hs_concordance.csv` (its meta file gives
the source and the status rule). Three modes (CONCORDANCE_MODES) decide what counts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from transship.reference._load import (
    ReferenceDataError,
    fail,
    read_csv,
    split_list,
    unknown,
    validate,
)
from transship.reference.hs import HS6_PATTERN, REVISIONS, hs6_codes, hs6_exists

if TYPE_CHECKING:
    from transship.reference.products import ProductSet

Status = Literal["exact", "mapped", "lower_bound", "not_comparable"]
CONCORDED = ("HS2012", "HS2017")  # revisions with shipped UN correlation data
COMPARABLE: frozenset[Status] = frozenset({"exact", "mapped"})
ConcordanceMode = Literal["strict", "upper", "reported"]
# strict: the UN-correlation rule (exact and single-code mappings only; the default);
# upper: also n:n codes, through their older code of the same number or heading (upper bounds);
# reported: every code as reported, no concordance (as trade-data monitors publish).
CONCORDANCE_MODES: tuple[ConcordanceMode, ...] = ("strict", "upper", "reported")


class ConcordanceLink(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    old_code: str = Field(pattern=HS6_PATTERN)
    relationship: Literal["1:1", "n:1", "1:n", "n:n"]
    contained_in_x: bool
    also_maps_to: tuple[str, ...] = ()


class Concordance(BaseModel):
    """How one HS2022 code is represented in an older revision (see hs_concordance meta)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    hs2022: str = Field(pattern=HS6_PATTERN)
    revision: Literal["HS2012", "HS2017"]
    status: Status
    links: tuple[ConcordanceLink, ...]


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
    hs = hs6_codes(data_dir)
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


def map_code(code: str, revision: str, data_dir: Path) -> CodeMapping:
    """One HS2022 code in `revision` under the strict UN-correlation rule, with the reason."""
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
