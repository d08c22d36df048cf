"""One comparison: align two parsed names' parts, then let every feature explain the score."""

from __future__ import annotations

from collections.abc import Callable

from rapidfuzz.distance import OSA

from transship.screening.features import NAME_FEATURES, CountryQualifier, Pair, Thresholds01
from transship.screening.parsed import BODY_WORDS, Parsed, part_similarity, part_weights
from transship.screening.scripts import HANGUL, KANA


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
    script: str = "",
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
        # the spans that could be joined, in the order they are tried (two parts, then three)
        spans = [
            (i, n, "".join(a.parts[i : i + n]))
            for n in (2, 3)
            for i in range(na - n + 1)
            if free[i] and free[i + 1] and (n == 2 or free[i + 2])
        ]
        for j in range(len(b.parts)):
            if j in ub or wb[j] <= 0 or len(b.parts[j]) < 4:
                continue
            target = b.parts[j]
            lt = len(target)
            # the span closest to the target, not the first that passes: bd allh and bd al
            # both have the consonants of ABDEL; the raw edit similarity breaks the tie
            best: tuple[float, float, int, int] | None = None
            for i, n, joined in spans:
                if not (free[i] and free[i + 1] and (n == 2 or free[i + 2])):
                    continue  # a part of it was joined to an earlier target
                lj = len(joined)
                if 2 * min(lj, lt) < max(lj, lt):
                    continue
                sim, _ = part_similarity(
                    joined, target, "name", "name", "", "", "", "", person, abjad, script
                )
                if abjad and sim < 0.85 and n == 3 and a.parts[i + 1] == "al":
                    # the article's l is assimilated in Latin spellings (nwr al dyn /
                    # NOUREDDINE, sraj al dyn / SIRAJUDDIN)
                    joined = a.parts[i] + a.parts[i + 2]
                    sim, _ = part_similarity(
                        joined, target, "name", "name", "", "", "", "", person, abjad
                    )
                # a Korean given name written joined (Jisung / ji seong) matches at 0.85
                if sim >= (0.85 if abjad or script in (HANGUL, KANA) else 0.9) and not any(
                    # one of the parts alone is as close (صالح ال / SALEH): the join adds
                    # nothing and would take the part the article belongs to (ال سيد / ELSSEID)
                    part_similarity(
                        a.parts[k], target, a.kinds[k], b.kinds[j], a.phon[k], b.phon[j],
                        a.skel[k], b.skel[j], person, abjad, script,
                    )[0] >= sim
                    for k in range(i, i + n)
                ):  # fmt: skip
                    key = (sim, OSA.normalized_similarity(joined, target), -i, n)
                    if best is None or key[:3] > best[:3]:
                        best = key
                    if not abjad:
                        break  # after the one-to-one alignment: the first is kept, as before
            if best is not None:
                sim, _, i, n = best
                i = -i
                for k in range(i, i + n):
                    ua.add(k)
                    free[k] = False
                    aligned.append((j, k, sim) if flip else (k, j, sim))
                ub.add(j)
                merged = True
    return merged


_CONSONANT = frozenset("bcdfghjklmnpqrstvwxyz")


def _other_syllable(a: str, b: str) -> bool:
    """Whether two parts of a syllable name differ in their first consonant only (tong /
    yong, kim / lim): another syllable. A vowel is as often a romanization's (Omar / Umar),
    and so is a difference further in (Chol / Cheol, Jong / Jeong)."""
    return (
        len(a) == len(b)
        and a[0] != b[0]
        and a[1:] == b[1:]
        and a[0] in _CONSONANT
        and b[0] in _CONSONANT
    )


def _syllables(x: Parsed) -> bool:
    """Whether a name is three or more parts of two to four letters (Kim Yong Chol)."""
    return len(x.parts) >= 3 and all(2 <= len(t) <= 4 for t in x.parts)


