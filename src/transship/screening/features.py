"""Name comparison as small declared features, each explaining what it adds to a score.

The base is `name_alignment` (screening.scoring aligns the parts of two names parsed by
screening.parsed one to one, best pairs first, and averages their similarity by weight over
both names' parts, unaligned parts scoring 0). Every other feature adds to or caps it; the
Hit lists what each contributed. Scores are 0-1 here and 0-100 on a Hit.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from rapidfuzz.distance import OSA

from transship.screening.names import part_kind
from transship.screening.parsed import Parsed


@dataclass(frozen=True)
class Thresholds01:
    flag: float
    block: float


@dataclass(slots=True)
class Pair:
    """Everything the features of one comparison share (computed once by `compare`)."""

    q: Parsed
    c: Parsed
    person: bool
    wq: list[float]
    wc: list[float]
    aligned: list[tuple[int, int, float]]  # (query part, candidate part, similarity)
    initials: int
    base: float
    generic_only: bool
    thresholds: Thresholds01
    country_match: bool | None = None
    schema_mismatch: bool = False
    cap: float = 1.0
    total: float = 0.0
    joined: bool = False  # joined_parts or acronym reshaped the parts: none differ
    merged: bool = False  # parts written apart on one side were aligned with one part
    name_total: float = 0.0
    contributions: list[tuple[str, float]] = field(default_factory=list)
    # the query's and the candidate's aligned parts (indices), shared by the features
    qa: set[int] = field(default_factory=set)
    ca: set[int] = field(default_factory=set)
    # whether a part is a common word of the list's names (NameIndex.common), when known
    common: Callable[[str], bool] | None = None

    def flag_at_most(self) -> None:
        """Cap the score just below BLOCK: this evidence may raise a FLAG, never a BLOCK."""
        self.cap = min(self.cap, self.thresholds.block - 0.001)


class Feature(ABC):
    """A feature: `name`, `description`, parameters as attributes; `__call__` adds to a score."""

    name: ClassVar[str]
    description: ClassVar[str]

    @abstractmethod
    def __call__(self, p: Pair) -> float:
        """Points this feature adds to (or takes from) the pair's score."""


class NameAlignment(Feature):
    name = "name_alignment"
    description = (
        "Weight-averaged similarity of the aligned name parts (each part's weight: its rarity "
        "in the list; generic words little, legal forms nothing for organisations)."
    )

    def __call__(self, p: Pair) -> float:
        return p.base


class MissingParts(Feature):
    name = "missing_parts"
    description = (
        "Persons: parts one name lacks (a middle name or patronymic left out, or more parts "
        "than the list gives) cost `factor` of their weight when every part of the shorter "
        "name is matched; such a hit can FLAG but not BLOCK."
    )
    factor = 0.25

    def __call__(self, p: Pair) -> float:
        if not p.person or len(p.aligned) < 2:
            return 0.0
        qa, ca = p.qa, p.ca
        q_rest = [i for i in range(len(p.wq)) if i not in qa and p.wq[i] > 0.1]
        c_rest = [j for j in range(len(p.wc)) if j not in ca and p.wc[j] > 0.1]
        if q_rest and c_rest:
            return 0.0  # a part differs on both sides: that is not a part left out
        rest = [p.wq[i] for i in q_rest] or [p.wc[j] for j in c_rest]
        if not rest:
            return 0.0
        num = sum(s * (p.wq[i] + p.wc[j]) for i, j, s in p.aligned)
        den = sum(p.wq) + sum(p.wc)
        lifted = num / (den - (1 - self.factor) * sum(rest))
        p.flag_at_most()
        return max(0.0, lifted - p.base)


