"""Scripts whose Latin spellings follow conventions no transliteration table gives.

A name written in Greek or Hangul is romanized by rules its Latin spellings in the lists do
not follow:

- Greek: ICU writes classical Greek (Βασίλειος basileios, η as e, φ as ph); names are spelt
  in modern Greek (ELOT 743 / UN: Vasileios, Dimitrios, Evangelos), which `greek_latin`
  writes. A man's name keeps its nominative ending in Greek (Αλέξανδρος, Θεόδωρος) and often
  loses it in English (Alexander, Theodore): `greek_stem` cuts it for a comparison.
- Hangul: ICU writes one spelling of each syllable (박 bag, 이 i, 성 seong); Korean names are
  spelt by McCune-Reischauer, Revised Romanization or by custom (Park, Lee / Rhee / Ri,
  Sung, Myung, Roh, Moo): `korean_key` is what those spellings of one syllable share.

- Hebrew: names come into English through Latin, where י (y) is a j (Binyamin / Benjamin,
  Yosef / Joseph, Yaakov / Jacob): its consonants are compared with j as y, th as t and v
  as b (ב is b or v: לברוב / Lavrov).

- Japanese kana: a foreign name is written in syllables, a vowel after each consonant
  (ウラジーミル・プーチン urajimiru puchin, ドナルド・トランプ donarudo toranpu), l as r, v
  and f as b, ti as chi: `kana_key` compares the consonants the spellings share.

`name_script` says which of these a name is written in, so that screening.parsed compares
its parts with these keys (and only its parts: a Latin name's Sung and Song stay two).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transship.screening.parsed import Parsed

HANGUL = "hangul"
GREEK = "greek"
HEBREW = "hebrew"
KANA = "kana"

_HANGUL_RE = re.compile(r"[\uac00-\ud7a3]")
GREEK_LETTERS = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]")
_HEBREW_RE = re.compile(r"[\u0590-\u05ff\ufb1d-\ufb4f]")
_KANA_RE = re.compile(r"[\u3041-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def name_script(name: str) -> str:
    """HANGUL, GREEK, HEBREW, KANA (Japanese kana, no kanji) or "" (any other script,
    Latin included)."""
    if name.isascii():
        return ""
    if _HANGUL_RE.search(name):
        return HANGUL
    if GREEK_LETTERS.search(name):
        return GREEK
    if _HEBREW_RE.search(name):
        return HEBREW
    if _KANA_RE.search(name) and not _HAN_RE.search(name):
        return KANA
    return ""


# Modern Greek romanization (ELOT 743, as the UN adopted it), lower case: digraphs first.
_GREEK_PAIRS = (
    ("ου", "ou"), ("γγ", "ng"), ("γκ", "gk"), ("γξ", "nx"), ("γχ", "nch"), ("μπ", "mp"),
    ("ντ", "nt"), ("αι", "ai"), ("ει", "ei"), ("οι", "oi"), ("υι", "yi"),
)  # fmt: skip
_GREEK_LETTERS = str.maketrans({
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th",
    "ι": "i", "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p",
    "ρ": "r", "σ": "s", "ς": "s", "τ": "t", "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps",
    "ω": "o",
})  # fmt: skip
# αυ / ευ / ηυ are av / ev / iv, af / ef / if before a voiceless consonant (Ευθύμιος:
# Efthymios, Ευάγγελος: Evangelos)
_VOWEL_Y = re.compile("([αεη])υ([θκξπσςτφχψ]?)")
_VOWEL_Y_LATIN = {"α": "a", "ε": "e", "η": "i"}
_WORD_START_MP = re.compile(r"\bμπ")
_WORD_START_NT = re.compile(r"\bντ")


def _vowel_y(m: re.Match[str]) -> str:
    return _VOWEL_Y_LATIN[m.group(1)] + ("f" if m.group(2) else "v") + m.group(2)


def greek_latin(text: str) -> str:
    """Greek letters of `text` (lower case) in modern Greek romanization; the rest as is.

    Accents go; a diaeresis keeps two vowels apart (Χρυσοχοΐδης: chrysochoidis); μπ and ντ
    at a word's start are b and d (Μπακογιάννης: Bakogiannis, Ντόρα: Dora)."""
    out = []
    for ch in unicodedata.normalize("NFD", text):
        if ch == "\u0308":
            out.append("\x00")  # the diaeresis splits a digraph: marked before it goes
        elif unicodedata.category(ch) != "Mn":
            out.append(ch)
    t = unicodedata.normalize("NFC", "".join(out))
    t = _WORD_START_NT.sub("d", _WORD_START_MP.sub("b", t))
    t = _VOWEL_Y.sub(_vowel_y, t)
    for a, b in _GREEK_PAIRS:
        if a in t:
            t = t.replace(a, b)
    return t.translate(_GREEK_LETTERS).replace("\x00", "")


