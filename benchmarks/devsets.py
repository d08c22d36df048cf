"""Generate the labelled name-matching development sets (seeded, reproducible).

Reads the public data in ../shared/data/sanctions-lists (never copied into the repository)
and writes, under benchmarks/data/generated/ (git-ignored; provenance in
benchmarks/data/README.md):

  pairs_<set>.csv    name1,name2,is_match,schema,country1,country2,kind,split
                     (the `transship lists evaluate` format, plus kind and split)
  queries_<set>.csv  query,country,list,entity_id,kind,split: screening queries against the
                     real lists; entity_id empty = the query must raise no hit (near miss)

Near misses are: a person's surname with all given names replaced by other list given
names; bin/ibn parts swapped; a place word swapped; in organisation names of two or three
distinctive words, one replaced, or all but the longest.

Sets: yente_persons (yente's UN typo/reordering pairs + its synthetic negatives paired with
the list name sharing most parts), watchman_cross_script, rigour_putin, un_cross_script (UN
names in original script vs their Latin names), list_cross_script (OpenSanctions Cyrillic
aliases vs Latin names), list_perturbed and list_near_miss (perturbations of OFAC SDN
2024-05-03 + OpenSanctions ua_war names; near misses built from the lists' own words).
Every row carries split dev/test, by a seeded hash of its source entity, so that figures
can be reported on unseen rows.

    python benchmarks/devsets.py [--data ../shared/data] [--seed 13]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from devsets_aliases import alias_pairs, eu_subjects, uk_subjects

HERE = Path(__file__).resolve().parent
OUT = HERE / "data" / "generated"
COLS = ["name1", "name2", "is_match", "schema", "country1", "country2", "kind", "split"]
QCOLS = ["query", "country", "list", "entity_id", "kind", "split"]


def split_of(key: str, seed: int) -> str:
    h = hashlib.sha256(f"{seed}:{key}".encode()).digest()[0]
    return "dev" if h % 2 == 0 else "test"


def _write(path: Path, cols: list[str], rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    print(f"{path.relative_to(HERE.parent)}: {len(rows)} rows")


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[\s,]+", name) if w]


# -- yente and watchman pairs -------------------------------------------------------------
def yente(nm: Path, seed: int) -> list[dict[str, Any]]:
    def names(f: str) -> list[str]:
        with (nm / f).open(encoding="utf-8") as fh:
            return [r["full_name"] for r in csv.DictReader(fh)]

    treated, untreated = (
        names("yente_positives_un_treated.csv"),
        names("yente_positives_un_untreated.csv"),
    )
    rows = []
    for i, (a, b) in enumerate(zip(treated, untreated, strict=True)):
        if a != b:
            sp = split_of(f"un{i}", seed)
            rows.append(
                dict(
                    name1=a,
                    name2=b,
                    is_match=1,
                    schema="Person",
                    kind="yente typo/reorder",
                    split=sp,
                )
            )
    listed = untreated + names("yente_positives_us_congress_untreated.csv")
    by_word: dict[str, list[str]] = {}
    for n in listed:
        for w in _words(n.lower()):
            by_word.setdefault(w, []).append(n)
    rnd = random.Random(seed)
    negs = names("yente_validation_negatives_global.csv") + names(
        "yente_validation_negatives_us.csv"
    )
    for i, q in enumerate(rnd.sample(negs, 400)):
        shared = [n for w in _words(q.lower()) for n in by_word.get(w, [])]
        other = rnd.choice(shared) if shared else rnd.choice(listed)
        rows.append(
            dict(
                name1=q,
                name2=other,
                is_match=0,
                schema="Person",
                kind="yente negative, shares a part" if shared else "yente negative",
                split=split_of(f"neg{i}", seed),
            )
        )
    return rows


def watchman(nm: Path, seed: int) -> list[dict[str, Any]]:
    lines = [
        ln
        for ln in (nm / "watchman_cross_script_pairs.csv").read_text("utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    pairs = [next(csv.reader([ln]))[:2] for ln in lines]
    rows = [
        dict(
            name1=q,
            name2=e,
            is_match=1,
            schema="Person",
            kind="cross-script",
            split=split_of(q, seed),
        )
        for q, e in pairs
    ]
    rnd = random.Random(seed)
    for q, _e in pairs:  # each query against another pair's Latin name: a negative
        other = rnd.choice([e for q2, e in pairs if q2 != q])
        rows.append(
            dict(
                name1=q,
                name2=other,
                is_match=0,
                schema="Person",
                kind="cross-script negative",
                split=split_of(q, seed),
            )
        )
    return rows


def putin(nm: Path, seed: int) -> list[dict[str, Any]]:
    names = [n.strip() for n in (nm / "rigour_putin_names.txt").read_text("utf-8").splitlines()]
    return [
        dict(
            name1=n,
            name2="PUTIN, Vladimir Vladimirovich",
            is_match=1,
            schema="Person",
            kind="spelling/script",
            split=split_of(n, seed),
        )
        for n in names
        if n
    ]


# -- the lists ------------------------------------------------------------------------------
def _is_latin(s: str) -> bool:
    return all(not c.isalpha() or ord(c) < 0x250 for c in s)


def _script(s: str) -> str:
    for c in s:
        if c.isalpha() and ord(c) >= 0x250:
            return unicodedata.name(c, "OTHER ?").split()[0]
    return "LATIN"


def un_cross_script(sl: Path, seed: int) -> list[dict[str, Any]]:
    root = ET.parse(sl / "un-security-council/UN_consolidated.xml").getroot()
    rows = []
    latin_names: list[tuple[str, str]] = []
    for group, schema in (("INDIVIDUALS", "Person"), ("ENTITIES", "Organization")):
        sec = root.find(group)
        for e in sec if sec is not None else []:
            orig = (e.findtext("NAME_ORIGINAL_SCRIPT") or "").strip()
            parts = [
                (e.findtext(t) or "").strip()
                for t in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
            ]
            latin = " ".join(p for p in parts if p)
            latin_names.append((latin, schema))
            if orig and latin and not _is_latin(orig):
                did = e.findtext("DATAID") or latin
                rows.append(
                    dict(
                        name1=orig,
                        name2=latin,
                        is_match=1,
                        schema=schema,
                        kind=f"{_script(orig).lower()} vs latin",
                        split=split_of(did, seed),
                    )
                )
    rnd = random.Random(seed)
    for r in list(rows):
        other = rnd.choice([n for n, s in latin_names if s == r["schema"] and n != r["name2"]])
        rows.append({**r, "name2": other, "is_match": 0, "kind": r["kind"] + " negative"})
    return rows


def _targets(sl: Path) -> Iterator[dict[str, str]]:
    with (sl / "opensanctions/ua_war_sanctions.targets.simple.csv").open(encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


def list_cross_script(sl: Path, seed: int, limit: int = 600) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    ents = []
    for r in _targets(sl):
        if r["schema"] == "Vessel" or not _is_latin(r["name"]):
            continue
        alts = [a for a in r["aliases"].split(";") if a.strip() and not _is_latin(a)]
        if alts:
            ents.append((r["id"], r["schema"], r["name"], rnd.choice(alts), r["countries"]))
    rnd.shuffle(ents)
    rows = []
    for eid, schema, name, alt, _ctry in ents[:limit]:
        sp = split_of(eid, seed)
        rows.append(
            dict(
                name1=alt,
                name2=name,
                is_match=1,
                schema=schema,
                kind="cyrillic alias vs latin name",
                split=sp,
            )
        )
        same = [e for e in ents if e[1] == schema and e[0] != eid and e[2][:1] == name[:1]]
        other = rnd.choice(same or ents)
        rows.append(
            dict(
                name1=alt,
                name2=other[2],
                is_match=0,
                schema=schema,
                kind="cyrillic alias vs another latin name",
                split=split_of(eid, seed),
            )
        )
    return rows


def list_entities(sl: Path) -> list[dict[str, str]]:
    """Entities of OFAC SDN 2024-05-03 and OpenSanctions ua_war with a Latin primary name."""
    out = []
    sdn = (sl / "ofac-sdn/2024-05-03/sdn.csv").read_bytes().decode("latin-1").rstrip("\x1a\r\n")
    for row in csv.reader(sdn.splitlines()):
        if len(row) < 4 or row[2].strip() in ("vessel", "aircraft"):
            continue
        schema = "Person" if row[2].strip() == "individual" else "Organization"
        out.append(dict(list="ofac-sdn", id=row[0], name=row[1].strip(), schema=schema))
    for r in _targets(sl):
        if r["schema"] in ("Vessel", "Airplane") or not _is_latin(r["name"]):
            continue
        schema = "Person" if r["schema"] == "Person" else "Organization"
        out.append(dict(list="ua-war", id=r["id"], name=r["name"], schema=schema))
    return out


_LEGAL = {
    "LLC": [
        "OOO",
        "LIMITED LIABILITY COMPANY",
        "L.L.C.",
        "OBSHCHESTVO S OGRANICHENNOI OTVETSTVENNOSTYU",
    ],
    "OOO": ["LLC", "LIMITED LIABILITY COMPANY", "O.O.O."],
    "JSC": ["AO", "AKTSIONERNOE OBSHCHESTVO", "JOINT STOCK COMPANY", "J.S.C."],
    "AO": ["JSC", "AKTSIONERNOYE OBSHCHESTVO", "JOINT-STOCK COMPANY"],
    "PJSC": ["PAO", "PUBLIC JOINT STOCK COMPANY"],
    "LIMITED": ["LTD", "LTD.", "CO., LTD."],
    "LTD": ["LIMITED", "LTD.", "CO. LTD"],
    "LIMITED LIABILITY COMPANY": ["LLC", "OOO"],
    "JOINT STOCK COMPANY": ["JSC", "AO"],
    "ANONIM SIRKETI": ["A.S.", "AS", "A.Ş."],
    "LIMITED SIRKETI": ["LTD. STI.", "LTD STI"],
    "FZE": ["F.Z.E.", "FZ LLC"],
    "GMBH": ["G.M.B.H."],
}
_GENERIC = {
    "TRADING",
    "GENERAL",
    "INTERNATIONAL",
    "HOLDING",
    "COMPANY",
    "GROUP",
    "INDUSTRIAL",
    "SERVICES",
    "LOGISTICS",
    "TECHNOLOGIES",
    "IMPORT",
    "EXPORT",
    "TICARET",
    "SANAYI",
    "VE",
    "AND",
    "OF",
    "THE",
    "DIS",
    "ENTERPRISE",
    "INVESTMENT",
    "SYSTEMS",
}
_TRANSLIT = [
    ("KH", "H"),
    ("Y", "I"),
    ("OU", "U"),
    ("SH", "SCH"),
    ("TS", "TZ"),
    ("IE", "YE"),
    ("V", "W"),
    ("YU", "IU"),
    ("YA", "IA"),
    ("ZH", "J"),
    ("EE", "I"),
    ("KS", "X"),
    ("U", "OU"),
    ("I", "Y"),
    ("E", "YE"),
    ("J", "DJ"),
]
_COUNTRIES = [
    "CHINA",
    "CHAD",
    "RUSSIA",
    "TURKEY",
    "IRAN",
    "INDIA",
    "CYPRUS",
    "GEORGIA",
    "ARMENIA",
    "KAZAKHSTAN",
    "BELARUS",
    "SYRIA",
    "UAE",
    "DUBAI",
    "HONG KONG",
    "MOSCOW",
    "ISTANBUL",
    "LEBANON",
    "MALAYSIA",
    "SINGAPORE",
    "KOREA",
    "PANAMA",
]
_CONNECTORS = {"BIN", "IBN", "BINT", "BEN", "OULD"}


_FORM_WORDS = {
    "LLC",
    "OOO",
    "JSC",
    "AO",
    "PJSC",
    "PAO",
    "OAO",
    "ZAO",
    "LTD",
    "LIMITED",
    "CO",
    "INC",
    "CORP",
    "SA",
    "SAS",
    "CV",
    "GMBH",
    "AG",
    "FZE",
    "FZCO",
    "SPA",
    "SRL",
    "BV",
    "NV",
    "PLC",
    "JOINT-STOCK",
    "JOINT",
    "STOCK",
    "COMPANY",
    "LIABILITY",
    "PRIVATE",
    "PUBLIC",
    "OPEN",
    "CLOSED",
    "SAPI",
    "DE",
    "RL",
    "TOO",
    "LLP",
    "PTE",
    "PVT",
}


def _legal_spans(words: list[str]) -> set[int]:
    up = [w.upper().strip(".,\"'") for w in words]
    out: set[int] = {i for i, w in enumerate(up) if w.replace(".", "") in _FORM_WORDS}
    for form in sorted(_LEGAL, key=len, reverse=True):
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
    core = [i for i, w in enumerate(words) if i not in legal and w.upper() not in _GENERIC]
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
            opts = [(i, a, b) for i in core for a, b in _TRANSLIT if a in w[i].upper()[1:]]
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
            if spans and up in _LEGAL:
                rest = [x for i, x in enumerate(words) if i not in legal]
                new = rnd.choice(_LEGAL[up])
                return " ".join([new, *rest] if rnd.random() < 0.3 else [*rest, new]), kind
            if not spans and core:
                return name + " " + rnd.choice(["LLC", "LTD", "JSC", "OOO"]), kind
        if kind == "generic typo":
            gen = [i for i, x in enumerate(words) if x.upper() in _GENERIC and len(x) >= 5]
            gen += [i for i in legal if len(words[i]) >= 6]
            if not gen:
                continue
            i = rnd.choice(gen)
            w[i] = _typo(w[i], rnd)
            return " ".join(w), kind
        if kind == "drop generic":
            gen = [i for i, x in enumerate(words) if x.upper() in _GENERIC]
            if not gen or len(core) < 1:
                continue
            del w[rnd.choice(gen)]
            return " ".join(w), kind
    return None


def _key(name: str) -> frozenset[str]:
    words = name.upper().replace(",", " ").split()
    legal = _legal_spans(words)
    return frozenset(
        w.strip(".,\"'") for i, w in enumerate(words) if i not in legal and w not in _GENERIC
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
    core = [i for i, x in enumerate(up) if i not in legal and x not in _GENERIC and len(x) > 2]
    out: tuple[str, str] | None = None
    if e["schema"] == "Person":
        conn = [i for i, x in enumerate(up) if x in _CONNECTORS and 0 < i < len(up) - 1]
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
        places = [i for i, x in enumerate(up) if x in _COUNTRIES]
        if places:
            i = places[0]
            w = list(words)
            w[i] = rnd.choice([c for c in _COUNTRIES if c != up[i] and " " not in c])
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
    core = frozenset(w for w in words if w not in _GENERIC)
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
            for w in _words(e["name"])
            if len(w) > 3 and w.isalpha() and w.upper() not in _GENERIC
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args()
    sl = a.data / "sanctions-lists"
    if not sl.is_dir():
        raise SystemExit(f"{sl} not found: the development sets are made from it")
    nm = sl / "name-matching"
    sets: dict[str, list[dict[str, Any]]] = {
        "pairs_yente_persons": yente(nm, a.seed),
        "pairs_watchman_cross_script": watchman(nm, a.seed),
        "pairs_rigour_putin": putin(nm, a.seed),
        "pairs_un_cross_script": un_cross_script(sl, a.seed),
        "pairs_list_cross_script": list_cross_script(sl, a.seed),
        **list_sets(sl, a.seed),
        "pairs_uk_aliases": alias_pairs(uk_subjects(sl), a.seed, split_of, 1000),
        "pairs_eu_aliases": alias_pairs(eu_subjects(sl), a.seed, split_of, 600),
    }
    for name, rows in sets.items():
        _write(a.out / f"{name}.csv", QCOLS if name.startswith("queries") else COLS, rows)


if __name__ == "__main__":
    main()