class ContainedName(Feature):
    name = "contained_name"
    description = (
        "Organisations: every part of one name, two distinctive ones or more, matched (`close` "
        "or closer) in the other, "
        "whose other parts are all common words of the list's names (HIGHLAND GOLD / "
        "HIGHLAND GOLD MINING LIMITED, JSC AGAT / JSC MOSCOW RESEARCH INSTITUTE AGAT): those "
        "cost `factor` of their weight; such a hit can FLAG but not BLOCK. A distinctive "
        "word more (GALLION NAVIGATION ZULIANA) is a sister company as often: extra_parts."
    )
    factor = 0.25
    close = 0.8

    def __call__(self, p: Pair) -> float:
        if p.person or p.joined or p.generic_only or not p.aligned or p.common is None:
            return 0.0
        qa, ca = p.qa, p.ca
        q_rest = [i for i, w in enumerate(p.wq) if i not in qa and w > 0]
        c_rest = [j for j, w in enumerate(p.wc) if j not in ca and w > 0]
        if bool(q_rest) == bool(c_rest) or any(s < self.close for _, _, s in p.aligned):
            return 0.0  # nothing left over, a part differs on both sides, or parts unlike
        rest, x, w = (q_rest, p.q, p.wq) if q_rest else (c_rest, p.c, p.wc)
        short, ws, side = (p.c, p.wc, 1) if q_rest else (p.q, p.wq, 0)
        # two parts or more, one distinctive: a one-word name (VANINO, CLYDE) is in many
        # longer ones
        aligned = [j if side else i for i, j, _ in p.aligned if (ws[j] if side else ws[i]) > 0]
        if len(aligned) < 2 or not any(short.kinds[k] == "name" and ws[k] >= 0.3 for k in aligned):
            return 0.0
        common = p.common
        if not all(x.kinds[k] != "name" or common(x.parts[k]) for k in rest):
            return 0.0
        num = sum(s * (p.wq[i] + p.wc[j]) for i, j, s in p.aligned)
        den = sum(p.wq) + sum(p.wc)
        lifted = num / (den - (1 - self.factor) * sum(w[k] for k in rest))
        p.flag_at_most()
        return max(0.0, lifted - p.base)


class DifferingParts(Feature):
    name = "differing_parts"
    description = (
        "Organisations: a distinctive part on each side that matches nothing on the other "
        "(REPUBLIC OF BELARUS / REPUBLIC OF UAE) costs `penalty` per such pair, at most "
        "`most`: one word swapped in a long name is another entity, not a typo."
    )
    penalty = 0.12
    most = 0.24

    def __call__(self, p: Pair) -> float:
        if p.person or p.joined:
            return 0.0
        qa, ca = p.qa, p.ca
        nq = sum(1 for i, w in enumerate(p.wq) if i not in qa and w >= 0.3)
        nc = sum(1 for j, w in enumerate(p.wc) if j not in ca and w >= 0.3)
        return -min(self.most, self.penalty * min(nq, nc))


class DifferingGeneric(Feature):
    name = "differing_generic"
    description = (
        "Organisations: a generic word on each side that matches nothing on the other "
        "(NANXIGU SHIPPING / NANXIGU TECHNOLOGY) costs `penalty` per such pair, at most "
        "`most`: another line of business under the same name is as often a sister company "
        "as the same one (the penalty of one word more, extra_parts)."
    )
    penalty = 0.04
    most = 0.08

    def __call__(self, p: Pair) -> float:
        if p.person or p.joined or p.generic_only:
            return 0.0  # a name of generic words only weighs them as names: differing_parts
        qa, ca = p.qa, p.ca
        nq = sum(1 for i, k in enumerate(p.q.kinds) if k == "generic" and i not in qa and p.wq[i])
        nc = sum(1 for j, k in enumerate(p.c.kinds) if k == "generic" and j not in ca and p.wc[j])
        return -min(self.most, self.penalty * min(nq, nc))


class ExtraParts(Feature):
    name = "extra_parts"
    description = (
        "Organisations: distinctive parts on one side only that match nothing on the other "
        "(GALLION NAVIGATION ZULIANA / GALLION NAVIGATION INC) cost `penalty` each, at most "
        "`most`: a name with a word more is as often a sister company as the same one."
    )
    penalty = 0.04
    most = 0.08

    def __call__(self, p: Pair) -> float:
        if p.person or p.joined or p.merged:
            return 0.0
        qa, ca = p.qa, p.ca
        q_rest = [t for i, (t, w) in enumerate(zip(p.q.parts, p.wq, strict=True))
                  if i not in qa and w >= 0.3]  # fmt: skip
        c_rest = [t for j, (t, w) in enumerate(zip(p.c.parts, p.wc, strict=True))
                  if j not in ca and w >= 0.3]  # fmt: skip
        if q_rest and c_rest:
            return 0.0  # a part differs on both sides: differing_parts
        rest, other = (q_rest, p.c.parts) if q_rest else (c_rest, p.q.parts)
        # a misspelt legal form or generic word (LTDAS, KCOMPANY) is no word more
        n = sum(1 for t in rest if not any(_similar(t, o) for o in other))
        return -min(self.most, self.penalty * n)


def _similar(a: str, b: str) -> bool:
    return OSA.normalized_similarity(a, b) >= 0.75


