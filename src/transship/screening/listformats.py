"""Sanctions list file formats: parse OpenSanctions, OFAC and generic CSV files into entities.

Formats
  ftm       OpenSanctions FollowTheMoney JSON lines (`entities.ftm.json`): one entity a line,
            names from properties name/alias/weakAlias/previousName, countries from
            country/nationality/citizenship/jurisdiction/registrationCountry (ISO alpha-2)
  targets   OpenSanctions `targets.simple.csv` (id, schema, name, aliases `;`-separated,
            countries `;`-separated alpha-2, sanctions, program_ids, dataset ...)
  ofac      OFAC SDN legacy CSV: `sdn.csv` (no header, 12 columns, `-0-` = empty, CRLF, a
            final Ctrl-Z), with `alt.csv` (aliases) and `add.csv` (address countries) given
            as further files or found beside sdn.csv. Also reads the consolidated
            non-SDN `cons_prim.csv`/`cons_alt.csv`/`cons_add.csv`.
  csv       generic CSV with a header: id, name, aliases (`;`-separated), country (ISO codes
            or names, `;`-separated), list (the source list or programme, optional), schema
            (optional FtM schema: Person, Company ...; persons also match partial names)

A list file is parsed completely (raising InputError at its first bad line, with file and
line) before anything is written.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from transship.errors import InputError, UsageError

ListFormat = Literal["auto", "ftm", "targets", "ofac", "csv"]
FORMATS: tuple[str, ...] = ("ftm", "targets", "ofac", "csv")
# FtM schemas that are parties one can trade with (not addresses, sanctions, relations).
_FTM_PARTIES = {
    "Person",
    "Company",
    "Organization",
    "LegalEntity",
    "PublicBody",
    "Vessel",
    "Airplane",
}
_FTM_NAME_PROPS = ("name", "alias", "weakAlias", "previousName")
_FTM_COUNTRY_PROPS = (
    "country",
    "nationality",
    "citizenship",
    "jurisdiction",
    "registrationCountry",
    "mainCountry",
)


@dataclass
class Entity:
    entity_id: str
    caption: str
    schema: str | None
    names: list[tuple[str, str]]  # (name, kind)
    countries: set[str] = field(default_factory=set)
    programs: str | None = None


def iso3(code: str) -> str | None:
    """ISO alpha-2/alpha-3 code or country name -> alpha-3, None if unknown (e.g. `suhh`)."""
    from transship.reference import ReferenceDataError, country

    code = code.strip()
    if not code:
        return None
    try:
        return country(code).iso3
    except ReferenceDataError:
        return None


def _uniq_names(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for name, kind in pairs:
        n = " ".join(name.split())
        if n and n not in seen:
            seen.add(n)
            out.append((n, kind))
    return out


def parse_ftm(path: Path) -> Iterator[Entity]:
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"invalid JSON: {e.msg}", file=str(path), line=line_no) from None
            if not isinstance(obj, dict) or not isinstance(obj.get("properties"), dict):
                raise InputError(
                    "expected an entity object with 'id', 'schema' and 'properties'",
                    file=str(path),
                    line=line_no,
                )
            if not obj.get("id") or not obj.get("schema"):
                raise InputError("entity without 'id' or 'schema'", file=str(path), line=line_no)
            if obj["schema"] not in _FTM_PARTIES:
                continue
            props = obj["properties"]
            names = [
                (str(v), "name" if p == "name" else "alias")
                for p in _FTM_NAME_PROPS
                for v in props.get(p, [])
            ]
            caption = str(obj.get("caption") or (names[0][0] if names else ""))
            if not caption:
                continue
            countries = {
                c for p in _FTM_COUNTRY_PROPS for v in props.get(p, []) if (c := iso3(str(v)))
            }
            programs = ";".join(str(p) for p in props.get("program", [])) or ";".join(
                obj.get("datasets", [])
            )
            yield Entity(
                str(obj["id"]),
                caption,
                str(obj["schema"]),
                _uniq_names([(caption, "name"), *names]),
                countries,
                programs or None,
            )


def _csv_rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(
            f"missing columns {missing}; the header has {header}", file=str(path), line=1
        )
    for row in reader:
        line = reader.line_num
        if None in row or any(v is None for v in row.values()):
            raise InputError(f"expected {len(header)} fields", file=str(path), line=line)
        yield line, row


def parse_targets(path: Path) -> Iterator[Entity]:
    for line, row in _csv_rows(path, ("id", "schema", "name", "aliases", "countries")):
        if not row["id"].strip() or not row["name"].strip():
            raise InputError("empty id or name", file=str(path), line=line, column="name")
        names = [(row["name"], "name")] + [
            (a, "alias") for a in row["aliases"].split(";") if a.strip()
        ]
        countries = {c for v in row["countries"].split(";") if (c := iso3(v))}
        programs = row.get("program_ids") or row.get("sanctions") or row.get("dataset") or None
        yield Entity(
            row["id"].strip(),
            row["name"].strip(),
            row["schema"] or None,
            _uniq_names(names),
            countries,
            programs.strip('"') or None if programs else None,
        )


def parse_generic(path: Path) -> Iterator[Entity]:
    for line, row in _csv_rows(path, ("id", "name")):
        if not row["id"].strip() or not row["name"].strip():
            col = "id" if not row["id"].strip() else "name"
            raise InputError(f"empty {col}", file=str(path), line=line, column=col)
        countries: set[str] = set()
        for v in (row.get("country") or "").split(";"):
            if v.strip():
                c = iso3(v)
                if c is None:
                    raise InputError(
                        "unknown country", file=str(path), line=line, column="country", value=v
                    )
                countries.add(c)
        names = [(row["name"], "name")] + [
            (a, "alias") for a in (row.get("aliases") or "").split(";") if a.strip()
        ]
        yield Entity(
            row["id"].strip(),
            row["name"].strip(),
            (row.get("schema") or "").strip() or None,
            _uniq_names(names),
            countries,
            (row.get("list") or "").strip() or None,
        )


def _ofac_rows(path: Path, ncols: int) -> Iterator[tuple[int, list[str]]]:
    # Legacy OFAC CSV: ASCII/Latin-1, CRLF, a trailing 0x1A, `-0-` for empty fields.
    text = path.read_bytes().decode("latin-1").rstrip("\x1a\r\n ")
    for line, row in enumerate(csv.reader(io.StringIO(text)), 1):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != ncols:
            raise InputError(
                f"expected {ncols} fields, found {len(row)} (is this an OFAC {path.name}?)",
                file=str(path),
                line=line,
            )
        yield line, ["" if v.strip() == "-0-" else v.strip() for v in row]


def _ofac_files(paths: list[Path]) -> tuple[Path, Path | None, Path | None]:
    prim = alt = add = None
    for p in paths:
        stem = p.stem.lower()
        if stem.endswith("alt"):
            alt = p
        elif stem.endswith("add"):
            add = p
        elif stem.endswith("comments"):
            continue
        else:
            prim = p
    if prim is None:
        raise UsageError("OFAC lists need sdn.csv (or cons_prim.csv) among the files")
    prefix = "cons_" if prim.stem.lower().startswith("cons") else ""
    if alt is None and (prim.parent / f"{prefix}alt.csv").exists():
        alt = prim.parent / f"{prefix}alt.csv"
    if add is None and (prim.parent / f"{prefix}add.csv").exists():
        add = prim.parent / f"{prefix}add.csv"
    return prim, alt, add


def parse_ofac(paths: list[Path], notes: list[str]) -> list[Entity]:
    prim, alt, add = _ofac_files(paths)
    entities: dict[str, Entity] = {}
    for line, row in _ofac_rows(prim, 12):
        ent, name, sdn_type, program = row[0], row[1], row[2], row[3]
        if not ent.isdigit() or not name:
            raise InputError(
                "expected a numeric ent_num and a name", file=str(prim), line=line, value=ent
            )
        entities[ent] = Entity(
            ent,
            name,
            {"individual": "Person", "vessel": "Vessel", "aircraft": "Airplane"}.get(
                sdn_type.lower(), "Organization"
            ),
            [(name, "name")],
            set(),
            program.replace("] [", ";") or None,
        )
    orphans = 0
    if alt is not None:
        for line, row in _ofac_rows(alt, 5):
            if not row[0].isdigit():
                raise InputError("expected a numeric ent_num", file=str(alt), line=line)
            e = entities.get(row[0])
            if e is None:
                orphans += 1
            elif row[3]:
                e.names = _uniq_names([*e.names, (row[3], "alias")])
        if orphans:
            notes.append(f"{alt.name}: {orphans} aliases of entries not in {prim.name} skipped")
    if add is not None:
        for line, row in _ofac_rows(add, 6):
            if not row[0].isdigit():
                raise InputError("expected a numeric ent_num", file=str(add), line=line)
            e = entities.get(row[0])
            if e is not None and row[4] and (c := iso3(row[4])):
                e.countries.add(c)
    return list(entities.values())


def detect_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".json", ".jsonl", ".ndjson")):
        return "ftm"
    with path.open("rb") as fh:
        head = fh.read(4096).decode("utf-8", errors="replace").lstrip("\ufeff")
    first = head.splitlines()[0] if head else ""
    cols = [c.strip().strip('"').lower() for c in first.split(",")]
    if cols[:4] == ["id", "schema", "name", "aliases"]:
        return "targets"
    if cols and cols[0].isdigit():
        return "ofac"
    if "id" in cols and "name" in cols:
        return "csv"
    raise UsageError(
        f"cannot tell the list format of {path}; give " + "{format} " + f"({', '.join(FORMATS)})",
        params=("format",),
    )


def parse_list(paths: list[Path], fmt: ListFormat = "auto") -> tuple[str, list[Entity], list[str]]:
    """Parse list files completely (raising InputError at the first bad line)."""
    if not paths:
        raise UsageError("no list files given")
    for p in paths:
        if not p.is_file():
            raise InputError("list file not found", file=str(p))
    kind = detect_format(paths[0]) if fmt == "auto" else fmt
    notes: list[str] = []
    if kind == "ofac":
        return kind, parse_ofac(paths, notes), notes
    parser = {"ftm": parse_ftm, "targets": parse_targets, "csv": parse_generic}.get(kind)
    if parser is None:
        raise UsageError(f"unknown list format {kind!r}; use one of {', '.join(FORMATS)}")
    entities: list[Entity] = []
    for p in paths:
        entities.extend(parser(p))
    return kind, entities, notes
