"""Alias pairs: names a list itself gives for one subject, against look-alike names of others.

The perturbed sets (benchmarks/devsets.py) are variations written here; these pairs are the
variation list compilers wrote: the UK Sanctions List's primary name of a subject against its
`primary_variation` (another transliteration: IVASHCHENKO / IVASCHENKO, Vadzim DZMITRYEVICH
Ipatau / Vadim Dmitrievich IPATOV) or a good-quality a.k.a., and the EU annexes' name against
its Latin-script aliases. Negatives are the same primary name against the name of another
subject of the same kind that looks most like it by a neutral measure (rapidfuzz
token_sort_ratio among the names sharing a word; not this project's matcher), without a
birth date in common (a subject listed twice would be a false negative). Split dev / test by
the subject, and the look-alike is taken from the same split.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

_WORD = re.compile(r"[^\W\d_]{3,}")
_SCHEMA = {"individual": "Person", "entity": "Organization"}


def _latin(s: str) -> bool:
    return all(ord(ch) < 0x250 or not ch.isalpha() for ch in s)


def _tokens(s: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(s)}


def uk_subjects(sl: Path) -> list[dict[str, Any]]:
    """UK subjects (persons and entities): id, schema, primary, variants [(name, kind)], dobs."""
    uk = sl / "uk-sanctions-list"
    with (uk / "subjects.csv").open(encoding="utf-8") as fh:
        kind = {r["unique_id"]: r["subject_type"] for r in csv.DictReader(fh)}
    dobs: dict[str, set[str]] = {}
    with (uk / "subject_dobs.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            dobs.setdefault(r["unique_id"], set()).add(f"{r['year']}-{r['month']}-{r['day']}")
    subj: dict[str, dict[str, Any]] = {}
    with (uk / "subject_names.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            schema = _SCHEMA.get(kind.get(r["unique_id"], ""))
            name = " ".join(r["full_name"].split())
            if schema is None or not name:
                continue
            s = subj.setdefault(
                r["unique_id"],
                {"id": r["unique_id"], "schema": schema, "primary": None, "variants": [],
                 "dobs": dobs.get(r["unique_id"], set())},
            )  # fmt: skip
            if r["name_type"] == "primary" and s["primary"] is None:
                s["primary"] = name
            elif r["name_type"] == "primary_variation":
                s["variants"].append((name, "uk primary variation"))
            elif r["name_type"] == "alias" and r["alias_strength"] != "low_quality_aka":
                s["variants"].append((name, "uk alias"))
    return [s for s in subj.values() if s["primary"]]


def eu_subjects(sl: Path) -> list[dict[str, Any]]:
    """EU Reg. 269/2014 and 765/2006 records: the name and its Latin-script aliases."""
    out = []
    for f in ("32014R0269.csv", "32006R0765.csv"):
        with (sl / "eu-official-journal" / f).open(encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                schema = "Person" if r["schema"] == "Person" else "Organization"
                name = " ".join(r["name"].split())
                if not name or not _latin(name):
                    continue
                aliases = [" ".join(a.split()) for a in r["alias"].split(";")]
                out.append({
                    "id": f"{f[:9]}:{r['recordId']}", "schema": schema, "primary": name,
                    "variants": [(a, "eu alias") for a in aliases if a and _latin(a)],
                    "dobs": {r["birthDate"]} if r["birthDate"] else set(),
                })  # fmt: skip
    return out


def alias_pairs(
    subjects: list[dict[str, Any]], seed: int, split_of: Callable[[str, int], str], limit: int
) -> list[dict[str, Any]]:
    """One positive (a variant) and one look-alike negative per sampled subject."""
    from rapidfuzz import fuzz

    rnd = random.Random(seed)
    by_word: dict[tuple[str, str, str], list[int]] = {}
    splits = [split_of(s["id"], seed) for s in subjects]
    toks = [_tokens(s["primary"]) for s in subjects]
    for i, s in enumerate(subjects):
        for w in toks[i]:
            by_word.setdefault((s["schema"], splits[i], w), []).append(i)
    # a word in more than 1 in 50 names (LIMITED, MOHAMMAD) picks look-alikes of nothing
    common = {k for k, v in by_word.items() if len(v) > max(20, len(subjects) // 50)}
    with_variants = [i for i, s in enumerate(subjects) if s["variants"]]
    rows: list[dict[str, Any]] = []
    for i in rnd.sample(with_variants, min(limit, len(with_variants))):
        s, sp = subjects[i], splits[i]
        norm = s["primary"].lower()
        variants = [(v, k) for v, k in s["variants"] if v.lower() != norm]
        if not variants:
            continue
        v, kind = rnd.choice(variants)
        rows.append(dict(name1=v, name2=s["primary"], is_match=1, schema=s["schema"],
                         kind=kind, split=sp))  # fmt: skip
        others = {
            j
            for w in toks[i]
            if (s["schema"], sp, w) not in common
            for j in by_word.get((s["schema"], sp, w), [])
            if j != i and not (subjects[j]["dobs"] & s["dobs"])
        }
        others = {j for j in others if subjects[j]["primary"].lower() != norm}
        if not others:
            continue
        j = max(
            sorted(others),
            key=lambda j: fuzz.token_sort_ratio(norm, subjects[j]["primary"].lower()),
        )
        kind = kind.split()[0] + " look-alike"
        rows.append(dict(name1=subjects[j]["primary"], name2=s["primary"], is_match=0,
                         schema=s["schema"], kind=kind, split=sp))  # fmt: skip
    return rows
