"""Writing the audit trail (audit.py has the design, the chain and `verify`): records built
from a screening, their payloads hashed in Python exactly as audit.PAYLOAD_SQL writes them,
one INSERT, and the head and its copy moved, all in one transaction.

Each DuckDB statement costs ~0.3-1 ms whatever it does (DuckDB 2.0, measured), and under load
the API commits one small group of records after another, so the statements per commit are
counted: BEGIN, the head's SELECT, one INSERT of the records (VALUES with parameters for a
few, an Arrow table for more), the head's UPDATE and its copy's UPDATE, COMMIT.
"""

from __future__ import annotations

import json
import re
import weakref
from datetime import UTC, datetime
from typing import Any


def append(con: Any, result: Any, declarations: Any, channel: str) -> tuple[int, int]:
    """Append one record per decision of `result` (engine.ScreenResult); returns seq range."""
    return append_many(con, [(result, declarations, channel)])[0]


# Above this many records in one append the WAL is checkpointed into the database file, so a
# copy of the .duckdb alone holds them (DuckDB checkpoints by itself only past 16 MB of WAL).
CHECKPOINT_RECORDS = 10_000
_mem: Any = None  # the private in-memory connection, reused (opening one costs milliseconds)
_ensured: weakref.WeakSet[Any] = weakref.WeakSet()  # connections whose tables were created


def _records(result: Any, declarations: Any, channel: str, at: datetime, first: int) -> Any:
    """One screening's records without their hashes (seq from `first`), as an Arrow table."""
    import pyarrow as pa

    t = result.table
    n = t.num_rows
    records = pa.table(
        {
            "seq": pa.array(range(first, first + n), pa.int64()),
            "screened_at": pa.array([at] * n, pa.timestamp("us")),
            "channel": pa.array([channel] * n, pa.string()),
            "policy": pa.array([result.policy] * n, pa.string()),
            "lists": pa.array([";".join(result.lists)] * n, pa.string()),
            "declaration_id": t.column("id"),
            "decision": t.column("decision"),
            "rules": t.column("rules"),
            "hits": t.column("hits"),
            "error": t.column("error"),
            "policy_sha256": pa.array([result.policy_sha256] * n, pa.string()),
            "list_versions": pa.array([_versions(result)] * n, pa.string()),
        }
    )
    return records.append_column("declaration", _declaration_docs(declarations))


def _versions(result: Any) -> str:
    return json.dumps(result.list_versions, sort_keys=True, separators=(",", ":"), default=str)


def _declaration_docs(declarations: Any) -> Any:
    """The declarations as given, as JSON text (the readers' internal columns are not part of
    them): in Python for text columns (conformed declarations), else by DuckDB's to_json."""
    import pyarrow as pa

    from transship.screening.declarations import is_internal

    decl = declarations.select([c for c in declarations.column_names if not is_internal(c)])
    if all(pa.types.is_string(f.type) for f in decl.schema):  # conformed: text or null
        return pa.array([json_doc(r) for r in decl.to_pylist()], pa.string())
    # A private in-memory connection keeps row order (the warehouse's may not); callers hold
    # _LOCK, which guards it.
    global _mem
    if _mem is None:
        import duckdb

        _mem = duckdb.connect()
        _mem.execute("SET enable_progress_bar = false")
    _mem.register("_decl", decl)
    try:
        table = _mem.sql("SELECT to_json(d) AS declaration FROM _decl d").to_arrow_table()
    finally:
        _mem.unregister("_decl")
    return table.column(0)


def _rows(result: Any, declarations: Any, channel: str, at: datetime, first: int) -> list[Any]:
    """`_records` as rows (dicts) for a small append: building an Arrow table of 14 columns
    for one declaration cost more than the rows themselves."""
    t = result.table.select(["id", "decision", "rules", "hits", "error"]).to_pylist()
    docs = _declaration_docs(declarations).to_pylist()
    fixed = {
        "screened_at": at,
        "channel": channel,
        "policy": result.policy,
        "lists": ";".join(result.lists),
        "policy_sha256": result.policy_sha256,
        "list_versions": _versions(result),
    }
    return [
        {
            "seq": first + i,
            **fixed,
            "declaration_id": r["id"],
            "decision": r["decision"],
            "rules": r["rules"],
            "hits": r["hits"],
            "error": r["error"],
            "declaration": doc,
        }
        for i, (r, doc) in enumerate(zip(t, docs, strict=True))
    ]


_ESCAPE = re.compile(r"\\(?:\\|u([0-9a-f]{4}))")


def json_doc(row: dict[str, str | None] | list[str | None]) -> str:
    """A row of text fields as DuckDB's to_json writes it (compact, UTF-8, control
    characters as upper-case \\u00XX), without a DuckDB query per screening."""
    text = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
    if "\\u" not in text:
        return text
    # Escapes are read left to right so an escaped backslash before "u" stays as it is.
    return _ESCAPE.sub(lambda m: "\\u" + m[1].upper() if m[1] else m[0], text)


_PAYLOAD_FIELDS = (
    "channel",
    "policy",
    "lists",
    "declaration_id",
    "decision",
    "rules",
    "hits",
    "error",
    "declaration",
)


