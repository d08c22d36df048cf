"""Hostile-name normalisation: what a party name is cleaned of before it is matched.

A name typed (or pasted, or crafted) into a declaration can carry characters that change
nothing on screen but everything for a string comparison. Each of these turned a BLOCK into
an ALLOW before this module existed (issue 12):

- format characters (Unicode category Cf and the other default-ignorable code points: zero-width
  space, soft hyphen, word joiner, BOM, bidi controls, variation selectors) and control
  characters are removed;
- line breaks, tabs and odd spaces (NBSP, ideographic space ...) become one plain space, and
  every Unicode dash (‐ ‑ – — −) a plain hyphen;
- compatibility forms are folded (NFKC: fullwidth Ｒｏｓ, mathematical 𝐑𝐨𝐬, ligatures ﬁ);
- confusables are folded: in a word that mixes scripts, the letters of the minority script that
  look like a letter of the majority script are replaced by it (a Cyrillic "о" in "Rosоboron"
  becomes a Latin "o", a Latin "a" in "Ромашкa" a Cyrillic "а"), and a word written entirely
  in look-alike letters of another script inside a Latin name is read as Latin ("АВС Trading").
  Which letters look alike is Unicode's confusables table (UTS #39 skeletons) as shipped by
  ICU (PyICU's SpoofChecker), not a table of our own;
- hyphenated and split forms are compared joined as well: `joined_forms` gives the variants
  of a normalised name with adjacent parts joined ("rosoboron eksport" -> "rosoboroneksport"),
  which the matcher scores too, so "Rosoboron-eksport", "Rosoboron\\neksport" and
  "Rosoboron eksport" all reach the listed "Rosoboroneksport".

`clean_name` says which of these it applied, so a hit can report that its name was normalised.
The same cleaning runs on list names when they are loaded (names.normalize_name), so both sides
of a comparison are cleaned alike.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

FORMAT_CHARS = "format characters removed"
CONTROL_CHARS = "control characters removed"
SPACES = "line breaks and odd spaces normalised"
DASHES = "dashes normalised"
COMPAT = "compatibility forms folded"
CONFUSABLES = "confusables folded"
JOINED = "hyphenated or split parts joined"

_WS = re.compile(r"\s+")
_ODD_SPACE = re.compile(r"[^\S ]")  # white space other than a plain space
# A hyphen between two letters (after dashes became "-"): the joined form drops it.
_INNER_HYPHEN = re.compile(r"(?<=\w)-+(?=\w)")
_MAX_JOINED = 4  # extra forms scored per name (each costs one more candidate search)


@dataclass(frozen=True)
class Cleaned:
    text: str
    applied: tuple[str, ...]  # FORMAT_CHARS, SPACES ... in the order of the steps

    @property
    def note(self) -> str | None:
        """`format characters removed; confusables folded`, or None if nothing applied."""
        return "; ".join(self.applied) or None


@functools.cache
def _spoof() -> object:
    import icu

    return icu.SpoofChecker()


@functools.lru_cache(maxsize=65_536)
def _script(ch: str) -> str:
    """ISO 15924 short name of a letter's script (Latn, Cyrl ...); Zyyy/Zinh for common."""
    import icu

    return str(icu.Script.getScript(ch).getShortName())


@functools.lru_cache(maxsize=65_536)
def _skeleton(text: str) -> str:
    return str(_spoof().getSkeleton(0, text))  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=65_536)
def _as_latin(ch: str) -> str | None:
    """The ASCII letter a non-Latin letter is confusable with, lower case, or None.

    UTS #39 skeletons map every I-like glyph (Latin I and l, Greek Ι, Cyrillic І) to the
    prototype "l"; for a letter that is upper case, "i" is what it stands for once case is
    folded, so the lower-case form is tried first.
    """
    for candidate in (ch.lower(), ch):
        sk = _skeleton(candidate)
        if len(sk) == 1 and sk.isascii() and sk.isalpha():
            if sk == "l" and candidate.isupper():
                return "i"
            return sk.lower()
    return None


@functools.cache
def _from_latin(script: str) -> dict[str, str]:
    """Latin letter -> the look-alike letter of `script` (Cyrillic, Greek): the reverse of the
    skeleton, over the script's basic alphabet only (Russian А-я and Ё; Greek Α-ω), so a Latin
    intruder in a Cyrillic word becomes the ordinary Cyrillic letter it imitates."""
    ranges = {
        "Cyrl": [(0x0410, 0x044F), (0x0401, 0x0401), (0x0451, 0x0451)],
        "Grek": [(0x0391, 0x03A9), (0x03B1, 0x03C9)],
    }.get(script, [])
    out: dict[str, str] = {}
    for lo, hi in ranges:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            if not ch.isalpha():
                continue
            sk = _skeleton(ch)
            if len(sk) == 1 and sk.isascii() and sk.isalpha():
                out.setdefault(sk, ch)
    return out


