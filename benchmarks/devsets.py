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
import random
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from devsets_aliases import alias_pairs, eu_subjects, uk_subjects
from devsets_lists import is_latin, list_sets, name_words, split_of, ua_war_targets

HERE = Path(__file__).resolve().parent
OUT = HERE / "data" / "generated"
COLS = ["name1", "name2", "is_match", "schema", "country1", "country2", "kind", "split"]
QCOLS = ["query", "country", "list", "entity_id", "kind", "split"]


def _write(path: Path, cols: list[str], rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    shown = path.relative_to(HERE.parent) if path.is_relative_to(HERE.parent) else path
    print(f"{shown}: {len(rows)} rows")


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
        for w in name_words(n.lower()):
            by_word.setdefault(w, []).append(n)
    rnd = random.Random(seed)
    negs = names("yente_validation_negatives_global.csv") + names(
        "yente_validation_negatives_us.csv"
    )
    for i, q in enumerate(rnd.sample(negs, 400)):
        shared = [n for w in name_words(q.lower()) for n in by_word.get(w, [])]
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
            if orig and latin and not is_latin(orig):
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


def list_cross_script(sl: Path, seed: int, limit: int = 600) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    ents = []
    for r in ua_war_targets(sl):
        if r["schema"] == "Vessel" or not is_latin(r["name"]):
            continue
        alts = [a for a in r["aliases"].split(";") if a.strip() and not is_latin(a)]
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
