"""The features that compare organisations' names only (screening.features runs them).

Organisations' names differ from persons' in what a word more or less means: a legal form
or generic word is noise, a distinctive word more is as often a sister company, and
Russian-style names quote the proper name and describe the rest.
"""

from __future__ import annotations

import functools

from transship.screening.equivalents import initials, phrase_runs, same_meaning
from transship.screening.featurebase import Feature, Pair, similar
from transship.screening.names import name_forms, part_kind
from transship.screening.parsed import BODY_WORDS, Parsed


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
        "as the same one (the penalty of one word more, extra_parts). Words that say how a "
        "business is organised (group, holding, international, company) cost nothing: one "
        "for another aligns (parsed.part_similarity), but such a hit can FLAG, not BLOCK "
        "(Qatarji International Group / Al Qatarji Company; a group and its holding may "
        "be two companies)."
    )
    penalty = 0.04
    most = 0.08

    def __call__(self, p: Pair) -> float:
        if p.person:
            return 0.0
        q, c = p.q.parts, p.c.parts
        if any(q[i] != c[j] and q[i] in BODY_WORDS and c[j] in BODY_WORDS
               for i, j, _ in p.aligned):  # fmt: skip
            p.flag_at_most()
        if p.joined or p.generic_only:
            return 0.0  # a name of generic words only weighs them as names: differing_parts
        qa, ca = p.qa, p.ca
        nq = _line_words(p.q, p.wq, qa)
        nc = _line_words(p.c, p.wc, ca)
        return -min(self.most, self.penalty * min(nq, nc)) or 0.0  # capped: 0 points, not -0


def _line_words(x: Parsed, w: list[float], aligned: set[int]) -> int:
    """How many generic words of `x` that say its line of business match nothing."""
    return sum(1 for i, (t, k) in enumerate(zip(x.parts, x.kinds, strict=True))
               if k == "generic" and i not in aligned and w[i] and t not in BODY_WORDS)  # fmt: skip


class ExtraParts(Feature):
    name = "extra_parts"
    description = (
        "Organisations: distinctive parts on one side only that match nothing on the other "
        "(GALLION NAVIGATION ZULIANA / GALLION NAVIGATION INC) cost `penalty` each, at most "
        "`most`: a name with a word more is as often a sister company as the same one. "
        "Not when contained_name fired: its words more are common words, paid for there."
    )
    penalty = 0.04
    most = 0.08

    def __call__(self, p: Pair) -> float:
        if p.person or p.joined or p.merged:
            return 0.0
        if any(n == ContainedName.name for n, _ in p.contributions):
            return 0.0  # its words more are common words, paid for there
        qa, ca = p.qa, p.ca
        q_rest = [t for i, (t, w) in enumerate(zip(p.q.parts, p.wq, strict=True))
                  if i not in qa and w >= 0.3]  # fmt: skip
        c_rest = [t for j, (t, w) in enumerate(zip(p.c.parts, p.wc, strict=True))
                  if j not in ca and w >= 0.3]  # fmt: skip
        if q_rest and c_rest:
            return 0.0  # a part differs on both sides: differing_parts
        rest, other = (q_rest, p.c.parts) if q_rest else (c_rest, p.q.parts)
        # a misspelt legal form or generic word (LTDAS, KCOMPANY) is no word more
        n = sum(1 for t in rest if not any(similar(t, o) for o in other))
        return -min(self.most, self.penalty * n)


class TranslatedOnly(Feature):
    name = "translated_only"
    description = (
        "Organisations: the distinctive parts the names share are all one word in two "
        "languages, spelt otherwise (Bank of Russia / Bank Rossiya: russia and rossiya by "
        "name_equivalents.yaml), none spelt alike: such a hit can FLAG but never BLOCK. A "
        "translation says the names may be one; two entities are named so as often (the "
        "Central Bank of the Russian Federation and AB Rossiya)."
    )

    def __call__(self, p: Pair) -> float:
        if p.person or p.joined:
            return 0.0
        translated = False
        for i, j, _ in p.aligned:
            if "name" not in (p.q.kinds[i], p.c.kinds[j]) or max(p.wq[i], p.wc[j]) < 0.3:
                continue  # a generic word, a legal form: no distinctive part
            a, b = p.q.parts[i], p.c.parts[j]
            if similar(a, b) or not same_meaning(a, b):
                return 0.0  # a distinctive part spelt alike (or aligned otherwise)
            translated = True
        if translated:
            p.flag_at_most()
        return 0.0


