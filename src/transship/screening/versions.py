"""Sanctions-list versions: every `lists load` is kept, dated, diffable and screenable "as of".

A load writes one version of its list (`name@N`, N counting loads of that list from 1) in the
same transaction as the list itself (lists.load_list calls `record`):

  screening_list_versions    list, version, format, source, input names and sha256, the
                             publication date read from the file (`published`, where the
                             format has one), the date given with `--as-of`, the date the
                             version counts from (`effective`: as_of, else published, else the
                             load date), entity and name counts, load time, `current`
  screening_version_names    every version's names (the columns of screening_names)
  screening_version_entities one row per entity and version: caption, schema and a
                             fingerprint (md5 over caption, schema, names, countries,
                             programmes) so diffs and suppressions see any change

Publication dates: OpenSanctions FtM and targets.simple files carry `last_change` per entity;
the latest one is the file's date. OFAC's legacy sdn.csv and generic CSV files carry none, so
their date is `--as-of` or the day they were loaded.

The newest load is the current version (what `screen` uses and screening_names holds); `in_force`
picks, per list, the version with the latest effective date on or before a day.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from transship.errors import UsageError
from transship.schema import table_exists

DDL = (
    """CREATE TABLE IF NOT EXISTS screening_list_versions (
    list VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    format VARCHAR NOT NULL,
    source VARCHAR,              -- --source, else the input file names
    input_names VARCHAR NOT NULL,  -- JSON array
    input_sha256 VARCHAR NOT NULL,
    published DATE,              -- from the file, where the format has a date
    as_of DATE,                  -- given with --as-of
    effective DATE NOT NULL,     -- as_of, else published, else the load date
    entities BIGINT NOT NULL,
    names BIGINT NOT NULL,
    loaded_at TIMESTAMP NOT NULL,  -- UTC
    current BOOLEAN NOT NULL,
    PRIMARY KEY (list, version)
)""",
    """CREATE TABLE IF NOT EXISTS screening_version_names (
    list VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    entity_id VARCHAR NOT NULL,
    schema VARCHAR,
    caption VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    norm VARCHAR NOT NULL,
    countries VARCHAR[],
    programs VARCHAR
)""",
    """CREATE TABLE IF NOT EXISTS screening_version_entities (
    list VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    entity_id VARCHAR NOT NULL,
    caption VARCHAR NOT NULL,
    schema VARCHAR,
    fingerprint VARCHAR NOT NULL
)""",
)

# md5 over everything screening reads of an entity, in a fixed order.
_FINGERPRINT_SQL = (
    "md5(concat_ws(chr(31), any_value(caption), coalesce(any_value(schema), ''), "
    "array_to_string(list_sort(any_value(countries)), ','), coalesce(any_value(programs), ''), "
    "string_agg(name || chr(30) || kind, chr(29) ORDER BY name, kind)))"
)


@dataclass(frozen=True)
class ListVersion:
    list: str
    version: int
    format: str
    source: str | None
    input_sha256: str
    published: date | None
    as_of: date | None
    effective: date
    entities: int
    names: int
    loaded_at: datetime
    current: bool

    @property
    def label(self) -> str:
        return f"{self.list}@{self.version}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_COLS = (
    "list, version, format, source, input_sha256, published, as_of, effective, entities, "
    "names, loaded_at, current"
)


def ensure_tables(con: Any) -> None:
    for ddl in DDL:
        con.execute(ddl)


# -- publication dates -----------------------------------------------------------------------
_LAST_CHANGE = re.compile(r'"last_change"\s*:\s*"(\d{4}-\d{2}-\d{2})')


def published_date(kind: str, paths: list[Path]) -> date | None:
    """The newest `last_change` in OpenSanctions files; None for formats without a date."""
    newest: str | None = None
    if kind == "ftm":
        for p in paths:
            with p.open(encoding="utf-8") as fh:
                for line in fh:
                    # Entity lines only: a nested property called last_change does not occur.
                    m = _LAST_CHANGE.search(line)
                    if m and (newest is None or m.group(1) > newest):
                        newest = m.group(1)
    elif kind == "targets":
        for p in paths:
            reader = csv.DictReader(io.StringIO(p.read_text(encoding="utf-8-sig")))
            if "last_change" not in (reader.fieldnames or []):
                continue
            for row in reader:
                v = (row.get("last_change") or "")[:10]
                if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) and (newest is None or v > newest):
                    newest = v
    return date.fromisoformat(newest) if newest else None


# -- recording -------------------------------------------------------------------------------
def record(
    con: Any,
    name: str,
    kind: str,
    paths: list[Path],
    sha256: str,
    names: Any,
    entities: int,
    *,
    as_of: date | None = None,
    source: str | None = None,
) -> ListVersion:
    """Store `names` (the Arrow table load_list writes to screening_names) as the next version
    of list `name`. Runs inside the caller's transaction: a failed load records no version."""
    ensure_tables(con)
    (last,) = (
        con.execute(
            "SELECT coalesce(max(version), 0) FROM screening_list_versions WHERE list = ?", [name]
        ).fetchall()[:1]
        or [None]
    )[0]
    version = int(last) + 1
    loaded_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    published = published_date(kind, paths)
    effective = as_of or published or loaded_at.date()
    con.execute("UPDATE screening_list_versions SET current = false WHERE list = ?", [name])
    con.execute(
        "INSERT INTO screening_list_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, true)",
        [
            name,
            version,
            kind,
            source or ", ".join(p.name for p in paths),
            json.dumps([str(p) for p in paths]),
            sha256,
            published,
            as_of,
            effective,
            entities,
            names.num_rows,
            loaded_at,
        ],
    )
    con.register("_version_names", names)
    con.execute(
        "INSERT INTO screening_version_names SELECT ?, ?, entity_id, schema, caption, name, "
        "kind, norm, countries, programs FROM _version_names",
        [name, version],
    )
    con.unregister("_version_names")
    _fingerprint(con, name, version)
    return get(con, name, version)


