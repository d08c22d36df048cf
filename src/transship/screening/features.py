"""Name comparison as small declared features, each explaining what it adds to a score.

The base is `name_alignment` (screening.scoring aligns the parts of two names parsed by
screening.parsed one to one, best pairs first, and averages their similarity by weight over
both names' parts, unaligned parts scoring 0). Every other feature adds to or caps it; the
Hit lists what each contributed. Scores are 0-1 here and 0-100 on a Hit. The Pair and the
Feature interface are in screening.featurebase, the organisations' own features in
screening.orgfeatures; NAME_FEATURES here runs them all in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import ClassVar

from rapidfuzz.distance import OSA

from transship.screening.featurebase import Feature, Pair, Thresholds01
from transship.screening.orgfeatures import (
    Acronym,
    AcronymParts,
    ContainedName,
    DifferingGeneric,
    DifferingParts,
    EquivalentWords,
    ExtraParts,
    QuotedName,
    TranslatedOnly,
)
from transship.screening.parsed import Parsed

__all__ = ["NAME_FEATURES", "CountryQualifier", "Feature", "Pair", "Thresholds01",
           "describe_features"]  # fmt: skip


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
        "name is matched; such a hit can FLAG but not BLOCK. Not when the part left out is "
        "the longer name's given name and no common one (rarity weight `common` or more): "
        "Khaled Chouman is the father's and the family's names of Nabil Khaled Hilal "
        "Chouman, another person as often; the lists do leave out a Mohammad."
    )
    factor = 0.25
    common = 0.8

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
        longer, left, w = (p.q, q_rest, p.wq) if q_rest else (p.c, c_rest, p.wc)
        first = _first(longer)
        if first in left and w[first] >= self.common:
            # a given name left out that is no common one (Mohammad, Ibrahim: the lists
            # leave those out): the father's or the family's names as often
            return 0.0
        num = sum(s * (p.wq[i] + p.wc[j]) for i, j, s in p.aligned)
        den = sum(p.wq) + sum(p.wc)
        lifted = num / (den - (1 - self.factor) * sum(rest))
        p.flag_at_most()
        return max(0.0, lifted - p.base)


def _first(x: Parsed) -> int:
    """The first part of a name that is neither a connector nor a stop word, or -1."""
    return next((k for k, kind in enumerate(x.kinds) if kind not in ("connector", "stop")), -1)


class LineageTail(Feature):
    name = "lineage_tail"
    description = (
        "Persons, Arabic names (a connector bin / ben / ould or an article al / el in one): "
        "a name that chains a person's given name, father's and grandfather's names, cut "
        "at another length or ending in another of his names (MUHAMMAD YUNIS "
        "AHMAD AL-BADRANI / MUHAMMAD YUNIS AHMAD AHMAD; ADEL BEN AL-AZHAR BEN YOUSSEF BEN "
        "SOLTANE / ... BEN YOUSSEF HAMDI): `shortest` parts or more matched alike (`close`) "
        "from each name's first part on, in order, two of them `rare` (rarity weight), and "
        "on each side one last part that matches nothing, which cost `factor` of their "
        "weight; such a hit can FLAG but not BLOCK. "
        "Brothers share all but the first part: that is not this."
    )
    factor = 0.5
    close = 0.85
    shortest = 3
    rare = 0.9

    def __call__(self, p: Pair) -> float:
        if not p.person or len(p.aligned) < self.shortest:
            return 0.0
        if not (_arabic_chain(p.q) or _arabic_chain(p.c)):
            return 0.0  # TATNEFT named after Shashin / ... Kirov, compared as a person's
        q_rest = _rest(p.q, p.wq, p.qa)
        c_rest = _rest(p.c, p.wc, p.ca)
        if len(q_rest) != 1 or len(c_rest) != 1:
            return 0.0
        i, j = q_rest[0], c_rest[0]
        if i != _last(p.q, p.wq) or j != _last(p.c, p.wc):
            return 0.0  # the part that differs is not where the chain ends
        if 0 not in p.qa or 0 not in p.ca:
            return 0.0  # the given name differs (brothers) or is left out
        chain = sorted((a, b, s) for a, b, s in p.aligned
                       if p.q.kinds[a] not in ("connector", "stop"))  # fmt: skip
        if len(chain) < self.shortest or min(s for _, _, s in chain) < self.close:
            return 0.0
        if any(b1 >= b2 for (_, b1, _), (_, b2, _) in pairwise(chain)):
            return 0.0  # not in the same order: not one chain of names
        if sum(1 for a, b, _ in chain if max(p.wq[a], p.wc[b]) >= self.rare) < 2:
            return 0.0  # a chain of common names (Muhammad Ali Ahmad) says little
        num = sum(s * (p.wq[a] + p.wc[b]) for a, b, s in p.aligned)
        den = sum(p.wq) + sum(p.wc)
        lifted = num / (den - (1 - self.factor) * (p.wq[i] + p.wc[j]))
        p.flag_at_most()
        return max(0.0, lifted - p.base)


def _arabic_chain(x: Parsed) -> bool:
    """Whether a name has a connector (bin, ben, ould) or an Arabic article (al, el)."""
    return any(k == "connector" or t in _ARTICLES for t, k in zip(x.parts, x.kinds, strict=True))


def _rest(x: Parsed, w: list[float], aligned: set[int]) -> list[int]:
    """The parts weighed above 0.1, no connector or article, that match nothing."""
    return [k for k in range(len(w)) if k not in aligned and w[k] > 0.1
            and x.kinds[k] not in ("connector", "stop")]  # fmt: skip


def _last(x: Parsed, w: list[float]) -> int:
    """The last part of a name that is neither a connector nor a stop word."""
    for k in range(len(x.parts) - 1, -1, -1):
        if x.kinds[k] not in ("connector", "stop") and w[k] > 0.1:
            return k
    return -1


class JoinedParts(Feature):
    name = "joined_parts"
    description = (
        "Names written with parts joined or split (RamiMakhlouf, Pol Pot / PolPot): the two "
        "names compared with their spaces removed (less `discount` unless equal), when that "
        "is higher; also with their articles and one- or two-letter legal forms, which may "
        "be cut off a part (El Shafee Elsheikh / ELSHAFEE EL SHEIKH, HeliCo / HELIKO)."
    )
    discount = 0.02

    def __call__(self, p: Pair) -> float:
        qn = [t for t, w in zip(p.q.parts, p.wq, strict=True) if w > 0.1]
        cn = [t for t, w in zip(p.c.parts, p.wc, strict=True) if w > 0.1]
        if not qn or not cn:
            return 0.0
        s = 0.0
        if len(qn) != len(cn):
            s = OSA.normalized_similarity("".join(qn), "".join(cn))
        if s < 1.0:
            # with the articles and short legal forms the parts were cut into: El Shafee
            # Elsheikh / ELSHAFEE EL SHEIKH, HeliCo Group (heli co) / HELIKO GROUP
            qs, cs = _with_short(p.q, p.wq), _with_short(p.c, p.wc)
            if (qs != qn or cs != cn) and qs != cs:
                s2 = OSA.normalized_similarity("".join(qs), "".join(cs))
                # as many parts each side: only the same letters cut otherwise are joined
                s = max(s, s2 if len(qs) != len(cs) or s2 == 1.0 else 0.0)
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


def _with_short(x: Parsed, w: list[float]) -> list[str]:
    """The parts weighed above 0.1, with the stop words and one- or two-letter legal forms."""
    return [t for t, k, v in zip(x.parts, x.kinds, w, strict=True)
            if v > 0.1 or k == "stop" or (k == "legal" and len(t) <= 2)]  # fmt: skip


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


class GenerationsDiffer(Feature):
    name = "generations_differ"
    description = (
        "Both names carry a generational suffix and they differ (Ivan Petrov II / Ivan Petrov "
        "III, John Smith Jr / John Smith Sr; a person's 2nd / 3rd): father and son share the "
        "rest of the name, so such a hit can FLAG but never BLOCK. One side only (Sergey "
        "Ivanov Jr / Sergey Ivanov): the lists often leave the suffix out, nothing."
    )

    def __call__(self, p: Pair) -> float:
        a, b = generations(p.q, p.person), generations(p.c, p.person)
        if a and b and a != b:
            p.flag_at_most()
        return 0.0


def generations(x: Parsed, person: bool) -> frozenset[str]:
    """The generational suffixes of a name after its first part (jr and junior as one;
    roman numerals II-X, a one-letter one only as the last part; a person's numbers)."""
    out = set()
    last = len(x.parts) - 1
    for k in range(1, last + 1):
        t = x.parts[k]
        g = _GENERATIONS.get(t)
        if g is not None and (len(t) > 1 or k == last):
            out.add(g)
        elif person and x.kinds[k] == "number":
            out.add(t)
    return frozenset(out)


_GENERATIONS = {"jr": "jr", "jnr": "jr", "junior": "jr", "sr": "sr", "snr": "sr",
                "senior": "sr", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6",
                "vii": "7", "viii": "8", "ix": "9", "x": "10"}  # fmt: skip


class GenericOnly(Feature):
    name = "generic_only"
    description = (
        "A name that is nothing but generic words and legal forms (MANAGEMENT LLC): its parts "
        "all count as names, and a hit on it can FLAG but never BLOCK. So can a hit on an "
        "organisation's name of generic words and numbers (Plant 7 / Zavod 7): a number "
        "tells one owner's plants apart, not one owner's from another's; its parts weigh as "
        "usual (the number compares exactly, a misspelt generic word costs little)."
    )

    def __call__(self, p: Pair) -> float:
        if p.generic_only or (not p.person and (_generic_number(p.q) or _generic_number(p.c))):
            p.flag_at_most()
        return 0.0


def _generic_number(x: Parsed) -> bool:
    """Whether a name is generic words and numbers, no name (Plant 7, JSC 33 SHIPYARD). A
    number without a generic word is the name itself: an aircraft's registration (RF-82041),
    a vessel's (7-28), MS-13, 11420 CORP."""
    return "name" not in x.kinds and "generic" in x.kinds and "number" in x.kinds


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
    LineageTail(),
    JoinedParts(),
    Acronym(),
    EquivalentWords(),
    AcronymParts(),
    ContainedName(),
    DifferingParts(),
    DifferingGeneric(),
    ExtraParts(),
    Initials(),
    PatronymicOrder(),
    QuotedName(),
    NumbersDiffer(),
    GenerationsDiffer(),
    TranslatedOnly(),
    GenericOnly(),
    SchemaMismatch(),
)


_PARAMETERS = ("factor", "close", "discount", "floor", "initials", "penalty", "most",
               "similarity", "shortest", "longest", "list_shortest", "bonus", "rare",
               "common")  # fmt: skip


def describe_features() -> list[dict[str, str]]:
    """Every feature with its description and parameters (for docs and `--help`)."""
    out = []
    for f in (*NAME_FEATURES, CountryQualifier()):
        params = {k: getattr(f, k) for k in _PARAMETERS if hasattr(f, k)}
        out.append({"name": f.name, "description": f.description, "parameters": str(params)})
    return out