class Acronym(Feature):
    name = "acronym"
    description = (
        "One name is the initials of the other's parts (PLA / People's Liberation Army; stop "
        "words left out or kept, EOAE / Embers of an Empire; a number by a word for it, FIIB / "
        "First Islamic Investment Bank; a word by the initial of a word of its meaning in "
        "name_equivalents.yaml, SMZ / Samara Metallurgical Plant, zavod): "
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
            if _initials_of(b, short):
                p.flag_at_most()
                p.joined = True  # the parts are reshaped, not different
                return max(0.0, self.floor - p.base)
        return 0.0


def _initials_of(x: Parsed, short: str) -> bool:
    """Whether `short` is the initials of `x`'s parts that are no legal form, its stop words
    left out or kept (EOAE: Embers of an Empire); a number may have been a word (FIIB: First
    Islamic Investment Bank, written 1 islamic ...)."""
    for stops in (False, True):
        words = [t for t, k in zip(x.parts, x.kinds, strict=True)
                 if k != "legal" and (stops or k != "stop")]  # fmt: skip
        if len(words) == len(short) and all(
            ch in (t[0] + _number_initials().get(t, "") if t.isdigit() else initials(t))
            for t, ch in zip(words, short, strict=True)
        ):
            return True
        if "stop" not in x.kinds:
            break
    return False


@functools.cache
def _number_initials() -> dict[str, str]:
    """The first letters of the words name_forms.yaml writes each number as (1: one, first,
    odin, pervyy ...)."""
    out: dict[str, str] = {}
    for word, digits in name_forms().numbers.items():
        out[digits] = out.get(digits, "") + word[0]
    return out


class EquivalentWords(Feature):
    name = "equivalent_words"
    description = (
        "Organisations: runs of parts that match nothing and mean the same, in another "
        "language or spelt out (JSC ZAVOD LADOGA / Ladoga Plant, JSC NII Steel / Scientific "
        "Research Institute of Steel, SANAYI VE TICARET / INDUSTRY AND TRADE: "
        "reference/data/name_equivalents.yaml), aligned at `similarity`. One word for one "
        "(zavod / plant) aligns so in name_alignment (parsed.part_similarity)."
    )
    similarity = 0.95

    def __call__(self, p: Pair) -> float:
        if p.person or p.joined:
            return 0.0
        den = sum(p.wq) + sum(p.wc)
        if den <= 0 or len(p.qa) == len(p.wq) or len(p.ca) == len(p.wc):
            return 0.0
        rq = phrase_runs(p.q.parts, p.q.kinds, p.qa)
        if not rq:
            return 0.0
        rc = phrase_runs(p.c.parts, p.c.kinds, p.ca)
        pairs = [(a, b) for ga, a in rq for gb, b in rc if ga == gb]
        pairs.sort(key=lambda ab: (-len(ab[0]) - len(ab[1]), ab[0][0], ab[1][0]))
        added = 0.0
        for a, b in pairs:
            if any(i in p.qa for i in a) or any(j in p.ca for j in b):
                continue
            p.qa.update(a)
            p.ca.update(b)
            p.aligned.append((a[0], b[0], self.similarity))
            added += self.similarity * (sum(p.wq[i] for i in a) + sum(p.wc[j] for j in b)) / den
        p.base += added  # the features after this one compare with the aligned parts
        return added


class AcronymParts(Feature):
    name = "acronym_parts"
    description = (
        "Organisations: a part of one name (`shortest` to `longest` letters) that matches "
        "nothing is the initials of a run of parts of the other that match nothing (JSC SDB "
        "Turbina / JSC Special Design Bureau Turbina, LLC SC Lyukstrans / LLC Shipping "
        "Company Lyukstrans; a word also by the initial of a word of its meaning, JSC VPO "
        "Tochmash / JSC Vladimir Production Association Tochmash, obyedineniye), beside a "
        "distinctive part both share: aligned with them at "
        "`similarity`; such a hit can FLAG but not BLOCK. Lists write a kind of "
        "organisation spelt out or by its initials."
    )
    similarity = 0.9
    shortest = 2
    longest = 5

    def __call__(self, p: Pair) -> float:
        if p.person or p.joined or p.generic_only:
            return 0.0
        den = sum(p.wq) + sum(p.wc)
        if den <= 0 or len(p.qa) == len(p.wq) or len(p.ca) == len(p.wc):
            return 0.0  # every part of one side is aligned: no initials left over
        if not any(s >= 0.8 and p.q.kinds[i] == "name" and p.wq[i] >= 0.3 for i, _, s in p.aligned):
            return 0.0  # initials beside nothing else the names share: acronym's rules
        added = 0.0
        for a, b, wa, wb, ua, ub, flip in (
            (p.q, p.c, p.wq, p.wc, p.qa, p.ca, False),
            (p.c, p.q, p.wc, p.wq, p.ca, p.qa, True),
        ):
            for i, (t, k) in enumerate(zip(a.parts, a.kinds, strict=True)):
                if i in ua or k in ("legal", "stop", "number") or wa[i] <= 0:
                    continue
                if not (self.shortest <= len(t) <= self.longest and t.isalpha()):
                    continue
                run = _initials_run(b, ub, t)
                if run is None:
                    continue
                ua.add(i)
                ub.update(run)
                p.aligned.append(
                    (run[0], i, self.similarity) if flip else (i, run[0], self.similarity)
                )
                added += self.similarity * (wa[i] + sum(wb[j] for j in run)) / den
        if not added:
            return 0.0
        p.flag_at_most()
        p.base += added  # the features after this one compare with the aligned parts
        return added


def _initials_run(x: Parsed, used: set[int], letters: str) -> list[int] | None:
    """The first run of unaligned parts of `x` whose initials are `letters` (stop words and
    English prepositions inside the run skipped: Ministry of Public Security, MPS; Islamic
    State in Iraq and the Levant, ISIL), or None."""
    n = len(x.parts)
    skip = [k == "stop" or t in _PREPOSITIONS for t, k in zip(x.parts, x.kinds, strict=True)]
    for start in range(n):
        if start in used or skip[start] or letters[0] not in initials(x.parts[start]):
            continue
        run: list[int] = []
        k = start
        while k < n and len(run) < len(letters) and k not in used:
            if not skip[k]:
                if x.kinds[k] == "number" or letters[len(run)] not in initials(x.parts[k]):
                    break
                run.append(k)
            k += 1
        if len(run) == len(letters) >= 2:
            return run
    return None


# no stop words (In Su Pak, a person's name, keeps its "in"), but no initial of an acronym
_PREPOSITIONS = frozenset({"in", "on", "at", "to", "by"})


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
                    or any(similar(b.parts[j], t) for t in a.parts)
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
