"""The list-derived development sets: perturbed listed names and near misses.

Perturbations of OFAC SDN 2024-05-03 and OpenSanctions ua_war names (typos, dropped or
reordered parts, legal-form and transliteration variants) and near misses built from the
lists' own words; see benchmarks/devsets.py for how they are written and
benchmarks/data/README.md for their provenance.
"""

from __future__ import annotations

import csv
import hashlib
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from devsets_words import CONNECTORS, COUNTRIES, FORM_WORDS, GENERIC, LEGAL, TRANSLIT


def split_of(key: str, seed: int) -> str:
    h = hashlib.sha256(f"{seed}:{key}".encode()).digest()[0]
    return "dev" if h % 2 == 0 else "test"


def name_words(name: str) -> list[str]:
    return [w for w in re.split(r"[\s,]+", name) if w]


def is_latin(s: str) -> bool:
    return all(not c.isalpha() or ord(c) < 0x250 for c in s)


def ua_war_targets(sl: Path) -> Iterator[dict[str, str]]:
    with (sl / "opensanctions/ua_war_sanctions.targets.simple.csv").open(encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


def list_entities(sl: Path) -> list[dict[str, str]]:
    """Entities of OFAC SDN 2024-05-03 and OpenSanctions ua_war with a Latin primary name."""
    out = []
    sdn = (sl / "ofac-sdn/2024-05-03/sdn.csv").read_bytes().decode("latin-1").rstrip("\x1a\r\n")
    for row in csv.reader(sdn.splitlines()):
        if len(row) < 4 or row[2].strip() in ("vessel", "aircraft"):
            continue
        schema = "Person" if row[2].strip() == "individual" else "Organization"
        out.append(dict(list="ofac-sdn", id=row[0], name=row[1].strip(), schema=schema))
    for r in ua_war_targets(sl):
        if r["schema"] in ("Vessel", "Airplane") or not is_latin(r["name"]):
            continue
        schema = "Person" if r["schema"] == "Person" else "Organization"
        out.append(dict(list="ua-war", id=r["id"], name=r["name"], schema=schema))
    return out


def _legal_spans(words: list[str]) -> set[int]:
    up = [w.upper().strip(".,\"'") for w in words]
    out: set[int] = {i for i, w in enumerate(up) if w.replace(".", "") in FORM_WORDS}
    for form in sorted(LEGAL, key=len, reverse=True):
        f = form.split()
        for i in range(len(up) - len(f) + 1):
            if up[i : i + len(f)] == f:
                out.update(range(i, i + len(f)))
    return out


def _typo(w: str, rnd: random.Random) -> str:
    letters = "ABCDEFGHIKLMNOPRSTUVYZ" if w.isupper() else "abcdefghiklmnoprstuvyz"
    i = rnd.randrange(len(w))
    op = rnd.choice(["sub", "del", "ins", "swap"])
    if op == "sub":
        return w[:i] + rnd.choice(letters) + w[i + 1 :]
    if op == "del":
        return w[:i] + w[i + 1 :]
    if op == "ins":
        return w[:i] + rnd.choice(letters) + w[i:]
    j = min(i + 1, len(w) - 1)
    return w[:i] + w[j] + w[i] + w[j + 1 :] if j > i else w[:-2] + w[-1] + w[-2]


def perturb(e: dict[str, str], rnd: random.Random) -> tuple[str, str] | None:
    """A variant a screener should still catch, and its kind; None if none applies."""
    name = e["name"]
    person = e["schema"] == "Person"
    words = name.replace(",", " ").split()
    legal = _legal_spans(words)
    core = [i for i, w in enumerate(words) if i not in legal and w.upper() not in GENERIC]
    kinds = ["typo", "translit", "joined", "punctuation"]
    if person:
        kinds += ["reorder", "initial", "drop middle", "typo"]
    else:
        kinds += ["legal form", "generic typo", "drop generic", "legal form"]
    rnd.shuffle(kinds)
    for kind in kinds:
        w = list(words)
        if kind == "typo":
            long_ = [i for i in core if len(w[i]) >= 5]
            if not long_:
                continue
            i = rnd.choice(long_)
            w[i] = _typo(w[i], rnd)
            return " ".join(w), kind
        if kind == "translit":
            opts = [(i, a, b) for i in core for a, b in TRANSLIT if a in w[i].upper()[1:]]
            if not opts:
                continue
            i, a, b = rnd.choice(opts)
            up = w[i].upper()
            k = up.index(a, 1)
            w[i] = up[:k] + b + up[k + len(a) :]
            return " ".join(w), kind
        if kind == "joined" and len(core) >= 2:
            k = rnd.randrange(len(core) - 1)
            i, j = core[k], core[k + 1]
            if j != i + 1:
                continue
            w[i] = w[i] + w[j].capitalize() if not w[j].isupper() else w[i] + w[j]
            del w[j]
            return " ".join(w), kind
        if kind == "punctuation":
            alt = name.replace(",", "").replace("-", " ").replace(".", "")
            if alt == name:
                alt = name.title() if name.isupper() else name.upper()
            return alt, kind
        if kind == "reorder" and len(words) >= 2:
            if "," in name:
                last, _, first = name.partition(",")
                return f"{first.strip()} {last.strip()}", kind
            return " ".join([words[-1], *words[:-1]]), kind
        if kind == "initial" and "," in name and len(words) >= 2:
            last, _, first = name.partition(",")
            given = first.split()
            if not given or len(given[0]) < 3:
                continue
            given[0] = given[0][0] + "."
            return f"{' '.join(given)} {last.strip()}", kind
        if kind == "drop middle" and len(words) >= 3 and "," in name:
            last, _, first = name.partition(",")
            given = first.split()
            if len(given) < 2:
                continue
            return f"{last.strip()}, {given[0]}", kind
        if kind == "legal form":
            spans = sorted(legal)
            up = " ".join(words[i] for i in spans).upper().strip(".,")
            if spans and up in LEGAL:
                rest = [x for i, x in enumerate(words) if i not in legal]
                new = rnd.choice(LEGAL[up])
                return " ".join([new, *rest] if rnd.random() < 0.3 else [*rest, new]), kind
            if not spans and core:
                return name + " " + rnd.choice(["LLC", "LTD", "JSC", "OOO"]), kind
        if kind == "generic typo":
            gen = [i for i, x in enumerate(words) if x.upper() in GENERIC and len(x) >= 5]
            gen += [i for i in legal if len(words[i]) >= 6]
            if not gen:
                continue
            i = rnd.choice(gen)
            w[i] = _typo(w[i], rnd)
            return " ".join(w), kind
        if kind == "drop generic":
            gen = [i for i, x in enumerate(words) if x.upper() in GENERIC]
            if not gen or len(core) < 1:
                continue
            del w[rnd.choice(gen)]
            return " ".join(w), kind
    return None


def _key(name: str) -> frozenset[str]:
    words = name.upper().replace(",", " ").split()
    legal = _legal_spans(words)
    return frozenset(
        w.strip(".,\"'") for i, w in enumerate(words) if i not in legal and w not in GENERIC
    )


def near_miss(
    e: dict[str, str],
    rnd: random.Random,
    vocab: list[str],
    given: list[str],
    listed: set[frozenset[str]],
) -> tuple[str, str] | None:
    """A different name built from list words that a screener should not flag."""
    name = e["name"]
    words = name.replace(",", " ").split()
    up = [x.upper() for x in words]
    legal = _legal_spans(words)
    core = [i for i, x in enumerate(up) if i not in legal and x not in GENERIC and len(x) > 2]
    out: tuple[str, str] | None = None
    if e["schema"] == "Person":
        conn = [i for i, x in enumerate(up) if x in CONNECTORS and 0 < i < len(up) - 1]
        if conn:
            k = conn[0]
            w = list(words)
            w[k - 1], w[k + 1] = w[k + 1], w[k - 1]
            out = (" ".join(w), "swapped patronymic")
        elif "," in name:
            last, _, first = name.partition(",")
            g = first.split()
            if g:
                from rapidfuzz.distance import OSA

                # every given name replaced: only the surname is shared
                for k in range(len(g)):
                    gk = g[k].upper()
                    others = [x for x in given if OSA.normalized_similarity(x.upper(), gk) < 0.4]
                    g[k] = rnd.choice(others)
                out = (f"{last.strip()}, {' '.join(g)}", "same surname, other given name")
    else:
        places = [i for i, x in enumerate(up) if x in COUNTRIES]
        if places:
            i = places[0]
            w = list(words)
            w[i] = rnd.choice([c for c in COUNTRIES if c != up[i] and " " not in c])
            out = (" ".join(w), "one place differs")
        elif 2 <= len(core) <= 3:  # in longer names one word swapped still deserves a look
            w = list(words)
            if rnd.random() < 0.5:  # keep the rarest-looking (longest) word, replace the others
                keep = max(core, key=lambda i: len(up[i]))
                for i in core:
                    if i != keep:
                        w[i] = rnd.choice(vocab)
                out = (" ".join(w), "distinctive word kept, others from other names")
            else:
                i = rnd.choice(core)
                w[i] = rnd.choice(vocab)
                out = (" ".join(w), "one word differs")
    if out is None or out[0].upper() == name.upper() or _contains_listed(_key(out[0]), listed):
        return None
    return out


def _contains_listed(words: frozenset[str], listed: set[frozenset[str]]) -> bool:
    """Whether `words` hold every distinctive word of some listed name: then the variant
    names that entity (OPLOT TRADING SRO contains the listed OPLOT), not a near miss."""
    core = frozenset(w for w in words if w not in GENERIC)
    return any(k <= core for k in _by_word(listed, core))


def _by_word(listed: set[frozenset[str]], core: frozenset[str]) -> list[frozenset[str]]:
    index = _LISTED_INDEX.get(id(listed))
    if index is None:
        index = {}
        for k in listed:
            for w in k:
                index.setdefault(w, []).append(k)
        _LISTED_INDEX[id(listed)] = index
    return [k for w in core for k in index.get(w, []) if k]


_LISTED_INDEX: dict[int, dict[str, list[frozenset[str]]]] = {}


def list_sets(sl: Path, seed: int, n: int = 1500) -> dict[str, list[dict[str, Any]]]:
    rnd = random.Random(seed)
    ents = list_entities(sl)
    listed = {_key(e["name"]) for e in ents}
    vocab = sorted(
        {
            w.upper()
            for e in ents
            if e["schema"] != "Person"
            for w in name_words(e["name"])
            if len(w) > 3 and w.isalpha() and w.upper() not in GENERIC
        }
    )
    given = sorted(
        {
            e["name"].partition(",")[2].split()[0]
            for e in ents
            if e["schema"] == "Person" and "," in e["name"] and e["name"].partition(",")[2].split()
        }
    )
    sample = rnd.sample(ents, n)
    pairs_p, pairs_n, q_p, q_n = [], [], [], []
    for e in sample:
        sp = split_of(e["list"] + e["id"], seed)
        p = perturb(e, rnd)
        if p is not None:
            pairs_p.append(
                dict(
                    name1=p[0], name2=e["name"], is_match=1, schema=e["schema"], kind=p[1], split=sp
                )
            )
            q_p.append(
                dict(query=p[0], country="", list=e["list"], entity_id=e["id"], kind=p[1], split=sp)
            )
        m = near_miss(e, rnd, vocab, given, listed)
        if m is not None:
            pairs_n.append(
                dict(
                    name1=m[0], name2=e["name"], is_match=0, schema=e["schema"], kind=m[1], split=sp
                )
            )
            q_n.append(
                dict(query=m[0], country="", list=e["list"], entity_id="", kind=m[1], split=sp)
            )
    return {
        "pairs_list_perturbed": pairs_p,
        "pairs_list_near_miss": pairs_n,
        "queries_list_perturbed": q_p,
        "queries_list_near_miss": q_n,
    }