# The nominative endings of Greek men's names (and -is, -es of both), which English spellings
# often leave out: Alexandros / Alexander, Theodoros / Theodore, Konstantinos / Constantine
_GREEK_ENDING = re.compile(r"(?:os|as|is|es)$")


def greek_stem(part: str) -> str:
    """A part without its Greek nominative ending, when five letters or more are left."""
    stem = _GREEK_ENDING.sub("", part)
    return stem if len(stem) >= 5 else part


_DOUBLE = re.compile(r"(.)\1+")
_R_BEFORE = re.compile(r"(?<=[aeiou])r(?=[^aeiouy]|$)")  # park: pak, hur: hu
_H_AFTER = re.compile(r"(?<=[aeiou])h(?=[^aeiouy]|$)")  # roh, oh, ahn: ro, o, an
_EPENTHETIC = re.compile(r"(?<=[^aeiouy])eu(?=[^aeiouy]|$)")
# Korean has no v, f or z: a foreign name's are written ㅂ b, ㅍ p, ㅈ j
_KOREAN_CONS = (("ch", "j"), ("sh", "s"), ("ph", "p"), ("f", "p"), ("v", "b"), ("z", "j"),
                ("k", "g"), ("p", "b"), ("t", "d"), ("r", "l"))  # fmt: skip


@functools.lru_cache(maxsize=50_000)
def korean_key(part: str) -> str:
    """What the spellings of one Korean syllable share: RR, McCune-Reischauer and custom
    (박: bag / Park / Pak / Bak; 이: i / Lee / Yi / Rhee / Ri; 성: seong / Sung / Song; 명:
    myeong / Myung / Myong; 노: no / Roh; 최: choe / Choi; 무: mu / Moo), and a foreign
    name's spelling and its Hangul transcription written as one run (블라디미르 / Vladimir).
    Voiced and voiceless consonants are one, so are l / r / n at the start (이 was 리, 노
    was 로), ㅓ, ㅗ and ㅜ (eo, o, u), ㅡ (eu) and ㅐ / ㅔ (ae, e); an r or h after a vowel
    only lengthens it (Park, Roh)."""
    t = part.replace("'", "").replace("rh", "r").replace("ee", "i").replace("oo", "u")
    if len(t) >= 7:
        # a foreign name in Hangul, written as one run (블라디미르: beulladimileu): the ㅡ
        # written after a consonant that begins a cluster or ends the word is no vowel of
        # the name (Vladimir: bladimil)
        t = _EPENTHETIC.sub("", t)
    t = _DOUBLE.sub(r"\1", t)  # Kook, Ahnn
    if len(t) <= 5:  # one syllable's spelling (Park, Roh): not in a foreign name (Vladimir)
        t = _H_AFTER.sub("", _R_BEFORE.sub("", t))
    if t in ("yi", "li", "ri", "ni"):
        t = "i"
    elif len(t) > 1 and t[0] in "lrn" and t[1] in "iy":
        t = t[1:]  # 임 im / Lim / Rim, 류 yu / Ryu, 녀 yeo / Nyeo
    t = t.replace("eo", "o").replace("eu", "u").replace("ae", "e").replace("oe", "o")
    t = t.replace("oi", "o").replace("wh", "h").replace("u", "o")
    for a, b in _KOREAN_CONS:
        t = t.replace(a, b)
    if t[:1] == "n":
        t = "l" + t[1:]
    return _DOUBLE.sub(r"\1", t)


_MR_INITIAL = {"g": "k", "d": "t", "b": "p", "l": "r"}
_MR_FINAL = re.compile(r"(?<=[aeiou])g$")  # 박 bag: Pak (ng stays: 봉 bong)


