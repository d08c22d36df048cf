"""The matcher's index in the warehouse: table `screening_index` (index.DDL), one row per
list: the list's input sha256, the index format version and the arrays (NameIndex.to_bytes).
`lists load` stores it; screening opens it, or builds and keeps it when it is missing or
stale (a new index format after an upgrade)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transship.screening.index import NameIndex


def store_index(con: Any, list_name: str, input_sha256: str) -> NameIndex:
    """Build list `list_name`'s index from screening_names and store it (caller's transaction)."""
    idx = _build(con, list_name)
    _write(con, list_name, input_sha256, idx)
    return idx


def open_index(con: Any, list_name: str) -> NameIndex:
    """The stored index of a list, or one built now when it is missing or stale."""
    from transship.schema import table_exists

    if table_exists(con, "screening_index"):
        row = con.execute(
            "SELECT i.data FROM screening_index i JOIN screening_lists l USING (list) "
            "WHERE i.list = ? AND i.input_sha256 = l.input_sha256 AND i.format_version = ?",
            [list_name, FORMAT_VERSION],
        ).fetchone()
        if row is not None:
            return NameIndex.from_bytes(list_name, bytes(row[0]))
    idx = _build(con, list_name)
    _keep(con, list_name, idx)
    return idx


def _keep(con: Any, list_name: str, idx: NameIndex) -> None:
    """Store an index built because the stored one was missing or stale (a new index format
    after an upgrade), when the warehouse is open for writing: the next run opens it instead
    of building it again (~7 s for OFAC SDN + ua_war)."""
    (readonly,) = con.execute(
        "SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    sha = con.execute(
        "SELECT input_sha256 FROM screening_lists WHERE list = ?", [list_name]
    ).fetchone()
    if readonly or sha is None:
        return
    _write(con, list_name, sha[0], idx)


def _build(con: Any, list_name: str) -> NameIndex:
    rows = con.execute(
        "SELECT entity_id, caption, name, countries, programs, schema FROM screening_names "
        "WHERE list = ? ORDER BY entity_id, kind DESC, name",
        [list_name],
    ).fetchall()
    return NameIndex.build(list_name, rows)


def _write(con: Any, list_name: str, input_sha256: str, idx: NameIndex) -> None:
    con.execute(DDL)
    con.execute("DELETE FROM screening_index WHERE list = ?", [list_name])
    con.execute(
        "INSERT INTO screening_index VALUES (?, ?, ?, ?, ?)",
        [list_name, input_sha256, FORMAT_VERSION, idx.n, idx.to_bytes()],
    )


# index.py imports this module's functions from its last line and this module its names from
# here: either may then be imported first (both define what the other needs before importing).
from transship.screening.index import DDL, FORMAT_VERSION, NameIndex  # noqa: E402