def _fingerprint(con: Any, name: str, version: int) -> None:
    con.execute(
        "INSERT INTO screening_version_entities SELECT list, version, entity_id, "
        f"any_value(caption), any_value(schema), {_FINGERPRINT_SQL} "
        "FROM screening_version_names WHERE list = ? AND version = ? "
        "GROUP BY list, version, entity_id",
        [name, version],
    )


def backfill(con: Any) -> None:
    """A list loaded before versions existed becomes its version 1 (dated by its load)."""
    if not table_exists(con, "screening_lists"):
        return
    ensure_tables(con)
    missing = con.execute(
        "SELECT list, format, input_names, input_sha256, entities, names, loaded_at "
        "FROM screening_lists WHERE list NOT IN (SELECT list FROM screening_list_versions)"
    ).fetchall()
    for lst, fmt, inputs, sha, ents, nnames, loaded in missing:
        con.execute(
            "INSERT INTO screening_list_versions VALUES "
            "(?, 1, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, true)",
            [lst, fmt, None, inputs, sha, loaded.date(), ents, nnames, loaded],
        )
        con.execute(
            "INSERT INTO screening_version_names SELECT list, 1, entity_id, schema, caption, "
            "name, kind, norm, countries, programs FROM screening_names WHERE list = ?",
            [lst],
        )
        _fingerprint(con, lst, 1)


# -- reading ---------------------------------------------------------------------------------
def _rows(con: Any, where: str = "", params: list[Any] | None = None) -> list[ListVersion]:
    if not table_exists(con, "screening_list_versions"):
        return []
    cur = con.execute(
        f"SELECT {_COLS} FROM screening_list_versions {where} ORDER BY list, version",
        params or [],
    )
    return [ListVersion(*r) for r in cur.fetchall()]


def all_versions(con: Any, name: str | None = None) -> list[ListVersion]:
    """Every version (of one list, or of all), oldest first."""
    if name is None:
        return _rows(con)
    return _rows(con, "WHERE list = ?", [name])


def get(con: Any, name: str, version: int) -> ListVersion:
    found = _rows(con, "WHERE list = ? AND version = ?", [name, version])
    if not found:
        have = [v.version for v in all_versions(con, name)]
        raise UsageError(
            f"list {name!r} has no version {version}"
            + (f"; it has {', '.join(map(str, have))}" if have else "; it was never loaded")
        )
    return found[0]


def current(con: Any, lists: list[str]) -> dict[str, ListVersion]:
    """The current version of each of `lists` that has one."""
    if not lists:
        return {}
    return {v.list: v for v in _rows(con, "WHERE current AND list IN (SELECT unnest(?))", [lists])}


def in_force(con: Any, lists: list[str], on: date) -> dict[str, ListVersion]:
    """Per list, the version in force on `on`: the latest effective date not after it (the
    later load among equals). A list with no version yet in force is an error."""
    out: dict[str, ListVersion] = {}
    for name in lists:
        versions = all_versions(con, name)
        if not versions:
            raise UsageError(f"list {name!r} is not loaded")
        valid = [v for v in versions if v.effective <= on]
        if not valid:
            first = min(v.effective for v in versions)
            raise UsageError(
                f"no version of list {name!r} was in force on {on.isoformat()} "
                f"(the earliest counts from {first.isoformat()})"
            )
        out[name] = max(valid, key=lambda v: (v.effective, v.version))
    return out


def audit_entries(versions: list[ListVersion]) -> list[dict[str, Any]]:
    """The audit's `list_versions` entries (as matcher.list_versions writes them for the
    current versions) for the given versions, e.g. those in force on an as-of day."""
    return [
        {
            "list": v.list,
            "loaded_at": v.loaded_at.isoformat(timespec="seconds"),
            "sha256": v.input_sha256,
            "entities": v.entities,
            "version": v.version,
        }
        for v in sorted(versions, key=lambda v: v.list)
    ]


def labels_of(entries: list[dict[str, Any]] | str | None) -> list[str]:
    """`list@version` labels from an audit record's list_versions (JSON text or parsed)."""
    if not entries:
        return []
    if isinstance(entries, str):
        entries = json.loads(entries)
    assert not isinstance(entries, str)
    return [f"{e['list']}@{e['version']}" if e.get("version") else str(e["list"]) for e in entries]


def matcher_rows(con: Any, versions: list[ListVersion]) -> list[tuple[Any, ...]]:
    """Matcher rows (list, entity_id, caption, name, norm, countries, programs, schema) of the
    given versions, in the order Matcher.from_warehouse reads screening_names."""
    out: list[tuple[Any, ...]] = []
    for v in sorted(versions, key=lambda v: v.list):
        out.extend(
            tuple(r)
            for r in con.execute(
                "SELECT list, entity_id, caption, name, norm, countries, programs, schema "
                "FROM screening_version_names WHERE list = ? AND version = ? ORDER BY entity_id",
                [v.list, v.version],
            ).fetchall()
        )
    return out


def fingerprints(con: Any, name: str, version: int) -> dict[str, str]:
    """entity_id -> fingerprint for one version."""
    return dict(
        con.execute(
            "SELECT entity_id, fingerprint FROM screening_version_entities "
            "WHERE list = ? AND version = ?",
            [name, version],
        ).fetchall()
    )
