"""Name comparison as small declared features, each explaining what it adds to a score.

Two names are first cut into parts (screening.names.name_parts: Latin, legal forms kept) and
each part gets a kind (name, generic, legal, stop, connector, number) and a weight: rarity in
the loaded list for name parts (a part in 1 name in 1,000 or rarer weighs 1, one in every
name 0.3), a fixed small weight for generic words, nothing for legal forms when comparing
organisations (so AO = JSC = AKTSIONERNOYE OBSHCHESTVO). Persons are compared part by part
with every kind counting as a name part, so KU Ja Hyong keeps its "ku".

The base is `name_alignment`: parts are aligned one to one, best pairs first, by per-part
similarity (OSA edit distance: a transposition is one edit; equal metaphone keys or, for
vowel-less abjad romanizations such as mhmd, equal consonant skeletons lift a pair), and
the score is the weight-averaged similarity over both names' parts, unaligned parts scoring
0. Every other feature adds to or caps it; the Hit lists what each contributed. Scores are
0-1 here and 0-100 on a Hit.
"""

from __future__ import annotations

import functools
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from rapidfuzz.distance import OSA

from transship.screening.names import (
    abjad_skeleton,
    fold,
    is_abjad,
    name_parts,
    part_kind,
    skeleton,
)

_VOWELS = frozenset("aeiouy")


@dataclass(frozen=True, slots=True)
class Parsed:
    """A name cut into parts with their kinds and phonetic keys."""

    parts: tuple[str, ...]
    kinds: tuple[str, ...]
    phon: tuple[str, ...]
    skel: tuple[str, ...]
    abjad: bool = False  # written in Arabic/Hebrew script: compare consonant skeletons

    @property
    def has_legal(self) -> bool:
        # two-letter forms (ku, ao, as) are also name parts of persons: not evidence here
        return any(
            k == "legal" and len(t) >= 3 for t, k in zip(self.parts, self.kinds, strict=True)
        )


@functools.lru_cache(maxsize=100_000)
def _org_forms(text: str) -> list[tuple[str, ...]]:
    from rigour.names import extract_org_types

    return [tuple(m.split()) for m, _ in extract_org_types(text) if " " in m]


@functools.lru_cache(maxsize=300_000)
def metaphone_key(t: str) -> str:
    """A part's metaphone key ("" for numbers and parts under three letters), kept: the
    same parts recur across names."""
    from rigour.text import metaphone

    return metaphone(t) if len(t) >= 3 and t.isalpha() else ""


def parse(name: str) -> Parsed:
    parts = name_parts(name)
    kinds = [part_kind(p) for p in parts]
    # Multi-word legal forms (limited liability company, obshchestvo s ogranichennoy
    # otvetstvennostyu) are rigour's: every part of one is a legal part.
    for form in _org_forms(" ".join(parts)):
        n = len(form)
        for i in range(len(parts) - n + 1):
            if parts[i : i + n] == form:
                kinds[i : i + n] = ["legal"] * n
    # A single letter between legal-form words is part of the form (obshchestvo s ...).
    for i in range(1, len(parts) - 1):
        if len(parts[i]) == 1 and kinds[i - 1] == "legal" and kinds[i + 1] == "legal":
            kinds[i] = "legal"
    phon = tuple(metaphone_key(p) for p in parts)
    return Parsed(parts, tuple(kinds), phon, tuple(skeleton(p) for p in parts), is_abjad(name))


def rarity_weight(df: int, n: int) -> float:
    """Weight of a name part found in `df` of `n` names: 1 at 1 in 1,000 or rarer, 0.3 floor."""
    if df <= 0 or n <= 0:
        return 1.0
    return max(0.3, min(1.0, -math.log10(df / n) / 3))


@dataclass(frozen=True)
class Thresholds01:
    flag: float
    block: float


@dataclass
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


