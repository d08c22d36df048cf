"""Keys that compare spellings of one name across romanizations (screening.parsed uses them).

A consonant skeleton (tekhno / techno), transliteration variants folded (romashka /
romaschka, yelena / elena), the consonants East Slavic romanizations share (siarhei /
sergei) and those an abjad spelling shares with a Latin one (mhmwd / mahmud).
"""

from __future__ import annotations

import functools
import re

_VOWELS = re.compile(r"[aeiouyjh]+")


@functools.lru_cache(maxsize=300_000)
def skeleton(token: str) -> str:
    """Consonant skeleton of a token, equal across transliterations (tekhno/techno: tknsfr)."""
    t = token.replace("c", "k").replace("w", "v").replace("q", "k").replace("x", "ks")
    t = _VOWELS.sub("", t)
    return re.sub(r"(.)\1+", r"\1", t)


_FOLDS = (("shch", "sh"), ("sch", "sh"), ("tch", "ch"), ("dzh", "j"), ("dj", "j"), ("zh", "j"),
          ("kh", "h"), ("ph", "f"), ("ck", "k"), ("ou", "u"), ("oo", "u"), ("ee", "i"),
          ("ie", "i"), ("ye", "e"), ("yu", "u"), ("ya", "a"), ("iy", "i"), ("y", "i"), ("w", "v"),
          ("x", "ks"), ("q", "k"), ("c", "k"), ("z", "s"), ("th", "t"), ("dh", "d"),
          ("gh", "g"), ("aa", "a"), ("uu", "u"))  # fmt: skip


@functools.lru_cache(maxsize=500_000)
def fold(part: str) -> str:
    """A part with transliteration variants folded (romaschka/romashka, yelena/elena)."""
    for a, b in _FOLDS:
        if a in part:
            part = part.replace(a, b)
    return re.sub(r"(.)\1+", r"\1", part)


# Belarusian and Ukrainian romanizations of the names Russian romanizations write otherwise
# (Siarhei / Sergei, Aleh / Oleg, Uladzimir / Vladimir, Mikalaevich / Nikolaevich, USHAKOU /
# USHAKOV, Kanstantsin / Konstantin, Dzmitry / Dmitry, Serhiy / Sergey): h for g, u for v
# after a vowel, dz for d, ts for a soft t; the lists give a person under both.
_H_AS_G = re.compile(r"(?<![kscztgpd])h")
_U_AS_V = re.compile(r"(?<=[aeiouy])u(?=[^aeiouy]|$)")
_SLAVIC_VOWELS = re.compile(r"[aeiouyj']+")


def _consonants(t: str) -> str:
    return re.sub(r"(.)\1+", r"\1", _SLAVIC_VOWELS.sub("", fold(t)))


@functools.lru_cache(maxsize=300_000)
def translit_key(part: str) -> tuple[str, bool]:
    """Consonants East Slavic romanizations of one name share (siarhei / sergei: srg), and
    whether a Belarusian / Ukrainian spelling rule changed them (else the key says little
    more than the consonants of any two names: ARKEN / AEROKON)."""
    t = part
    if t.startswith("ula"):
        t = "vla" + t[3:]  # Uladzimir: Vladimir
    elif t.startswith("mikal") or t.startswith("mykol"):
        t = "nikol" + t[5:]  # Mikalai, Mykola: Nikolai
    elif t.startswith("volh"):
        t = t[1:]  # Volha: Olga
    t = _U_AS_V.sub("v", _H_AS_G.sub("g", t.replace("dz", "d").replace("ts", "t")))
    key = _consonants(t)
    return key, key != _consonants(part)


def abjad_skeleton(part: str) -> str:
    """Consonants an abjad spelling and a Latin one share (mhmwd / mahmud: mmd)."""
    # ظ ذ come out as th / dh / z, ق as q / k / g: one consonant each side; ض and ظ are
    # d in Arabic spellings, z in Persian and Urdu ones (فضل: FADL / FAZL, حافظ: HAFED /
    # HAFEZ, ضیا: ZIA), so d and z are one consonant here
    # ج is j, and g in Egyptian spellings (رجب: RAGAB, جمال: GAMAL)
    for a, b in (("th", "z"), ("dh", "z"), ("d", "z"), ("gh", "g"), ("kh", "k"), ("q", "k"),
                 ("c", "k"), ("j", "g")):  # fmt: skip
        part = part.replace(a, b)
    t = re.sub(r"[aeiouywhv']+", "", part)
    return re.sub(r"(.)\1+", r"\1", t)