class JoinedParts(Feature):
    name = "joined_parts"
    description = (
        "Names written with parts joined or split (RamiMakhlouf, Pol Pot / PolPot): the two "
        "names compared with their spaces removed (less `discount` unless equal), when that "
        "is higher."
    )
    discount = 0.02

    def __call__(self, p: Pair) -> float:
        qn = [t for t, w in zip(p.q.parts, p.wq, strict=True) if w > 0.1]
        cn = [t for t, w in zip(p.c.parts, p.wc, strict=True) if w > 0.1]
        if len(qn) == len(cn) or not qn or not cn:
            return 0.0
        s = OSA.normalized_similarity("".join(qn), "".join(cn))
        s = s if s == 1.0 else s - self.discount  # written joined exactly: the same name
        if s < 0.85 or s <= p.base:
            return 0.0
        # the parts aligned with nothing must be the ones written otherwise: two long names
        # that share all but their last word (CENTRE 'ORLYONOK' / CENTRE 'SCARLET SAILS')
        # are close with their spaces removed too
        uq = "".join(t for i, (t, w) in enumerate(zip(p.q.parts, p.wq, strict=True))
                     if w > 0.1 and i not in p.qa)  # fmt: skip
        uc = "".join(t for j, (t, w) in enumerate(zip(p.c.parts, p.wc, strict=True))
                     if w > 0.1 and j not in p.ca)  # fmt: skip
        if uq and uc and OSA.normalized_similarity(uq, uc) < 0.6:
            return 0.0
        p.joined = True
        return s - p.base


class Acronym(Feature):
    name = "acronym"
    description = (
        "One name is the initials of the other's parts (PLA / People's Liberation Army): "
        "raised to `floor`, a FLAG for a human to confirm, never a BLOCK. A list name that "
        "is the initials needs `list_shortest` letters or more."
    )
    floor = 0.86
    list_shortest = 4

    def __call__(self, p: Pair) -> float:
        if p.person:
            return 0.0
        for a, b in ((p.q, p.c), (p.c, p.q)):
            if b is p.q and not b.has_legal:
                continue  # a long query that is not evidently a company: a person's initials
            # A list name that is only initials (CEC, IEM) against a long query: three letters
            # are initials of too many names, and the entity's long name is listed beside them.
            shortest = 3 if a is p.q else self.list_shortest
            short = a.sole  # its one part, legal forms of three letters or more aside
            if short is None or not shortest <= len(short) <= 6:
                continue
            long_ = [t for t, k in zip(b.parts, b.kinds, strict=True) if k not in ("legal", "stop")]
            if len(long_) == len(short) and "".join(t[0] for t in long_) == short:
                p.flag_at_most()
                p.joined = True  # the parts are reshaped, not different
                return max(0.0, self.floor - p.base)
        return 0.0


class Initials(Feature):
    name = "initials"
    description = "A part given as an initial (V. Putin, Tavrin I.V.) matched: FLAG at most."

    def __call__(self, p: Pair) -> float:
        if p.initials:
            p.flag_at_most()
        return 0.0


class PatronymicOrder(Feature):
    name = "patronymic_order"
    description = (
        "Both names join parts with bin/ibn/bint...: the parts around the connector must be "
        "the same way round (SALMAN BIN MUHAMMAD is not MUHAMMAD BIN SALMAN); else `penalty`."
    )
    penalty = 0.35

    def __call__(self, p: Pair) -> float:
        if "connector" not in p.q.kinds or "connector" not in p.c.kinds:
            return 0.0
        to_c = {i: j for i, j, _ in p.aligned}
        q, c = p.q, p.c
        # the article is no part of its own (bn al hbyb / BEN HABIB): neighbours skip it
        for k, kind in enumerate(q.kinds):
            if kind != "connector":
                continue
            after = to_c.get(_next_part(q.parts, k, 1))
            before = to_c.get(_next_part(q.parts, k, -1))
            if after is None or before is None:
                continue  # one side matches nothing: a part left out or another, no order
            if not _connector(c, _next_part(c.parts, after, -1)):
                return -self.penalty
            if not _connector(c, _next_part(c.parts, before, 1)):
                return -self.penalty
        return 0.0


_ARTICLES = frozenset({"al", "el"})


def _connector(x: Parsed, k: int) -> bool:
    return k >= 0 and x.kinds[k] == "connector"


def _next_part(parts: tuple[str, ...], k: int, step: int) -> int:
    """The index of the first part from `k` in direction `step` that is no article, or -1
    when there is none."""
    k += step
    while 0 <= k < len(parts) and parts[k] in _ARTICLES:
        k += step
    return k if 0 <= k < len(parts) else -1