# Kept: the parts of one query meet the same list parts again in the aliases of an entity
# and in the next declaration naming the same party.
@functools.lru_cache(maxsize=200_000)
def part_similarity(
    a: str, b: str, ka: str, kb: str, pa: str, pb: str, sa: str, sb: str, person: bool,
    abjad: bool = False,
) -> tuple[float, bool]:  # fmt: skip
    """Similarity 0-1 of two name parts and whether it was an initial's match."""
    if a == b:
        return 1.0, False
    if ka == "number" or kb == "number":
        return 0.0, False  # digits compare exactly: Zavod 1 is not Zavod 7
    if len(a) == 1 or len(b) == 1:
        if person and (b.startswith(a) or a.startswith(b)):
            return 0.9, True
        return 0.0, False
    s = OSA.normalized_similarity(a, b)
    if s < 0.95:
        s = max(s, 0.95 * OSA.normalized_similarity(fold(a), fold(b)))
    if s < 0.88 and pa and pa == pb and min(len(a), len(b)) >= 4:
        s = 0.88
    if s < 0.85 and abjad:
        # Arabic/Hebrew romanized without short vowels: mhmwd = mahmud, dwd = david
        ka_, kb_ = abjad_skeleton(a), abjad_skeleton(b)
        if ka_ == kb_ and (len(ka_) >= 2 or min(len(a), len(b)) <= 3):
            s = 0.85
    return s, False


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
        qa = {i for i, _, _ in p.aligned}
        ca = {j for _, j, _ in p.aligned}
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
        qa = {i for i, _, _ in p.aligned}
        ca = {j for _, j, _ in p.aligned}
        nq = sum(1 for i, w in enumerate(p.wq) if i not in qa and w >= 0.3)
        nc = sum(1 for j, w in enumerate(p.wc) if j not in ca and w >= 0.3)
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
        qa = {i for i, _, _ in p.aligned}
        ca = {j for _, j, _ in p.aligned}
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
            short = [t for t, k in zip(a.parts, a.kinds, strict=True) if k != "legal" or len(t) < 3]
            if len(short) != 1:
                continue
            long_ = [t for t, k in zip(b.parts, b.kinds, strict=True) if k not in ("legal", "stop")]
            # A list name that is only initials (CEC, IEM) against a long query: three letters
            # are initials of too many names, and the entity's long name is listed beside them.
            shortest = 3 if a is p.q else self.list_shortest
            if (
                len(short) == 1
                and shortest <= len(short[0]) <= 6
                and len(long_) == len(short[0])
                and "".join(t[0] for t in long_) == short[0]
            ):
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
        ck = p.c.kinds
        for k, kind in enumerate(p.q.kinds):
            if kind != "connector":
                continue
            after, before = to_c.get(k + 1), to_c.get(k - 1)
            if after is not None and not (after > 0 and ck[after - 1] == "connector"):
                return -self.penalty
            if before is not None and not (before + 1 < len(ck) and ck[before + 1] == "connector"):
                return -self.penalty
        return 0.0


class NumbersDiffer(Feature):
    name = "numbers_differ"
    description = "Both names carry numbers and they differ (Zavod No 1 / Zavod No 7): `penalty`."
    penalty = 0.25

    def __call__(self, p: Pair) -> float:
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
    DifferingParts(),
    ExtraParts(),
    Initials(),
    PatronymicOrder(),
    NumbersDiffer(),
    GenericOnly(),
    SchemaMismatch(),
)


def part_weights(
    x: Parsed, person: bool, rarity: Callable[[str], float]
) -> tuple[list[float], bool]:
    """Each part's weight and whether the name is generic words and legal forms only."""
    return _weights(x, person, rarity)


def _weights(x: Parsed, person: bool, rarity: Callable[[str], float]) -> tuple[list[float], bool]:
    out: list[float] = []
    for t, k in zip(x.parts, x.kinds, strict=True):
        if k == "stop":
            out.append(0.05)
        elif k == "connector":
            out.append(0.2 if person else 0.05)
        elif person or k in ("name", "number"):
            out.append(0.5 if len(t) == 1 else rarity(t))
        elif k == "generic":
            out.append(0.2)
        else:
            out.append(0.0)
    if person or any(k in ("name", "number") for k in x.kinds):
        return out, False
    # Nothing but generic words and legal forms: they are all this name has.
    return [0.05 if k == "stop" else 1.0 for k in x.kinds], True


def _split_parts(
    q: Parsed,
    c: Parsed,
    wq: list[float],
    wc: list[float],
    used_q: set[int],
    used_c: set[int],
    aligned: list[tuple[int, int, float]],
    abjad: bool,
    person: bool,
) -> bool:
    """Align two or three adjacent unaligned parts of one name with one part of the other
    when written together they match it (ABD ALLAH / ABDALLAH, ANDISHEH SAZ / ANDISHEHSAZ).
    Returns whether any were."""
    merged = False
    for a, b, wa, wb, ua, ub, flip in (
        (q, c, wq, wc, used_q, used_c, False),
        (c, q, wc, wq, used_c, used_q, True),
    ):
        na = len(a.parts)
        free = [k not in ua and wa[k] > 0 for k in range(na)]
        if not any(free[k] and free[k + 1] for k in range(na - 1)):
            continue  # no two adjacent parts left to join on this side
        for j in range(len(b.parts)):
            if j in ub or wb[j] <= 0 or len(b.parts[j]) < 4:
                continue
            target = b.parts[j]
            for n in (2, 3):
                for i in range(na - n + 1):
                    span = range(i, i + n)
                    if not (free[i] and free[i + 1] and (n == 2 or free[i + 2])):
                        continue
                    joined = "".join(a.parts[k] for k in span)
                    if 2 * min(len(joined), len(target)) < max(len(joined), len(target)):
                        continue
                    sim, _ = part_similarity(
                        joined, target, "name", "name", "", "", "", "", person, abjad
                    )
                    if sim >= (0.85 if abjad else 0.9):
                        for k in span:
                            ua.add(k)
                            free[k] = False
                            aligned.append((j, k, sim) if flip else (k, j, sim))
                        ub.add(j)
                        merged = True
                        break
                if j in ub:
                    break
    return merged


