"""Names cut into parts for comparison: kinds, phonetic keys, weights, part similarity.

A name is cut into parts (screening.names.name_parts: Latin, legal forms kept) and each
part gets a kind (name, generic, legal, stop, connector, number) and a weight: rarity in the
loaded list for name parts (a part in 1 name in 1,000 or rarer weighs 1, one in every name
0.3), a fixed small weight for generic words, nothing for legal forms when comparing
organisations (so AO = JSC = AKTSIONERNOYE OBSHCHESTVO). Persons are compared part by part
with every kind counting as a name part, so KU Ja Hyong keeps its "ku". Two parts compare by
OSA edit distance (a transposition is one edit); equal metaphone keys or, for vowel-less
abjad romanizations such as mhmd, equal consonant skeletons lift a pair.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from rapidfuzz.distance import OSA

from transship.screening.equivalents import same_meaning
from transship.screening.names import (
    bracketed_parts,
    is_abjad,
    name_forms,
    name_parts,
    part_kind,
    quoted_parts,
)
from transship.screening.scripts import (
    GREEK,
    HANGUL,
    HEBREW,
    KANA,
    greek_stem,
    kana_key,
    korean_key,
    name_script,
)
from transship.screening.spellings import abjad_skeleton, fold, skeleton, translit_key


@dataclass(frozen=True, slots=True)
class Parsed:
    """A name cut into parts with their kinds and phonetic keys."""

    parts: tuple[str, ...]
    kinds: tuple[str, ...]
    phon: tuple[str, ...]
    skel: tuple[str, ...]
    abjad: bool = False  # written in Arabic/Hebrew script: compare consonant skeletons
    quoted: tuple[tuple[str, ...], ...] = ()  # the parts of each quoted segment (names.py)
    bracketed: tuple[tuple[str, ...], ...] = ()  # and of each bracketed one
    script: str = ""  # screening.scripts.name_script: HANGUL, GREEK or ""
    # Derived once (the features ask for them in every comparison): whether the name has a
    # legal form of three letters or more (two-letter forms such as ku, ao, as are also name
    # parts of persons: not evidence), and its one part that is no such legal form, if it
    # has exactly one (a candidate acronym: PLA, IEM).
    has_legal: bool = field(init=False, compare=False)
    sole: str | None = field(init=False, compare=False)

    def __post_init__(self) -> None:
        pk = zip(self.parts, self.kinds, strict=True)
        rest = [t for t, k in pk if k != "legal" or len(t) < 3]
        object.__setattr__(self, "has_legal", len(rest) < len(self.parts))
        object.__setattr__(self, "sole", rest[0] if len(rest) == 1 else None)


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
    # otvetstvennostyu) are rigour's, legal phrases ours: every part of one is a legal part.
    for form in (*_org_forms(" ".join(parts)), *name_forms().legal_phrases):
        n = len(form)
        for i in range(len(parts) - n + 1):
            if parts[i : i + n] == form:
                kinds[i : i + n] = ["legal"] * n
    # A single letter between legal-form words is part of the form (obshchestvo s ...).
    for i in range(1, len(parts) - 1):
        if len(parts[i]) == 1 and kinds[i - 1] == "legal" and kinds[i + 1] == "legal":
            kinds[i] = "legal"
    # A number's marker (Zavod No 2, Enterprise Number 2, Werk Nr. 7) is no word of the name.
    for i in range(len(parts) - 1):
        if parts[i] in _NUMBER_MARKS and kinds[i + 1] == "number":
            kinds[i] = "stop"
    # Arabic "and" (wa; wal, with the article) is a stop word in a name with an Arabic
    # article (Jama'at Nusrat al-Islam wal-Muslimin, al-Filistinya wa al-Lubnanya); elsewhere
    # it is a name (YUNG, Yiu Wa; UNITED WA STATE ARMY; Wal Mart)
    if _ARTICLES.intersection(parts):
        for i, p in enumerate(parts):
            if p in ("wa", "wal"):
                kinds[i] = "stop"
    # junior / senior say a person's generation (name_forms.yaml titles); beside a legal form
    # or a generic word, in an organisation's name, they are names (JUNIOR INTERNATIONAL S.A.)
    if "legal" in kinds or "generic" in kinds:
        for i, p in enumerate(parts):
            if p in ("junior", "senior"):
                kinds[i] = "name"
    phon = tuple(metaphone_key(p) for p in parts)
    skel = tuple(skeleton(p) for p in parts)
    return Parsed(
        parts, tuple(kinds), phon, skel, is_abjad(name), quoted_parts(name),
        bracketed_parts(name), name_script(name),
    )  # fmt: skip


_ARTICLES = frozenset({"al", "el", "ul", "ur", "ud"})
_NUMBER_MARKS = frozenset({"n", "no", "nr", "nro", "num", "number", "numero", "nomer"})


def rarity_weight(df: int, n: int) -> float:
    """Weight of a name part found in `df` of `n` names: 1 at 1 in 1,000 or rarer, 0.3 floor."""
    if df <= 0 or n <= 0:
        return 1.0
    return max(0.3, min(1.0, -math.log10(df / n) / 3))


# Kept: the parts of one query meet the same list parts again in the aliases of an entity
# and in the next declaration naming the same party.
@functools.lru_cache(maxsize=200_000)
def part_similarity(
    a: str, b: str, ka: str, kb: str, pa: str, pb: str, sa: str, sb: str, person: bool,
    abjad: bool = False, script: str = "",
) -> tuple[float, bool]:  # fmt: skip
    """Similarity 0-1 of two name parts and whether it was an initial's match.

    `script`: what one of the names was written in (screening.scripts), when its Latin
    spellings follow conventions of their own: a person's Hangul syllable matches its
    McCune-Reischauer and customary spellings (박 bag / Park, 이 i / Lee) at 0.85, a Greek
    name part also compares without its nominative ending (Alexandros / Alexander)."""
    if a == b:
        return 1.0, False
    if ka == "number" or kb == "number":
        return 0.0, False  # digits compare exactly: Zavod 1 is not Zavod 7
    if script == HANGUL and person and korean_key(a) == korean_key(b):
        # before the initials: 이 is i, Lee no initial
        return max(0.85, OSA.normalized_similarity(a, b)), False
    if len(a) == 1 or len(b) == 1:
        if person and (b.startswith(a) or a.startswith(b)):
            return 0.9, True
        return 0.0, False
    s = OSA.normalized_similarity(a, b)
    if s < 0.95:
        s = max(s, 0.95 * OSA.normalized_similarity(fold(a), fold(b)))
    if script == KANA and s < 0.85 and min(len(a), len(b)) >= 3 and _kana_alike(a, b):
        s = 0.85  # a foreign name in kana (プーチン puchin / Putin): scripts.kana_key
    if script == GREEK and person and s < 0.9:
        sa_, sb_ = greek_stem(a), greek_stem(b)
        if (sa_, sb_) != (a, b):
            s = max(s, 0.95 * OSA.normalized_similarity(fold(sa_), fold(sb_)))
    if s < 0.88 and pa and pa == pb and min(len(a), len(b)) >= 4:
        s = 0.88
    if s < 0.85 and abjad:
        # Arabic/Hebrew romanized without short vowels: mhmwd = mahmud, dwd = david
        ka_, kb_ = abjad_skeleton(a), abjad_skeleton(b)
        if ka_ == kb_ and (len(ka_) >= 2 or min(len(a), len(b)) <= 3):
            s = 0.85
        elif len(ka_) >= 3 and abjad_skeleton(_no_pv(a)) == abjad_skeleton(_no_pv(b)):
            s = 0.85  # Arabic writes a foreign v as ف, p as ب (فلاديمير بوتين: VLADIMIR PUTIN)
        elif script == HEBREW and len(ka_) >= 2 and hebrew_key(a) == hebrew_key(b):
            # Hebrew י is English j, ת its th, ב b or v (בנימין / Benjamin, לברוב / Lavrov)
            s = 0.85
        elif _inner_al(a) != a or _inner_al(b) != b:
            # the article inside a joined compound, assimilated in the Latin spelling
            # (نورالدین nwraldyn / NOORUDDIN, غیاث الدین / GHIASSOUDDINE)
            ka_, kb_ = abjad_skeleton(_inner_al(a)), abjad_skeleton(_inner_al(b))
            if ka_ == kb_ and len(ka_) >= 3:
                s = 0.85
    # Korean syllables in McCune-Reischauer and Revised Romanization (Cho / Jo, Ch'ol / Cheol,
    # Kim / Gim, Pak / Bak): a person's short parts, voiced or not, compare as one
    short = person and min(len(a), len(b)) >= 2 and max(len(a), len(b)) <= 6
    if s < 0.85 and short and _korean(a) == _korean(b):
        s = 0.85
    if s < 0.85 and person and min(len(a), len(b)) >= 4:
        # Belarusian / Ukrainian and Russian romanizations of a person's name (Siarhei /
        # Sergei, Aleh / Oleg): the same consonants after their rules. Two consonants (LEON /
        # ALAN) or no rule applied (ARKEN / AEROKON) say little unless the letters are close
        # too; not for organisations, whose one word can decide a hit (ALDER / LIDER)
        (ka_, ra), (kb_, rb) = translit_key(a), translit_key(b)
        least = 0.5 if len(ka_) == 2 else 0.0 if ra or rb else 0.6
        if ka_ == kb_ and len(ka_) >= 2 and s >= least:
            s = 0.85
    if (
        s < 0.9
        and not person
        and (
            (kb == "generic" and ka != "legal" and _abbreviates(a, b))
            or (ka == "generic" and kb != "legal" and _abbreviates(b, a))
        )
    ):
        s = 0.9  # a generic word written short (SHPG / shipping, MGMT / management)
    if s < 0.8 and not person and a in BODY_WORDS and b in BODY_WORDS:
        s = 0.8  # how a business is organised, said otherwise: differing_generic caps it
    if s < 0.95 and not person and same_meaning(a, b):
        s = 0.95  # an organisation's word in another language (zavod / plant): equivalents.py
    return s, False


def _abbreviates(short: str, word: str) -> bool:
    """Whether `short` (three letters or more, two fewer than `word` at least) is `word`'s
    first letter and consonants of it in their order (shpg: shipping, intl: international,
    mfg: manufacturing; not ship, which is a word)."""
    if len(short) < 3 or len(word) < len(short) + 2 or short[0] != word[0]:
        return False
    if any(ch in "aeiouy" for ch in short[1:]):
        return False
    rest = iter(word[1:])
    return all(ch in rest for ch in short[1:])


@functools.lru_cache(maxsize=100_000)
def _korean(t: str) -> str:
    for x, y in _KOREAN:
        t = t.replace(x, y)
    return t


_KOREAN = (("ch", "j"), ("eo", "o"), ("eu", "u"), ("ae", "e"), ("k", "g"), ("p", "b"),
           ("t", "d"), ("r", "l"), ("oe", "o"), ("oi", "o"), ("wh", "h"))  # fmt: skip


def _kana_alike(a: str, b: str) -> bool:
    """Equal kana keys of two consonants or more, or of four or more but for the first
    consonant of the Latin spelling (ウラ urajimiru / Vladimir: Japanese writes that v as u)."""
    ka, kb = kana_key(a), kana_key(b)
    if len(ka) < 2 or len(kb) < 2:
        return False
    return ka == kb or (min(len(ka), len(kb)) >= 4 and (ka == kb[1:] or kb == ka[1:]))


def hebrew_key(part: str) -> str:
    """A romanized Hebrew name part's consonant key (j = y, th = t, v = b)."""
    return abjad_skeleton(part.replace("j", "y").replace("th", "t").replace("v", "b"))


