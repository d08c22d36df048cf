"""Name normalisation for party screening: one comparable Latin form per name.

casefold -> drop dots (A.Ş. -> aş, Ltd. Şti. -> ltd şti) -> rigour removes legal forms in the
original script (ООО, შპს, anonim şirketi) -> Russian/Ukrainian Cyrillic romanized BGN/PCGN
style (the lists' own style: Щукин -> shchukin) -> rigour's ascii_text for every other script
(Turkish, Armenian, Georgian ...) -> punctuation to spaces -> rigour again on the Latin form
(limited liability company) -> the supplementary legal forms and abbreviations of
reference/data/name_forms.yaml. Legal forms are noise for matching: "Alfa OOO" and
"Alfa LLC" are the same name.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from transship.reference import DATA_DIR, ReferenceDataError
from transship.screening.normalize import clean_name
from transship.screening.scripts import GREEK_LETTERS, greek_latin

_PUNCT = re.compile(r"[^\w\s]+|_")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class NameForms:
    cyrillic: dict[str, str]
    legal_forms: tuple[tuple[str, ...], ...]  # token sequences, longest first
    abbreviations: dict[str, str]
    generic_words: frozenset[str]
    connectors: frozenset[str] = frozenset()
    numbers: dict[str, str] = field(default_factory=dict)
    legal_words: frozenset[str] = frozenset()
    titles: frozenset[str] = frozenset()
    legal_phrases: tuple[tuple[str, ...], ...] = ()  # forms only as a whole (yaml: why)


@functools.cache
def name_forms(path: Path | None = None) -> NameForms:
    from transship.reference._load import fail, read_yaml

    p = path or DATA_DIR / "name_forms.yaml"
    data = read_yaml(p)
    cyr, forms, abbr = data.get("cyrillic"), data.get("legal_forms"), data.get("abbreviations")
    generic = data.get("generic_words")
    if not isinstance(generic, list) or not all(isinstance(w, str) and w for w in generic):
        raise fail(p, None, "field 'generic_words': expected a list of non-empty strings")
    if not isinstance(cyr, dict) or not all(
        isinstance(k, str) and len(k) == 1 and isinstance(v, str) for k, v in cyr.items()
    ):
        raise fail(p, None, "field 'cyrillic': expected a mapping of single letters to text")
    if not isinstance(forms, list) or not all(isinstance(f, str) and f for f in forms):
        raise fail(p, None, "field 'legal_forms': expected a list of non-empty strings")
    if not isinstance(abbr, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in abbr.items()
    ):
        raise fail(p, None, "field 'abbreviations': expected a mapping of text to text")
    conn, nums = data.get("connectors", []), data.get("numbers", {})
    if not isinstance(conn, list) or not all(isinstance(w, str) and w for w in conn):
        raise fail(p, None, "field 'connectors': expected a list of non-empty strings")
    if not isinstance(nums, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.isdigit() for k, v in nums.items()
    ):
        raise fail(p, None, "field 'numbers': expected a mapping of words to digits")
    words = {k: data.get(k, []) for k in ("legal_words", "titles", "legal_phrases")}
    for k, v in words.items():
        if not isinstance(v, list) or not all(isinstance(w, str) and w for w in v):
            raise fail(p, None, f"field {k!r}: expected a list of non-empty strings")
    seqs = sorted({tuple(f.split()) for f in forms}, key=len, reverse=True)
    return NameForms(
        dict(cyr), tuple(seqs), dict(abbr), frozenset(generic), frozenset(conn), dict(nums),
        frozenset(words["legal_words"]), frozenset(words["titles"]),
        tuple(sorted({tuple(f.split()) for f in words["legal_phrases"]}, key=len, reverse=True)),
    )  # fmt: skip


@functools.cache
def _translit_table() -> dict[int, str]:
    return {ord(k): v for k, v in name_forms().cyrillic.items()}


@functools.cache
def _forms_by_first() -> dict[str, tuple[tuple[str, ...], ...]]:
    out: dict[str, list[tuple[str, ...]]] = {}
    forms = name_forms()
    seqs = sorted((*forms.legal_forms, *forms.legal_phrases), key=len, reverse=True)
    for seq in seqs:  # longest first, kept per first token
        out.setdefault(seq[0], []).append(seq)
    return {k: tuple(v) for k, v in out.items()}


def _strip_forms(tokens: list[str]) -> list[str]:
    by_first = _forms_by_first()
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for seq in by_first.get(tokens[i], ()):
            if tuple(tokens[i : i + len(seq)]) == seq:
                i += len(seq)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


@functools.lru_cache(maxsize=200_000)
def normalize_name(name: str) -> str:
    """The comparable form of a party name: Latin, lower case, no legal forms or punctuation.

    Returns "" for names that are nothing but a legal form or punctuation.
    """
    from normality import ascii_text
    from rigour.names import remove_org_types

    forms = name_forms()
    text = clean_name(name).text.casefold().replace(".", "")  # screening.normalize
    text = remove_org_types(text)
    text = text.translate(_translit_table())
    text = ascii_text(text).lower()
    text = _PUNCT.sub(" ", text.replace("'", "").replace("`", ""))
    text = remove_org_types(_SPACES.sub(" ", text).strip())
    tokens = [forms.abbreviations.get(t, t) for t in text.split()]
    tokens = _strip_forms(tokens)
    return " ".join(tokens)


def core_name(norm: str) -> str:
    """A normalised name without its generic words (ticaret, trading ...), or all of it."""
    generic = name_forms().generic_words
    core = [t for t in norm.split() if t not in generic]
    return " ".join(core) if core else norm


def check_name_forms() -> None:
    """Load and validate name_forms.yaml (raises ReferenceDataError)."""
    try:
        name_forms()
    except ReferenceDataError:
        name_forms.cache_clear()
        raise


# -- name parts (matcher v2) -----------------------------------------------------------------
# Unlike normalize_name, name_parts keeps legal forms and generic words as parts: the matcher
# weighs them (nothing for a legal form, little for a generic word) instead of deleting them,
# so a person's name part that happens to spell a legal form (KU Ja Hyong: "ku" is rigour's
# state-owned-enterprise form) still counts when the name is compared as a person's.
# a Korean name is two to four syllables; a longer run is a foreign name (블라디미르: Vladimir)
_HANGUL = re.compile(r"(?<![\uac00-\ud7a3])[\uac00-\ud7a3]{2,4}(?![\uac00-\ud7a3])")
_DOTTED = re.compile(r"\b(?:\w\.){2,}")
_STOP = frozenset({"and", "of", "the", "ve", "de", "la", "du", "des", "der", "und", "et",
                   "for", "na", "po", "al", "el", "le", "da", "do", "di",
                   "ul", "ur", "ud"})  # fmt: skip  # ul, ur, ud: the article in Urdu spellings

KINDS = ("name", "generic", "legal", "stop", "connector", "number")


def _hangul_syllables(m: re.Match[str]) -> str:
    # A Korean name written in Hangul is one run of syllables (김정은); each syllable is a
    # name part, as in the Latin spelling (Kim Jong Un).
    return " ".join(m.group(0))


@functools.cache
def _legal_words() -> frozenset[str]:
    forms = name_forms()
    words = {t for seq in forms.legal_forms for t in seq if t not in _STOP and len(t) > 1}
    return frozenset(words | forms.legal_words)


@functools.lru_cache(maxsize=200_000)
def name_parts(name: str) -> tuple[str, ...]:
    """The Latin, lower-case parts of a name in their order, legal forms and all.

    Cyrillic is romanized BGN/PCGN style (the lists' own style), other scripts through
    ICU (rigour/normality ascii_text); dotted abbreviations are joined when they spell a
    legal form (A.Ş. -> as) and split into initials otherwise (I.V. -> i v); number words
    become digits; the abbreviations of name_forms.yaml are expanded.
    """
    forms = name_forms()
    text = _HANGUL.sub(_hangul_syllables, _split_camel(clean_name(name).text)).casefold()
    if _INDIC.search(text):
        # Indic scripts write a consonant's inherent vowel, silent at a word's end in Hindi and
        # Bengali names (भ्लादिमिर पुटिन: bhladimira putina, रामा rāma: Ram); a long ā stays
        from normality import latinize_text

        text = _SCHWA.sub("", latinize_text(text))
    if not text.isascii() and GREEK_LETTERS.search(text):
        text = greek_latin(text)  # modern Greek spellings (Vasileios), not ICU's classical ones
    arabic = bool(_ARABIC.search(text))
    if arabic:
        text = text.replace("\u0629", "a")  # ta marbuta ends a word in -a (حمزة: hamza)
        # alif maqsura is a long a (يحيى: yahya, موسى: musa, مصطفى: mustafa), not the y of ي
        text = text.replace("\u0649", "\u0627")
        # ain: ICU writes ʿ, which ascii_text makes a separator (معروف: "m rwf"); the Latin
        # spellings drop it or write an apostrophe (MA'RUF), so it goes as one.
        text = text.replace("\u0639", "'")
        # ت or ط then ه are two letters (طه: Taha), not the th ICU also writes for ث
        text = _T_H.sub("\\1\u0627\u0647", text)
        # Urdu heh goal / doachashmee and yeh barree are heh and yeh (حرکت الجہاد: ICU cut
        # the word at ہ)
        text = text.translate(_URDU)
    text = _ascii(text.translate(_translit_table())).lower()

    def dotted(m: re.Match[str]) -> str:
        letters = m.group(0).replace(".", "")
        return f" {letters} " if part_kind(letters) == "legal" else " " + " ".join(letters) + " "

    text = _DOTTED.sub(dotted, text)
    text = _EZAFE.sub(" ", text)
    text = _PUNCT.sub(" ", text.replace("'", "").replace("`", ""))
    out: list[str] = []
    for t in text.split():
        t = forms.numbers.get(t, t)
        if t[0].isdigit() and _ORDINAL.fullmatch(t):
            t = t[:-2]  # 81st, 2nd: the number (first is 1 already)
        if arabic and len(t) >= 4 and t.startswith("al") and t != "allh":
            out.append("al")  # the article is written joined in Arabic (التكريتي: al-tikriti)
            t = t[2:]
        out.extend(forms.abbreviations.get(t, t).split())
    return tuple(out)


_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)")
# The Persian and Urdu ezafe, written hyphenated to the word before it (TEHRIK-E TALIBAN,
# Masjed-e Soleyman, MASJED -E-SOLEYMAN, Khaneh-ye): it joins two words of one name, no part
# of its own (TTP is the initials of TEHRIK-E TALIBAN PAKISTAN's three words)
_EZAFE = re.compile(r"(?<=[a-z])\s?-(?:e|ye)(?=-|\s|$)")
_INDIC = re.compile(r"[\u0900-\u0dff]")
_SCHWA = re.compile(r"(?<=[^\W\daeiouyāīūēōṛṝḷ])a\b")
_ARABIC = re.compile(r"[\u0590-\u06ff\u0750-\u077f\ufb1d-\ufefc]")
_MAX_LATIN = 0x2E4  # below it: Latin letters, their marks and modifiers (normality's MAX_LATIN)


def _ascii(text: str) -> str:
    """normality's ascii_text, word by word for Latin text with accents (A.Ş., Şti.): the
    same words recur in many names, and ICU costs tens of microseconds a call. Its Latin
    rules look no further than a word (a mark after its letter), so the words come out as
    the whole text would; other scripts go whole (their rules may look across words)."""
    from normality import ascii_text

    if text.isascii():
        return text
    if max(map(ord, text)) > _MAX_LATIN:
        return ascii_text(text)
    return " ".join(t if t.isascii() else _ascii_word(t) for t in text.split(" "))


@functools.lru_cache(maxsize=100_000)
def _ascii_word(word: str) -> str:
    from normality import ascii_text

    return ascii_text(word)


_URDU = str.maketrans({"\u06c1": "\u0647", "\u06be": "\u0647", "\u06d2": "\u064a"})
_T_H = re.compile("([\u062a\u0637])\u0647")


def is_abjad(name: str) -> bool:
    """Whether a name is written in Arabic or Hebrew script (short vowels unwritten)."""
    return bool(_ARABIC.search(name))


# A quoted segment of an organisation's name, innermost first (ООО «Ромашка», JSC 'Splav',
# 'Sanatorium 'Nizhnyaya Oreanda''): opened after a space or another quote, closed before one
# or punctuation, so apostrophes inside words (O'NEIL, MUS'AB) open nothing.
_QUOTED = re.compile(
    "(?:^|(?<=[\\s(\u2018'\u201c\"\u00ab\u201e]))[\u2018'\u201c\"\u00ab\u201e]"
    "([^\u2018\u2019'\u201c\u201d\"\u00ab\u00bb\u201e]{2,}?)"
    "[\u2019'\u201d\"\u00bb\u201c](?=$|[\\s),.;:\u2019'\u201d\"\u00bb])"
)


@functools.lru_cache(maxsize=100_000)
def quoted_parts(name: str) -> tuple[tuple[str, ...], ...]:
    """The parts (as name_parts cuts them) of each quoted segment of a name."""
    if not any(ch in name for ch in "'\"\u2018\u201c\u00ab\u201e"):
        return ()
    out = []
    for m in _QUOTED.finditer(name):
        parts = name_parts(m.group(1))
        if parts:
            out.append(parts)
    return tuple(out)


_BRACKETED = re.compile(r"\(([^()]+)\)")
# A dedication, as Russian names give one (imeni: PJSC TATNEFT named after V.D. Shashin, Zavod
# imeni Sverdlova): to the end of the name or a bracket, the words that introduce it included
_DEDICATION = re.compile(r"\b((?:named after|imeni)\s[^()]+)", re.IGNORECASE)


@functools.lru_cache(maxsize=100_000)
def bracketed_parts(name: str) -> tuple[tuple[str, ...], ...]:
    """The parts (as name_parts cuts them) of each bracketed segment of a name: another
    name for it (KOREA KWANGSON BANKING CORPORATION (KKBC)) or a qualifier ((NZ) LTD); and of
    a dedication (named after V.D. Shashin), which the lists give or leave out."""
    out = []
    if "(" in name:
        out = [p for m in _BRACKETED.finditer(name) if (p := name_parts(m.group(1)))]
    if "named after" in name.casefold() or "imeni" in name.casefold():
        out.extend(p for m in _DEDICATION.finditer(name) if (p := name_parts(m.group(1))))
    return tuple(out)


def _split_camel(name: str) -> str:
    # RamiMakhlouf, БорисВладимирович: a capital between a small letter and another small
    # letter starts a new part (GmbH, OOO do not split).
    n = len(name)
    cuts = [
        i for i in range(1, n - 1)
        if name[i].isupper() and name[i - 1].islower() and name[i + 1].islower()
    ]  # fmt: skip
    if not cuts:
        return name
    out, last = [], 0
    for i in cuts:
        out.append(name[last:i])
        last = i
    out.append(name[last:])
    return " ".join(out)


@functools.cache
def _fuzzy_vocab() -> tuple[tuple[str, ...], dict[str, str]]:
    kinds = {w: "generic" for w in name_forms().generic_words if w not in _STOP}
    kinds.update({w: "legal" for w in _legal_words()})
    return tuple(sorted(w for w in kinds if len(w) >= 4)), kinds


@functools.cache
def _vocab_near(length: int, cutoff: int) -> tuple[str, ...]:
    """The fuzzy vocabulary's words that `cutoff` edits can reach from a part of `length`
    letters (an edit changes the length by one at most), in vocabulary order."""
    return tuple(w for w in _fuzzy_vocab()[0] if abs(len(w) - length) <= cutoff)


@functools.lru_cache(maxsize=500_000)
def part_kind(part: str) -> str:
    """What a name part is: name, generic (trading), legal (llc), stop, connector, number.

    Legal forms and generic words are also recognised misspelt (GEERAL, INTERNAIONAL,
    HOLDINH: one edit, two for words of 9+ letters, same first letter), since list
    spellings and declarations carry typos in them as often as in the name itself.
    """
    from rapidfuzz import process
    from rapidfuzz.distance import OSA
    from rigour.names import replace_org_types_compare

    forms = name_forms()
    if part.isdigit():
        return "number"
    if part in forms.connectors:
        return "connector"
    if part in _STOP or part in forms.titles:
        return "stop"
    kinds = _fuzzy_vocab()[1]
    if part in kinds:
        return kinds[part]
    if len(part) > 1 and replace_org_types_compare(part, generic=True) != part:
        return "legal"
    if len(part) >= 5:
        cutoff = 2 if len(part) >= 9 else 1
        near = _vocab_near(len(part), cutoff)  # the same best word, in the same order
        found = process.extractOne(part, near, scorer=OSA.distance, score_cutoff=cutoff)
        if found is not None and found[0][0] == part[0]:
            return kinds[found[0]]
    return "name"