def _letter_scripts(word: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ch in word:
        if ch.isalpha():
            s = _script(ch)
            if s not in ("Zyyy", "Zinh", "Zzzz"):
                counts[s] = counts.get(s, 0) + 1
    return counts


def _fold_word(word: str, counts: dict[str, int]) -> str:
    """Fold the minority-script letters of a mixed-script word to its majority script."""
    # Ties go to Latin: a spoof usually imitates a Latin name.
    major = max(counts, key=lambda s: (counts[s], s == "Latn"))
    out = []
    for ch in word:
        if not ch.isalpha() or _script(ch) in (major, "Zyyy", "Zinh"):
            out.append(ch)
            continue
        if major == "Latn":
            out.append(_as_latin(ch) or ch)
        elif _script(ch) == "Latn":
            out.append(_from_latin(major).get(ch, ch))
        else:
            out.append(ch)
    return "".join(out)


def _fold_confusables(text: str) -> str:
    scripts_used = {_script(ch) for ch in text if ch.isalpha()} - {"Zyyy", "Zinh", "Zzzz"}
    if len(scripts_used) < 2:
        return text  # one script only (most names): nothing can be a look-alike of another
    words = text.split(" ")
    scripts = [_letter_scripts(w) for w in words]
    latin_letters = sum(c.get("Latn", 0) for c in scripts)
    other_letters = sum(n for c in scripts for s, n in c.items() if s != "Latn")
    out = []
    for word, counts in zip(words, scripts, strict=True):
        if len(counts) > 1:
            word = _fold_word(word, counts)
        elif counts and "Latn" not in counts and latin_letters > other_letters:
            # A whole word of look-alikes in a Latin name ("АВС Trading"): read it as Latin
            # only when every letter has a Latin twin; a real Cyrillic word keeps its script.
            latin = [_as_latin(ch) if ch.isalpha() else ch for ch in word]
            if all(c is not None for c in latin):
                word = "".join(c for c in latin if c is not None)
        out.append(word)
    return " ".join(out)


def _char_class(pattern: str) -> str:
    """A regex character class of an ICU UnicodeSet pattern (ICU's Unicode data)."""
    import icu

    uset = icu.UnicodeSet(pattern)
    ranges = [
        f"{re.escape(str(uset.getRangeStart(i)))}-{re.escape(str(uset.getRangeEnd(i)))}"
        for i in range(uset.getRangeCount())
    ]
    return "[" + "".join(ranges) + "]"


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Format characters (Cf and every other default-ignorable code point), controls (Cc that
    are not white space: all Cc lie below U+00A0) and dashes (Pd, and the minus sign)."""
    controls = "".join(
        re.escape(chr(c))
        for c in range(0xA0)
        if unicodedata.category(chr(c)) == "Cc" and not chr(c).isspace()
    )
    return (
        re.compile(_char_class("[[:Cf:][:Default_Ignorable_Code_Point:]]") + "+"),
        re.compile("[" + controls + "]+"),
        re.compile(_char_class("[[:Pd:]\\u2212]")),
    )


@functools.lru_cache(maxsize=200_000)
def clean_name(name: str) -> Cleaned:
    """A party name without invisible characters, odd spaces or look-alike letters."""
    applied: list[str] = []
    text = name
    formats, controls, dashes = _patterns()
    text, n = formats.subn("", text)
    if n:
        applied.append(FORMAT_CHARS)
    text, n = controls.subn("", text)
    if n:
        applied.append(CONTROL_CHARS)
    spaced = _WS.sub(" ", text).strip()
    if _ODD_SPACE.search(text):
        applied.append(SPACES)
    text = spaced
    if not text.isascii():
        dashed = dashes.sub("-", text)
        if dashed != text:
            applied.append(DASHES)
            text = dashed
        compat = unicodedata.normalize("NFKC", text)
        if compat != text:
            # NFKC composes too (e + combining acute -> é): only a changed letter is worth a note
            if unicodedata.normalize("NFC", text) != compat:
                applied.append(COMPAT)
            text = _WS.sub(" ", compat).strip()
        folded = _fold_confusables(text)
        if folded != text:
            applied.append(CONFUSABLES)
            text = folded
    return Cleaned(text, tuple(applied))


def unhyphenated(text: str) -> str | None:
    """`text` with hyphens between letters removed (Rosoboron-eksport -> Rosoboroneksport),
    or None if it has none."""
    joined = _INNER_HYPHEN.sub("", text)
    return joined if joined != text else None


def joined_forms(norm: str, limit: int = _MAX_JOINED) -> list[str]:
    """Variants of a normalised name with one pair of adjacent parts joined, at most `limit`.

    Only parts of three letters or more are joined (joining initials says nothing), earliest
    pairs first: names put their distinctive word first.
    """
    tokens = norm.split()
    out: list[str] = []
    for i in range(len(tokens) - 1):
        if len(out) >= limit:
            break
        if len(tokens[i]) >= 3 and len(tokens[i + 1]) >= 3:
            out.append(" ".join([*tokens[:i], tokens[i] + tokens[i + 1], *tokens[i + 2 :]]))
    return out


@dataclass(frozen=True)
class Query:
    """What the matcher compares for one party name: the cleaned name, its normalised forms
    (the first is the name itself, the rest joined variants) and the notes for a hit."""

    cleaned: Cleaned
    forms: tuple[str, ...]

    def note(self, form_index: int) -> str | None:
        """The normalisations behind a hit found with form number `form_index`."""
        applied = list(self.cleaned.applied)
        if form_index > 0:
            applied.append(f"{JOINED} ({self.forms[form_index]!r})")
        return "; ".join(applied) or None


@functools.lru_cache(maxsize=100_000)
def prepare_query(name: str) -> Query:
    """Clean a party name and list the normalised forms to match (names.normalize_name)."""
    from transship.screening.names import normalize_name

    cleaned = clean_name(name)
    norm = normalize_name(cleaned.text)
    if not norm:
        return Query(cleaned, ())
    forms = [norm]
    alt = unhyphenated(cleaned.text)
    if alt is not None:
        n = normalize_name(alt)
        if n and n not in forms:
            forms.append(n)
    for f in joined_forms(norm):
        if f not in forms:
            forms.append(f)
    return Query(cleaned, tuple(forms))
