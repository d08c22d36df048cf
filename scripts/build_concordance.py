"""Build the committed HS reference files from the UN tables in ../shared/data/hs-nomenclature.

Writes into src/transship/reference/data/:

* hs_concordance.csv - for each CHPL HS2022 code and each older revision (HS2017, HS2012),
  its older codes and a status, derived from the UN *correlation* sheets (never from the
  conversion sheet, whose single target sends 854151/854159 to 851712).
* hs6_codes.csv - every six-digit code of HS2012/HS2017/HS2022 per the UN Comtrade code
  lists (classificationH4/H5/H6.json), so product expressions can be validated and HS
  prefixes expanded at runtime without the shared data.

Status rule (per HS2022 code X and older revision R), from the correlation links:
  Old(X)  = older codes linked to X (chained 2022 -> 2017 -> 2012 for HS2012)
  New(O)  = HS2022 codes an older code O is linked to (chained the other way)
  exact          every O in Old(X) has New(O) == {X}: the old codes add up to X exactly
  mapped         Old(X) == {O} but O also feeds other HS2022 codes: O is an upper bound
                 for X (e.g. 880730 <- 880330, 854800 <- 854890)
  lower_bound    |Old(X)| > 1 and some O have New(O) == {X}: those O are a lower bound
  not_comparable none of the above (e.g. 854151/854159, drawn from n:n links only)
Only exact and mapped count as comparable; nothing is ever guessed.

Run: /work/venv/bin/python scripts/build_concordance.py [--shared PATH] [--codes 851712,...]
(openpyxl is a dev dependency; the runtime never imports it.)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "transship" / "reference" / "data"

Links = dict[str, dict[str, str]]  # code -> {linked code: UN relationship label}


def _correlations(
    path: Path, sheet: str, new_col: int, old_col: int, rel_col: int
) -> tuple[Links, Links]:
    ws = openpyxl.load_workbook(path, read_only=True)[sheet]
    new2old: Links = defaultdict(dict)
    old2new: Links = defaultdict(dict)
    for i, row in enumerate(ws.iter_rows(values_only=True)):
        if i < 2:  # two header rows ("Between", column names)
            continue
        new, old, rel = (str(row[c]).strip() for c in (new_col, old_col, rel_col))
        if not (len(new) == 6 and len(old) == 6 and new.isdigit() and old.isdigit()):
            sys.exit(f"{path.name}:{sheet} row {i + 1}: unexpected codes {row!r}")
        if rel not in {"1:1", "n:1", "1:n", "n:n"}:
            sys.exit(f"{path.name}:{sheet} row {i + 1}: unexpected relationship {rel!r}")
        new2old[new][old] = rel
        old2new[old][new] = rel
    return new2old, old2new


def _codes(path: Path) -> set[str]:
    results = json.loads(path.read_text(encoding="utf-8"))["results"]
    return {r["id"] for r in results if len(r["id"]) == 6 and r["id"].isdigit()}


def _status(x: str, old: dict[str, str], new_of: dict[str, set[str]]) -> str:
    full = [o for o in old if new_of[o] == {x}]
    if old and len(full) == len(old):
        return "exact"
    if len(old) == 1:
        return "mapped"
    return "lower_bound" if full else "not_comparable"


def build(shared: Path, codes: list[str]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    hs = shared / "hs-nomenclature"
    a_n2o, a_o2n = _correlations(hs / "HS2022toHS2017ConversionAndCorrelationTables.xlsx",
                                 "HS2022-HS2017 Correlations", 0, 1, 2)
    b_n2o, b_o2n = _correlations(hs / "HS2017toHS2012ConversionAndCorrelationTables.xlsx",
                                 "Correlation HS17-HS12", 0, 2, 3)
    lists = {rev: _codes(hs / f"classification{h}.json")
             for rev, h in (("HS2012", "H4"), ("HS2017", "H5"), ("HS2022", "H6"))}

    rows: list[dict[str, str]] = []
    for x in codes:
        if x not in lists["HS2022"] or x not in a_n2o:
            sys.exit(f"{x} is not an HS2022 code in the UN tables")
        # HS2017: direct links.
        old17 = a_n2o[x]
        new17 = {o: set(a_o2n[o]) for o in old17}
        # HS2012: chain X -> HS2017 codes -> HS2012 codes; label kept per first hop.
        old12: dict[str, str] = {}
        for o17, _ in old17.items():
            for o12, rel in b_n2o.get(o17, {}).items():
                prev = old12.get(o12)
                old12[o12] = rel if prev in (None, rel) else "n:n"
        new12 = {o12: {n for o17 in b_o2n[o12] for n in a_o2n[o17]} for o12 in old12}
        for rev, old, new_of in (("HS2017", old17, new17), ("HS2012", old12, new12)):
            status = _status(x, old, new_of)
            for o in sorted(old):
                if o not in lists[rev]:
                    sys.exit(f"{o} ({rev}, linked to {x}) missing from the Comtrade {rev} list")
                also = sorted(new_of[o] - {x})
                # The targets of an unusable link add nothing but bulk: list them only
                # where the old code is (part of) a usable mapping.
                listed = also if status != "not_comparable" else []
                rows.append(dict(hs2022=x, revision=rev, status=status, old_code=o,
                                 relationship=old[o],
                                 contained_in_x="yes" if not also else "no",
                                 also_maps_to=";".join(listed)))
    all_codes = sorted(lists["HS2012"] | lists["HS2017"] | lists["HS2022"])
    code_rows = [dict(hs6=c, revisions=";".join(r for r in ("HS2012", "HS2017", "HS2022")
                                                  if c in lists[r]))
                 for c in all_codes]
    return rows, code_rows


def _chpl_codes() -> list[str]:
    with (OUT / "chpl.csv").open(encoding="utf-8") as fh:
        return [r["hs6"] for r in csv.DictReader(fh)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("TRANSSHIP_SHARED_DATA") or str(ROOT.parent / "shared" / "data")
    ap.add_argument("--shared", type=Path, default=Path(default))
    ap.add_argument("--codes", default="", help="extra HS2022 codes to concord, comma-separated")
    args = ap.parse_args()
    codes = _chpl_codes() + [c for c in args.codes.split(",") if c]
    rows, code_rows = build(args.shared, sorted(set(codes)))
    for name, data in (("hs_concordance.csv", rows), ("hs6_codes.csv", code_rows)):
        with (OUT / name).open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(data[0]), lineterminator="\n")
            w.writeheader()
            w.writerows(data)
        print(f"wrote {name}: {len(data)} rows")
    summary: dict[tuple[str, str], int] = defaultdict(int)
    for r in {(r["hs2022"], r["revision"], r["status"]) for r in rows}:
        summary[(r[1], r[2])] += 1
    for k in sorted(summary):
        print(k, summary[k])


if __name__ == "__main__":
    main()