def compare(
    q: Parsed,
    c: Parsed,
    *,
    person: bool,
    rarity: Callable[[str], float],
    thresholds: Thresholds01,
    country: CountryQualifier | None = None,
    country_match: bool | None = None,
    schema_mismatch: bool = False,
    c_weights: tuple[list[float], bool] | None = None,
    q_weights: tuple[list[float], bool] | None = None,
) -> Pair:
    """Score query `q` against candidate `c`; returns the Pair with its contributions.

    `c_weights`, `q_weights`: the candidate's and the query's part weights from
    `part_weights` (same `person` and `rarity`), when kept by the caller; never modified.
    """
    wq, gq = q_weights or _weights(q, person, rarity)
    wc, gc = c_weights or _weights(c, person, rarity)
    used_q: set[int] = set()
    used_c: set[int] = set()
    aligned: list[tuple[int, int, float]] = []
    # Equal parts first (most parts of a true match are): no edit distance needed for them.
    where: dict[str, list[int]] = {}
    for j, b in enumerate(c.parts):
        if wc[j] > 0:
            where.setdefault(b, []).append(j)
    for i, a in enumerate(q.parts):
        js = where.get(a) if wq[i] > 0 else None
        if js:
            j = js.pop(0)
            used_q.add(i)
            used_c.add(j)
            aligned.append((i, j, 1.0))
    cands: list[tuple[float, int, int, bool]] = []
    abjad = q.abjad or c.abjad
    rest_c = [j for j in range(len(c.parts)) if j not in used_c and wc[j] > 0]
    for i, (a, ka, pa, sa) in enumerate(zip(q.parts, q.kinds, q.phon, q.skel, strict=True)):
        if wq[i] <= 0 or i in used_q:
            continue
        for j in rest_c:
            b = c.parts[j]
            if (
                not abjad
                and len(a) > 1
                and len(b) > 1
                and 2 * min(len(a), len(b)) < max(len(a), len(b))
            ):
                continue  # lengths too far apart for any similarity that aligns
            s, init = part_similarity(
                a, b, ka, c.kinds[j], pa, c.phon[j], sa, c.skel[j], person, abjad
            )
            if s >= 0.6:
                cands.append((s, i, j, init))
    cands.sort(key=lambda x: (-x[0], x[1], x[2]))
    initials = 0
    for s, i, j, init in cands:
        if i in used_q or j in used_c:
            continue
        used_q.add(i)
        used_c.add(j)
        aligned.append((i, j, s))
        initials += init
    merged = False
    # Only worth trying when joining the leftover parts could lift the pair to a match.
    left = sum(w for i, w in enumerate(wq) if i not in used_q) + sum(
        w for j, w in enumerate(wc) if j not in used_c
    )
    so_far = sum(s * (wq[i] + wc[j]) for i, j, s in aligned)
    den0 = sum(wq) + sum(wc)
    if (
        den0 > 0
        and (so_far + left) / den0 >= 0.6
        and used_q != set(range(len(q.parts)))
        and used_c != set(range(len(c.parts)))
    ):
        merged = _split_parts(q, c, wq, wc, used_q, used_c, aligned, abjad, person)
    den = sum(wq) + sum(wc)
    side_c: dict[int, float] = {}
    side_q: dict[int, float] = {}
    for i, j, s in aligned:
        side_q[i] = max(side_q.get(i, 0.0), s)
        side_c[j] = max(side_c.get(j, 0.0), s)
    num = sum(s * wq[i] for i, s in side_q.items()) + sum(s * wc[j] for j, s in side_c.items())
    base = num / den if den > 0 else 0.0
    p = Pair(
        q, c, person, wq, wc, aligned, initials, base, gq or gc, thresholds,
        country_match, schema_mismatch,
    )  # fmt: skip
    p.merged = merged
    total = 0.0
    for f in NAME_FEATURES:
        v = f(p)
        if v:
            p.contributions.append((f.name, v))
            total += v
    p.name_total = total
    if country is not None:
        v = country(p)
        if v:
            p.contributions.append((country.name, v))
            total += v
    p.total = total
    return p


def final_score(p: Pair) -> float:
    """The comparison's score 0-1 after caps."""
    return max(0.0, min(1.0, p.total, p.cap))


def describe_features() -> list[dict[str, str]]:
    """Every feature with its description and parameters (for docs and `--help`)."""
    out = []
    for f in (*NAME_FEATURES, CountryQualifier()):
        params = {
            k: getattr(f, k)
            for k in ("factor", "discount", "floor", "penalty", "bonus")
            if hasattr(f, k)
        }
        out.append({"name": f.name, "description": f.description, "parameters": str(params)})
    return out
