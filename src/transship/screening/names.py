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
from dataclasses import dataclass
from pathlib import Path

from transship.reference import DATA_DIR, ReferenceDataError
from transship.screening.normalize import clean_name

_PUNCT = re.compile(r"[^\w\s]+|_")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class NameForms:
    cyrillic: dict[str, str]
    legal_forms: tuple[tuple[str, ...], ...]  # token sequences, longest first
    abbreviations: dict[str, str]
    generic_words: frozenset[str]


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
    seqs = sorted({tuple(f.split()) for f in forms}, key=len, reverse=True)
    return NameForms(dict(cyr), tuple(seqs), dict(abbr), frozenset(generic))


@functools.cache
def _translit_table() -> dict[int, str]:
    return {ord(k): v for k, v in name_forms().cyrillic.items()}


@functools.cache
def _forms_by_first() -> dict[str, tuple[tuple[str, ...], ...]]:
    out: dict[str, list[tuple[str, ...]]] = {}
    for seq in name_forms().legal_forms:  # longest first, kept per first token
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


_VOWELS = re.compile(r"[aeiouyjh]+")


def skeleton(token: str) -> str:
    """Consonant skeleton of a token, equal across transliterations (tekhno/techno: tknsfr)."""
    t = token.replace("c", "k").replace("w", "v").replace("q", "k").replace("x", "ks")
    t = _VOWELS.sub("", t)
    return re.sub(r"(.)\1+", r"\1", t)


def check_name_forms() -> None:
    """Load and validate name_forms.yaml (raises ReferenceDataError)."""
    try:
        name_forms()
    except ReferenceDataError:
        name_forms.cache_clear()
        raise