def _inner_al(part: str) -> str:
    k = part.find("al", 2)
    return part[:k] + part[k + 2 :] if 0 < k < len(part) - 3 else part


def _no_pv(part: str) -> str:
    return part.replace("v", "f").replace("p", "b")


def part_weights(
    x: Parsed, person: bool, rarity: Callable[[str], float]
) -> tuple[list[float], bool]:
    """Each part's weight and whether the name is generic words and legal forms only."""
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
    # Nothing but generic words and legal forms: they are all this name has. Its legal forms
    # of three letters or more still weigh nothing beside a generic word: the other name's
    # weigh nothing either, so they were left unmatched (JSC 'Industrial technologies' / JSC
    # 'Promyshlennye Tekhnologii' 75.9); two letters may be a name's own (KB MANAGMENT A.S.
    # is not IK-MANAGEMENT LLC)
    # A generic word that says how a business is organised (BODY_WORDS) weighs as it does
    # beside a name: Marine Industries Group is Marine Industries, not a word more.
    generic = "generic" in x.kinds
    return [
        0.05 if k == "stop" else 0.0 if k == "legal" and generic and len(t) >= 3
        else 0.2 if t in BODY_WORDS else 1.0
        for t, k in zip(x.parts, x.kinds, strict=True)
    ], True  # fmt: skip


# Generic words that say how a business is organised, not what it does: one for another
# (Hamcho Group / Hamcho International) is the same name written otherwise (differing_generic);
# so are the words for what a settlement is (MEITARIM FARM / MEITARIM OUTPOST)
BODY_WORDS = frozenset({"group", "holding", "holdings", "international", "company",
                        "corporation", "general", "global", "enterprise", "enterprises",
                        "partners", "limited", "kompaniya", "gruppa", "farm",
                        "outpost"})  # fmt: skip