def mccune_reischauer(part: str) -> str:
    """One Hangul syllable as ICU romanizes it (Revised Romanization, letter by letter) in
    the McCune-Reischauer spelling the lists give North Korean names (박봉주 bag bong ju:
    PAK Pong Ju; 최룡해 choe lyong hae: CHOE Ryong Hae; 이 i / 리 li: Ri), breves dropped."""
    if part in ("i", "li"):
        return "ri"
    t = _MR_INITIAL.get(part[:1], part[:1]) + part[1:]
    t = t.replace("eo", "o").replace("eu", "u")
    return _MR_FINAL.sub("k", t)


def retrieval_alternates(q: Parsed) -> list[Parsed]:
    """Other spellings of a name to retrieve list names by: a Hangul name's McCune-Reischauer
    one, which the lists give North Korean names in and which shares too few retrieval keys
    with ICU's (i byeong cheol / RI Pyong Chol) for the list name to be scored at all; a
    Hebrew name's with its vowel letters read (pwtyn: putin); a kana one's without the vowels
    Japanese adds (urajimiru puchin: uradimir putin)."""
    spell = _RESPELL.get(q.script)
    if spell is None:
        return []
    from transship.screening.parsed import parse

    return [parse(" ".join(spell(t) for t in q.parts))]


def hebrew_vowels(part: str) -> str:
    """A Hebrew name part as ICU romanizes it (consonants: wldymyr, pwtyn) with ו and י read
    as the vowels they mostly are inside a word (u, i), ו as v at its start and ב as v inside
    it: vldimir, putin, so its retrieval keys meet the Latin spelling's."""
    if len(part) < 3:
        return part
    head, rest = part[0], part[1:]
    # ב inside a word is mostly v (lbrwb: Lavrov)
    return ("v" if head == "w" else head) + rest.replace("w", "u").replace("y", "i").replace(
        "b", "v"
    )


_KANA_PAIRS = (("dzh", "d"), ("shch", "s"), ("sch", "s"), ("tch", "t"), ("ch", "t"),
               ("ts", "t"), ("tz", "t"), ("sh", "s"), ("zh", "d"), ("dj", "d"), ("th", "s"),
               ("ph", "b"), ("kh", "k"), ("gh", "g"), ("ck", "k"), ("ng", "n"),
               ("'", ""))  # fmt: skip
_KANA_LETTERS = str.maketrans({"j": "d", "z": "s", "l": "r", "v": "b", "f": "b", "c": "k",
                               "q": "k", "x": "k"})  # fmt: skip
_KANA_VOWELS = re.compile(r"[aeiouy]+")
_N_LABIAL = re.compile(r"n(?=[bpm])")


@functools.lru_cache(maxsize=50_000)
def kana_key(part: str) -> str:
    """The consonants a name's kana spelling (as ICU romanizes it) and its Latin one share:
    ウラジーミル urajimiru / Vladimir (rdmr / brdmr, one apart), プーチン puchin / Putin (ptn),
    トランプ toranpu / Trump (trmp), ガスプロム gasupuromu / Gazprom (gsprm), ラブロフ
    raburofu / Lavrov (rbrb)."""
    t = part
    for a, b in _KANA_PAIRS:
        if a in t:
            t = t.replace(a, b)
    t = _N_LABIAL.sub("m", t.translate(_KANA_LETTERS))
    return _DOUBLE.sub(r"\1", _KANA_VOWELS.sub("", t))


_CONSONANT = "bcdfghjklmnpqrstvwxz"
_EPENTHETIC_KANA = re.compile(f"(?<=[{_CONSONANT}])u(?=[{_CONSONANT}]|$)")
_FINAL_O = re.compile(r"(?<=[td])o$")


def kana_latin(part: str) -> str:
    """A kana name part as ICU romanizes it, closer to the Latin spelling it transcribes:
    chi / ji as ti / di, the u Japanese writes after a consonant that begins a cluster or
    ends the word left out, and the o after a final t or d (urajimiru: uradimir, puchin:
    putin, donarudo: donard, gasupuromu: gasprom)."""
    t = part.replace("chi", "ti").replace("ji", "di")
    return _FINAL_O.sub("", _EPENTHETIC_KANA.sub("", t))


_RESPELL = {HANGUL: mccune_reischauer, HEBREW: hebrew_vowels, KANA: kana_latin}
