"""Equivalent words and phrases of organisations' names (reference/data/name_equivalents.yaml).

The lists write one organisation in several languages and with its kind spelt out or
abbreviated (JSC ZAVOD LADOGA / Ladoga Plant, JSC NII Steel / Scientific Research Institute
of Steel): each group of the file is one meaning, and a run of a name's parts that spells a
phrase of a group (stop words inside skipped, a trailing * any ending) means it.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from pathlib import Path

from transship.reference import DATA_DIR, ReferenceDataError

Phrase = tuple[str, ...]  # parts; a part ending in * is a prefix


@functools.cache
def equivalent_groups(path: Path | None = None) -> tuple[tuple[Phrase, ...], ...]:
    """The groups of name_equivalents.yaml, each a tuple of phrases (validated)."""
    from transship.reference._load import fail, read_yaml
    from transship.screening.names import name_parts, part_kind

    p = path or DATA_DIR / "name_equivalents.yaml"
    groups = read_yaml(p).get("groups")
    if not isinstance(groups, list) or not all(
        isinstance(g, list) and len(g) >= 2 and all(isinstance(w, str) and w for w in g)
        for g in groups
    ):
        raise fail(p, None, "field 'groups': expected lists of two or more non-empty strings")
    out = []
    for g in groups:
        phrases = []
        for text in g:
            # cut as names are (name_parts), the * kept on the last letters of a part
            parts = [
                name_parts(w.rstrip("*")) + (("*",) if w.endswith("*") else ())
                for w in text.split()
            ]
            words: list[str] = []
            for cut in parts:
                if not cut or cut == ("*",):
                    raise fail(p, None, f"group {g!r}: {text!r} has an empty word")
                if cut[-1] == "*":
                    if len(cut) < 2 or len(cut[-2]) < 3:
                        raise fail(
                            p, None, f"group {g!r}: {text!r}: three letters or more before *"
                        )
                    cut = (*cut[:-2], cut[-2] + "*")
                words.extend(t for t in cut if part_kind(t.rstrip("*")) != "stop")
            if not words:
                raise ReferenceDataError(f"{p.name}: group {g!r}: {text!r} is only stop words")
            phrases.append(tuple(words))
        out.append(tuple(phrases))
    return tuple(out)


@functools.cache
def _by_start() -> tuple[
    dict[str, tuple[tuple[int, Phrase], ...]], dict[str, tuple[tuple[str, int, Phrase], ...]]
]:
    """Phrases by their first word (exact), and those whose first word is a prefix, by the
    prefix's first three letters (a part is checked against a few prefixes, not all)."""
    exact: dict[str, list[tuple[int, Phrase]]] = {}
    prefix: dict[str, list[tuple[str, int, Phrase]]] = {}
    for gid, group in enumerate(equivalent_groups()):
        for ph in group:
            if ph[0].endswith("*"):
                prefix.setdefault(ph[0][:3], []).append((ph[0][:-1], gid, ph))
            else:
                exact.setdefault(ph[0], []).append((gid, ph))
    return (
        {k: tuple(v) for k, v in exact.items()},
        {k: tuple(v) for k, v in prefix.items()},
    )


@functools.lru_cache(maxsize=100_000)
def _starting(part: str) -> tuple[tuple[int, Phrase], ...]:
    exact, prefix = _by_start()
    found = exact.get(part, ())
    near = prefix.get(part[:3])
    if near:
        found = found + tuple((gid, ph) for pre, gid, ph in near if part.startswith(pre))
    return found


@functools.lru_cache(maxsize=200_000)
def _single(part: str) -> frozenset[int]:
    """The groups `part` is a one-word phrase of."""
    return frozenset(gid for gid, ph in _starting(part) if len(ph) == 1)


def _is(part: str, word: str) -> bool:
    return part.startswith(word[:-1]) if word.endswith("*") else part == word


def phrase_runs(
    parts: Sequence[str], kinds: Sequence[str], used: Collection[int]
) -> list[tuple[int, tuple[int, ...]]]:
    """(group, part indices) of every run of parts not in `used` that spells a phrase."""
    out: list[tuple[int, tuple[int, ...]]] = []
    n = len(parts)
    for i in range(n):
        if i in used or kinds[i] == "stop":
            continue
        for gid, ph in _starting(parts[i]):
            run = [i]
            k = i + 1
            while len(run) < len(ph) and k < n and k not in used:
                if kinds[k] != "stop":
                    if not _is(parts[k], ph[len(run)]):
                        break
                    run.append(k)
                k += 1
            if len(run) == len(ph):
                out.append((gid, tuple(run)))
    return out


def same_meaning(a: str, b: str) -> bool:
    """Whether two single parts are words of one group (zavod / plant, sanayi / industry)."""
    ga = _single(a)
    return bool(ga) and not ga.isdisjoint(_single(b))


@functools.lru_cache(maxsize=100_000)
def initials(part: str) -> str:
    """The letters `part` may stand for in an acronym: its first, and the first of every
    one-word phrase of its groups (the lists spell a Russian acronym out in English: SMZ /
    Samara Metallurgical Plant, zavod; VPO / Vladimir Production Association, obyedineniye)."""
    groups = equivalent_groups()
    alts = {ph[0][0] for g in _single(part) for ph in groups[g] if len(ph) == 1}
    return "".join(sorted(alts | {part[0]}))
