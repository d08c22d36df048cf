"""Sanctions lists in the warehouse: load a parsed list (screening.listformats) as the list's
next version, with its matcher index, in one transaction; list what is loaded.

A malformed file is rejected with its file and line and the warehouse keeps the list as it
was. Loading a list under a name already loaded replaces it in one transaction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from transship import __version__
from transship.errors import InputError, UsageError
from transship.screening.index import store_index
from transship.screening.listformats import FORMATS, Entity, ListFormat, parse_list
from transship.screening.names import normalize_name

__all__ = [
    "FORMATS",
    "Entity",
    "ListFormat",
    "LoadResult",
    "ensure_tables",
    "load_list",
    "loaded_lists",
    "parse_list",
]

DDL = (
    """CREATE TABLE IF NOT EXISTS screening_lists (
    list VARCHAR PRIMARY KEY,
    format VARCHAR NOT NULL,
    input_names VARCHAR NOT NULL,
    input_sha256 VARCHAR NOT NULL,
    entities BIGINT NOT NULL,
    names BIGINT NOT NULL,
    loaded_at TIMESTAMP NOT NULL,  -- UTC
    transship_version VARCHAR
)""",
    """CREATE TABLE IF NOT EXISTS screening_names (
    list VARCHAR NOT NULL,
    entity_id VARCHAR NOT NULL,
    schema VARCHAR,
    caption VARCHAR NOT NULL,   -- the entity's primary name
    name VARCHAR NOT NULL,      -- this name or alias, as listed
    kind VARCHAR NOT NULL,      -- name | alias
    norm VARCHAR NOT NULL,      -- screening.names.normalize_name(name)
    countries VARCHAR[],        -- ISO alpha-3
    programs VARCHAR
)""",
)


@dataclass
class LoadResult:
    name: str
    format: str
    input_names: list[str]
    entities: int
    names: int
    skipped: int
    notes: list[str]
    version: int = 0  # this load's version of the list (screening/versions.py)


# -- warehouse -------------------------------------------------------------------------------
def ensure_tables(con: Any) -> None:
    for ddl in DDL:
        con.execute(ddl)


def _sha256(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def load_list(
    con: Any,
    name: str,
    paths: list[Path],
    fmt: ListFormat = "auto",
    *,
    as_of: date | None = None,
    source: str | None = None,
) -> LoadResult:
    """Parse `paths` and replace list `name` in the warehouse (DuckDB connection `con`); the
    load is kept as the list's next version (versions.py), dated `as_of` if given."""
    import pyarrow as pa

    from transship.screening import versions

    if not name or not all(c.isalnum() or c in "-_." for c in name):
        raise UsageError(f"bad list name {name!r}: use letters, digits, - _ .")
    kind, entities, notes = parse_list(paths, fmt)
    if not entities:
        raise InputError("no screenable entities found", file=str(paths[0]))
    cols: dict[str, list[Any]] = {
        k: [] for k in ("entity_id", "schema", "caption", "name", "kind", "norm", "countries")
    }
    cols["programs"] = []
    skipped = 0
    for e in entities:
        countries = sorted(e.countries)
        for n, k in e.names:
            norm = normalize_name(n)
            if not norm:
                skipped += 1
                continue
            for key, v in (
                ("entity_id", e.entity_id),
                ("schema", e.schema),
                ("caption", e.caption),
                ("name", n),
                ("kind", k),
                ("norm", norm),
                ("countries", countries),
                ("programs", e.programs),
            ):
                cols[key].append(v)
    if skipped:
        notes.append(
            f"{skipped} name{'s are' if skipped != 1 else ' is'} only a legal form or "
            "punctuation: skipped"
        )
    table = pa.table(cols)
    ensure_tables(con)
    con.begin()
    try:
        versions.backfill(con)  # a list loaded before versions existed keeps its old contents
        con.execute("DELETE FROM screening_names WHERE list = ?", [name])
        con.execute("DELETE FROM screening_lists WHERE list = ?", [name])
        con.register("_names", table)
        con.execute(
            "INSERT INTO screening_names SELECT ?, entity_id, schema, caption, name, kind, norm, "
            "countries, programs FROM _names",
            [name],
        )
        con.unregister("_names")
        sha = _sha256(paths)
        con.execute(
            "INSERT INTO screening_lists VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                name,
                kind,
                json.dumps([str(p) for p in paths]),
                sha,
                len(entities),
                table.num_rows,
                datetime.now(UTC).replace(tzinfo=None),
                __version__,
            ],
        )
        store_index(con, name, sha)  # the matcher's index, rebuilt only when a list loads
        version = versions.record(
            con, name, kind, paths, sha, table, len(entities), as_of=as_of, source=source
        ).version
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return LoadResult(
        name, kind, [str(p) for p in paths], len(entities), table.num_rows, skipped, notes, version
    )


def loaded_lists(con: Any) -> list[dict[str, Any]]:
    """Lists in the warehouse with their provenance, newest first."""
    from transship.schema import table_exists

    if not table_exists(con, "screening_lists"):
        return []
    versioned = table_exists(con, "screening_list_versions")
    # The current version number (versions.py), NULL for a list loaded before versions.
    version = (
        "(SELECT max(v.version) FROM screening_list_versions v WHERE v.list = l.list AND v.current)"
        if versioned
        else "NULL::INTEGER"
    )
    cur = con.execute(
        "SELECT list, format, entities, names, loaded_at, input_sha256, input_names, "
        f"{version} AS version FROM screening_lists l ORDER BY list"
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