class QuotedName(Feature):
    name = "quoted_name"
    description = (
        "Organisations: the quoted proper name of one (JSC NPO 'SPLAV') written in the other, "
        "quoted there too (JSC A.N. Ganichev Scientific and Production Association 'SPLAV') "
        "or with nothing beside it but legal forms, generic words, initials of up to "
        "`initials` letters (PKP Iris) or words of the first name: raised to `floor`, a FLAG "
        "for a human to confirm, never a BLOCK. Russian-style company names quote the proper "
        "name and describe the rest, which lists translate, transliterate or abbreviate."
    )
    floor = 0.82
    initials = 2

    def __call__(self, p: Pair) -> float:
        if p.person or p.total >= self.floor or not (p.q.quoted or p.c.quoted):
            return 0.0
        for a, b in ((p.q, p.c), (p.c, p.q)):
            for seg in a.quoted:
                if not any(len(t) >= 4 and part_kind(t) == "name" for t in seg):
                    continue  # 'SCIENTIFIC AND PRODUCTION ASSOCIATION', 'MGY' name too little
                k = _find(b.parts, seg)
                if k < 0:
                    continue
                if all(
                    b.kinds[j] in ("legal", "generic", "stop")
                    or len(b.parts[j]) <= self.initials
                    or any(_similar(b.parts[j], t) for t in a.parts)
                    for j in range(len(b.parts))
                    if not k <= j < k + len(seg)
                ):
                    p.flag_at_most()
                    return self.floor - p.total
        return 0.0


def _find(parts: tuple[str, ...], seg: tuple[str, ...]) -> int:
    """Where `seg` starts as a run of `parts`, or -1."""
    n = len(seg)
    for k in range(len(parts) - n + 1):
        if parts[k : k + n] == seg:
            return k
    return -1


class NumbersDiffer(Feature):
    name = "numbers_differ"
    description = "Both names carry numbers and they differ (Zavod No 1 / Zavod No 7): `penalty`."
    penalty = 0.25

    def __call__(self, p: Pair) -> float:
        if "number" not in p.q.kinds or "number" not in p.c.kinds:
            return 0.0
        qn = {t for t, k in zip(p.q.parts, p.q.kinds, strict=True) if k == "number"}
        cn = {t for t, k in zip(p.c.parts, p.c.kinds, strict=True) if k == "number"}
        return -self.penalty if qn and cn and qn != cn else 0.0


class GenericOnly(Feature):
    name = "generic_only"
    description = (
        "A name that is nothing but generic words and legal forms (MANAGEMENT LLC): its parts "
        "all count as names, and a hit on it can FLAG but never BLOCK."
    )

    def __call__(self, p: Pair) -> float:
        if p.generic_only:
            p.flag_at_most()
        return 0.0


class SchemaMismatch(Feature):
    name = "schema_mismatch"
    description = (
        "A company name (it has a legal form) against a listed person, or schemas given and "
        "different: `penalty`."
    )
    penalty = 0.15

    def __call__(self, p: Pair) -> float:
        return -self.penalty if p.schema_mismatch else 0.0


@dataclass
class CountryQualifier(Feature):
    name: ClassVar[str] = "country"
    description: ClassVar[str] = (
        "+`bonus` when the party's country is one of the entity's countries, -`penalty` when "
        "both are known and differ (TRANSSHIP_COUNTRY_BONUS / _PENALTY, in points)."
    )
    bonus: float = 4.0
    penalty: float = 10.0

    def __call__(self, p: Pair) -> float:
        if p.country_match is None:
            return 0.0
        return (self.bonus if p.country_match else -self.penalty) / 100


NAME_FEATURES: tuple[Feature, ...] = (
    NameAlignment(),
    MissingParts(),
    JoinedParts(),
    Acronym(),
    ContainedName(),
    DifferingParts(),
    DifferingGeneric(),
    ExtraParts(),
    Initials(),
    PatronymicOrder(),
    QuotedName(),
    NumbersDiffer(),
    GenericOnly(),
    SchemaMismatch(),
)


def describe_features() -> list[dict[str, str]]:
    """Every feature with its description and parameters (for docs and `--help`)."""
    out = []
    for f in (*NAME_FEATURES, CountryQualifier()):
        params = {
            k: getattr(f, k)
            for k in ("factor", "close", "discount", "floor", "initials", "penalty", "bonus")
            if hasattr(f, k)
        }
        out.append({"name": f.name, "description": f.description, "parameters": str(params)})
    return out