def _short(a: str, b: str) -> bool:
    """Whether the shorter part may be the longer written as its consonants (MGMT)."""
    x = a if len(a) < len(b) else b
    return len(x) >= 3 and not any(ch in "aeiouy" for ch in x[1:])


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
    common: Callable[[str], bool] | None = None,
) -> Pair:
    """Score query `q` against candidate `c`; returns the Pair with its contributions.

    `c_weights`, `q_weights`: the candidate's and the query's part weights from
    `part_weights` (same `person` and `rarity`), when kept by the caller; never modified.

    A name with a bracketed segment below FLAG is also compared without it and as the
    segment alone, one side at a time (feature `bracketed`, FLAG at most): the segment is
    another name for it as often as a qualifier (KOREA KWANGSON BANKING CORPORATION (KKBC),
    KHATIBA IMAM AL-BUKHARI (KIB), Tallamkho Design Bureau ('Pathfinder')).
    """
    p = _compare(
        q, c, person, rarity, thresholds, country, country_match, schema_mismatch, c_weights,
        q_weights, common,
    )  # fmt: skip
    if not (q.bracketed or c.bracketed) or final_score(p) >= thresholds.flag:
        return p
    best: Pair | None = None
    for qv, cv in [(v, c) for v in _bracket_variants(q)] + [(q, v) for v in _bracket_variants(c)]:
        alt = _compare(
            qv, cv, person, rarity, thresholds, country, country_match, schema_mismatch,
            None, None, common,
        )  # fmt: skip
        if best is None or final_score(alt) > final_score(best):
            best = alt
    if best is None or final_score(best) <= final_score(p):
        return p
    lift = best.name_total - p.name_total
    p.contributions.append((BRACKETED, lift))
    p.name_total += lift
    p.total += lift
    p.cap = best.cap
    p.flag_at_most()
    return p


BRACKETED = "bracketed"


def _bracket_variants(x: Parsed) -> list[Parsed]:
    """`x` without each bracketed segment and each segment alone, when both keep a part
    that is a name."""
    out = []
    for seg in x.bracketed:
        n = len(seg)
        k = next((k for k in range(len(x.parts) - n + 1) if x.parts[k : k + n] == seg), -1)
        if k < 0:
            continue
        for keep in (
            [i for i in range(len(x.parts)) if not k <= i < k + n],
            list(range(k, k + n)),
        ):
            if keep and any(x.kinds[i] == "name" for i in keep):
                out.append(
                    Parsed(
                        tuple(x.parts[i] for i in keep), tuple(x.kinds[i] for i in keep),
                        tuple(x.phon[i] for i in keep), tuple(x.skel[i] for i in keep),
                        x.abjad, tuple(s for s in x.quoted if _within(s, keep, x)), (),
                        x.script,
                    )
                )  # fmt: skip
    return out


def _within(seg: tuple[str, ...], keep: list[int], x: Parsed) -> bool:
    kept = [x.parts[i] for i in keep]
    return any(tuple(kept[k : k + len(seg)]) == seg for k in range(len(kept) - len(seg) + 1))


