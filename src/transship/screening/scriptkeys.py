"""Retrieval keys for a query written in Hangul, Hebrew or Japanese kana.

The features compare such a query's parts with Latin list names by the keys of
screening.scripts (korean_key: 김 gim / KIM; kana_key: ラブロフ raburofu / LAVROV, rbrb; the
Hebrew consonants: לברוב lbrwb / LAVROV, lbrb), but the trigrams of the query as ICU writes it
meet too few of the list name's for the name to be retrieved at all (セルゲイ・ラブロフ serugei
raburofu / LAVROV, Sergei Viktorovich). The index therefore also keeps each list name's
distinctive parts by those keys, in postings of their own (NameIndex.script: their own idf and
norms, so the cosine of every other query is what it was), and a query in one of these
scripts asks them for a few more names, which the features then score as any other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from transship.screening.scripts import HANGUL, HEBREW, KANA, kana_key, korean_key

if TYPE_CHECKING:
    from transship.screening.parsed import Parsed


def _hebrew_key(part: str) -> str:
    from transship.screening.parsed import hebrew_key

    return hebrew_key(part)


# One letter a script, before the key: a key of one script never meets another's.
_KEYS: dict[str, tuple[str, Callable[[str], str]]] = {
    HANGUL: ("k", korean_key),
    HEBREW: ("h", _hebrew_key),
    KANA: ("j", kana_key),
}


def _parts(p: Parsed) -> list[str]:
    return [t for t, k in zip(p.parts, p.kinds, strict=True) if k == "name" and t.isalpha()]


def script_keys(p: Parsed, script: str) -> set[str]:
    """`script`'s keys of a name's parts that are names (two letters or more a key)."""
    prefix, key = _KEYS[script]
    return {prefix + k for t in _parts(p) if len(k := key(t)) >= 2}


def list_script_keys(p: Parsed) -> set[str]:
    """Every script's keys of a list name (a Latin one: the lists write Latin names)."""
    if p.script in _KEYS or not p.parts:
        return set()  # a list name in one of these scripts is retrieved by its own trigrams
    return set().union(*(script_keys(p, s) for s in _KEYS))


def query_script_keys(q: Parsed) -> set[str]:
    """The keys of the query's script, for a query in Hangul, Hebrew or kana; else none."""
    return script_keys(q, q.script) if q.script in _KEYS else set()