def payload(r: dict[str, Any]) -> str:
    """PAYLOAD_SQL for one record of text fields (seq an int, screened_at a datetime), as
    DuckDB's to_json writes it (json_doc's rules); tests compare the two on awkward text."""
    fields = [str(r["seq"]), r["screened_at"].strftime("%Y-%m-%d %H:%M:%S")]
    fields += [r[f] for f in _PAYLOAD_FIELDS]
    if r.get("policy_sha256") is not None or r.get("list_versions") is not None:
        fields += [r.get("policy_sha256"), r.get("list_versions")]
    return json_doc(fields)


# Up to this many records go in as one INSERT ... VALUES with parameters; more as an Arrow
# table (registering one costs ~1 ms, a VALUES row ~0.1 ms: measured with DuckDB 2.0).
SMALL_APPEND = 4


def append_many(con: Any, items: list[tuple[Any, Any, str]]) -> list[tuple[int, int]]:
    """Append the records of several screenings, each (result, declarations, channel), in
    one transaction (group commit: concurrent API requests share one commit); returns each
    one's seq range ((0, 0) for an empty one). All are committed, or none.

    Each DuckDB statement costs ~0.3-1 ms whatever it does, so a commit runs five: BEGIN,
    the head's SELECT, one INSERT of the records, the head's and its copy's UPDATE, COMMIT.
    """
    at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    total = sum(r.table.num_rows for r, _, _ in items)
    if total == 0:
        return [(0, 0)] * len(items)
    with _LOCK:
        if con not in _ensured:  # DDL on every append cost a catalog write each time
            ensure_tables(con)
            _ensured.add(con)
        con.begin()
        try:
            last, prev = _head(con)
            ranges, seq = [], last + 1
            small = total <= SMALL_APPEND
            parts: list[Any] = []
            for result, declarations, channel in items:
                n = result.table.num_rows
                ranges.append((seq, seq + n - 1) if n else (0, 0))
                if n:
                    build = _rows if small else _records
                    parts.append(build(result, declarations, channel, at, seq))
                seq += n
            hashes = _insert(con, parts, small, prev)
            _move_head(con, last, last + total, hashes[-1])
            con.commit()
        except BaseException:
            con.rollback()
            raise
        if total >= CHECKPOINT_RECORDS:
            checkpoint(con)
    return ranges


def _insert(con: Any, parts: list[Any], small: bool, prev: str) -> list[str]:
    """Hash the records (chained from `prev`) and insert them; returns their hashes.

    The payloads are computed in Python, as PAYLOAD_SQL writes them (verify recomputes them
    in SQL): a query on the private connection cost ~3 ms of each group commit."""
    import pyarrow as pa

    if small:
        rows = [r for part in parts for r in part]
        hashes = chain([payload(r) for r in rows], prev)
        for r, p, h in zip(rows, [prev, *hashes[:-1]], hashes, strict=True):
            r["prev_hash"], r["hash"] = p, h
        names = COLUMNS.split(", ")
        one = "(" + ", ".join("?" * len(names)) + ")"
        con.execute(
            f"INSERT INTO screening_audit ({COLUMNS}) VALUES {', '.join([one] * len(rows))}",
            [r[c] for r in rows for c in names],
        )
        return hashes
    records = pa.concat_tables(parts)
    hashes = chain([payload(r) for r in records.to_pylist()], prev)
    records = records.append_column(
        "prev_hash", pa.array([prev, *hashes[:-1]], pa.string())
    ).append_column("hash", pa.array(hashes, pa.string()))
    con.register("_audit", records)
    try:
        con.execute(f"INSERT INTO screening_audit ({COLUMNS}) SELECT {COLUMNS} FROM _audit")
    finally:
        con.unregister("_audit")
    return hashes


def _move_head(con: Any, last: int, seq: int, top: str) -> None:
    """The head and its copy in transship_meta to (seq, top), in the caller's transaction."""
    if last:  # one statement, not DELETE + INSERT (each costs ~0.5 ms)
        con.execute("UPDATE screening_audit_head SET seq = ?, hash = ?", [seq, top])
    else:
        con.execute("DELETE FROM screening_audit_head")
        con.execute("INSERT INTO screening_audit_head VALUES (?, ?)", [seq, top])
    # UPDATE, and INSERT only when the key is missing (a first record, an older warehouse):
    # INSERT OR REPLACE on the primary key cost ~1.5 ms, three times the UPDATE.
    (changed,) = con.execute(
        "UPDATE transship_meta SET value = ? WHERE key = ?", [f"{seq}:{top}", META_KEY]
    ).fetchone()
    if not changed:
        con.execute("INSERT INTO transship_meta VALUES (?, ?)", [META_KEY, f"{seq}:{top}"])


# audit.py re-exports this module's names from its last line, so they are imported here after
# they are defined: either module may then be imported first (with this import at the top,
# `import transship.screening.auditwrite` in a fresh process failed: a circular import).
from transship.screening.audit import (  # noqa: E402
    _LOCK,
    COLUMNS,
    META_KEY,
    _head,
    chain,
    checkpoint,
    ensure_tables,
)