def _compare(
    q: Parsed,
    c: Parsed,
    person: bool,
    rarity: Callable[[str], float],
    thresholds: Thresholds01,
    country: CountryQualifier | None,
    country_match: bool | None,
    schema_mismatch: bool,
    c_weights: tuple[list[float], bool] | None,
    q_weights: tuple[list[float], bool] | None,
    common: Callable[[str], bool] | None,
) -> Pair:
    wq, gq = q_weights or part_weights(q, person, rarity)
    wc, gc = c_weights or part_weights(c, person, rarity)
    used_q: set[int] = set()
    used_c: set[int] = set()
    aligned: list[tuple[int, int, float]] = []
    # Equal parts first (most parts of a true match are): no edit distance needed for them.
    # Stop words wait for the one-to-one alignment (where equal parts still pair first): an
    # Arabic article joined to its noun (عبداللطيف / ABD AL LATIF) is not the next "al".
    where: dict[str, list[int]] = {}
    for j, b in enumerate(c.parts):
        if wc[j] > 0 and c.kinds[j] != "stop":
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
    script = q.script or c.script
    merged = False
    if abjad or script == HANGUL:
        # Arabic compounds (عبد الله: bd allh / ABDULLAH) are joined before parts align one
        # to one: else one half (allh) takes the whole (abdullah) and the other is left over;
        # so are Hangul syllables, one part each (지성 ji seong / Jisung, 푸틴 pu tin / Putin).
        merged = _split_parts(q, c, wq, wc, used_q, used_c, aligned, abjad, person, script)
    rest_c = [j for j in range(len(c.parts)) if j not in used_c and wc[j] > 0]
    # A person's name of three or more short parts each side (Kim Yong Chol) is written in
    # syllables, each a name: one with another first letter is another name
    syllables = person and _syllables(q) and _syllables(c)
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
                and not (a[0] == b[0] and "generic" in (ka, c.kinds[j]) and _short(a, b))
                and not (a in BODY_WORDS and b in BODY_WORDS)
            ):
                continue  # lengths too far apart for any similarity that aligns
            s, init = part_similarity(
                a, b, ka, c.kinds[j], pa, c.phon[j], sa, c.skel[j], person, abjad, script
            )
            if syllables and s < 0.85 and _other_syllable(a, b):
                continue  # another syllable of a Korean / Chinese name (Tong / Yong), no typo
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
    # Only worth trying when joining the leftover parts could lift the pair to a match.
    sq, sc = sum(wq), sum(wc)
    den = sq + sc
    if den > 0 and len(used_q) != len(q.parts) and len(used_c) != len(c.parts):
        left = sum(w for i, w in enumerate(wq) if i not in used_q) + sum(
            w for j, w in enumerate(wc) if j not in used_c
        )
        so_far = sum(s * (wq[i] + wc[j]) for i, j, s in aligned)
        if (so_far + left) / den >= 0.6:
            merged = (
                _split_parts(q, c, wq, wc, used_q, used_c, aligned, abjad, person, script) or merged
            )
    side_c: dict[int, float] = {}
    side_q: dict[int, float] = {}
    for i, j, s in aligned:
        side_q[i] = max(side_q.get(i, 0.0), s)
        side_c[j] = max(side_c.get(j, 0.0), s)
    num = sum(s * wq[i] for i, s in side_q.items()) + sum(s * wc[j] for j, s in side_c.items())
    base = num / den if den > 0 else 0.0
    p = Pair(
        q, c, person, wq, wc, aligned, initials, base, gq or gc, thresholds,
        country_match, schema_mismatch, qa=used_q, ca=used_c,
    )  # fmt: skip
    p.merged = merged
    p.common = common
    total = 0.0
    for f in _PERSON_FEATURES if person else _ORG_FEATURES:
        p.total = total  # the score so far (quoted_name lifts it to a floor)
        p.capped = False
        v = f(p)
        if v or p.capped:  # a feature that only caps the score is listed at 0 points
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


# The features that can fire for a person's name and for any other (each returns 0 before
# doing anything for the other kind), in NAME_FEATURES order: the same contributions.
_ORG_ONLY = frozenset({"acronym", "acronym_parts", "differing_parts", "differing_generic",
                       "equivalent_words", "extra_parts", "contained_name",
                       "quoted_name", "translated_only"})  # fmt: skip
_PERSON_FEATURES = tuple(f for f in NAME_FEATURES if f.name not in _ORG_ONLY)
_ORG_FEATURES = tuple(f for f in NAME_FEATURES if f.name not in ("missing_parts", "lineage_tail"))


def final_score(p: Pair) -> float:
    """The comparison's score 0-1 after caps."""
    return max(0.0, min(1.0, p.total, p.cap))
