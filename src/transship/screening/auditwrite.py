"""Writing the audit trail (audit.py has the design, the chain and `verify`): records built
from a screening, their payloads hashed in Python exactly as audit.PAYLOAD_SQL writes them,
one INSERT, and the head and its copy moved, all in one transaction.

Each DuckDB statement costs ~0.3-1 ms whatever it does (DuckDB 2.0, measured), and under load
the API commits one small group of records after another, so the statements per commit are
counted: BEGIN, the head's UPDATE (conditional on the head this connection wrote last; read
first only when there is none), one INSERT of the records (VALUES with parameters for a few,
one Arrow table for more), the copy's UPDATE, COMMIT.
"""

from __future__ import annotations

import json
import re
import weakref
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any


def append(con: Any, result: Any, declarations: Any, channel: str) -> tuple[int, int]:
    """Append one record per decision of `result` (engine.ScreenResult); returns seq range."""
    return append_many(con, [(result, declarations, channel)])[0]


# Above this many records in one append the WAL is checkpointed into the database file, so a
# copy of the .duckdb alone holds them (DuckDB checkpoints by itself only past 16 MB of WAL).
CHECKPOINT_RECORDS = 10_000
_mem: Any = None  # the private in-memory connection, reused (opening one costs milliseconds)
_ensured: weakref.WeakSet[Any] = weakref.WeakSet()  # connections whose tables were created


def _versions(result: Any) -> str:
    return json.dumps(result.list_versions, sort_keys=True, separators=(",", ":"), default=str)


def _declaration_docs(declarations: Any) -> list[str]:
    """The declarations as given, as JSON text (the readers' internal columns are not part of
    them): in Python for text columns (conformed declarations), else by DuckDB's to_json."""
    import pyarrow as pa

    from transship.screening.declarations import is_internal

    decl = declarations.select([c for c in declarations.column_names if not is_internal(c)])
    if all(pa.types.is_string(f.type) for f in decl.schema):  # conformed: text or null
        # json_doc of each row, written column by column: each distinct key once, each value
        # by the C string encoder (json.dumps per row cost ~10 us a declaration)
        keys = [_text(c) + ":" for c in decl.column_names]
        cols = [[_text(v) for v in col.to_pylist()] for col in decl.columns]
        if not keys:
            return ["{}"] * decl.num_rows
        return [
            "{" + ",".join([k + v for k, v in zip(keys, vals, strict=True)]) + "}"
            for vals in zip(*cols, strict=True)
        ]
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
    out: list[str] = table.column(0).to_pylist()
    return out


def _rows(
    result: Any, declarations: Any, channel: str, at: datetime, first: int
) -> tuple[list[dict[str, Any]], list[str]]:
    """One screening's records without their hashes (seq from `first`), as rows (dicts), and
    their payloads (`payload` of each, the fields the records share encoded once): built
    per record in Python and made one Arrow table per commit for a large group (an Arrow
    table of 14 columns per screening cost ~0.2 ms each, more than its rows)."""
    t = result.table.select(["id", "decision", "rules", "hits", "error"]).to_pylist()
    docs = _declaration_docs(declarations)
    fixed = {
        "screened_at": at,
        "channel": channel,
        "policy": result.policy,
        "lists": ";".join(result.lists),
        "policy_sha256": result.policy_sha256,
        "list_versions": _versions(result),
    }
    shared = ",".join(
        [_text(at.strftime("%Y-%m-%d %H:%M:%S"))]
        + [_text(fixed[f]) for f in ("channel", "policy", "lists")]
    )
    extra = fixed["policy_sha256"] is not None or fixed["list_versions"] is not None
    tail = f",{_text(fixed['policy_sha256'])},{_text(fixed['list_versions'])}" if extra else ""
    rows, payloads = [], []
    for i, (r, doc) in enumerate(zip(t, docs, strict=True)):
        rows.append(
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
        )
        fields = (r["id"], r["decision"], r["rules"], r["hits"], r["error"], doc)
        payloads.append(f'["{first + i}",{shared},{",".join([_text(v) for v in fields])}{tail}]')
    return rows, payloads


_ESCAPE = re.compile(r"\\(?:\\|u([0-9a-f]{4}))")


def _text(v: str | None) -> str:
    """One text field as json_doc writes it inside a row: null, or the JSON string (the C
    encoder json.dumps uses, then DuckDB's upper-case escapes)."""
    if v is None:
        return "null"
    s = encode_basestring(v)
    if "\\u" not in s:
        return s
    return _ESCAPE.sub(lambda m: "\\u" + m[1].upper() if m[1] else m[0], s)


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
    the head's UPDATE, one INSERT of the records, the copy's UPDATE, COMMIT; the head is read
    first only when this connection has not written it last (`_known`).
    """
    at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    total = sum(r.table.num_rows for r, _, _ in items)
    if total == 0:
        return [(0, 0)] * len(items)
    with _LOCK:
        if con not in _ensured:  # DDL on every append cost a catalog write each time
            ensure_tables(con)
            _ensured.add(con)
        ranges = _append(con, items, at, total, _known.get(con))
        if ranges is None:  # the head had moved (another connection appended): read it
            _known.pop(con, None)
            ranges = _append(con, items, at, total, None)
        assert ranges is not None  # a head just read cannot have moved: we hold the lock
        if total >= CHECKPOINT_RECORDS:
            checkpoint(con)
    return ranges


# The head each connection wrote last, (seq, hash). Every append in this process goes through
# append_many under _LOCK, but another connection to the same file (DuckDB shares one
# database per process and path) may append too: the head's UPDATE is therefore conditional
# on the head being the one known, and a head that moved is read and the append redone.
_known: weakref.WeakKeyDictionary[Any, tuple[int, str]] = weakref.WeakKeyDictionary()


def _append(
    con: Any, items: list[tuple[Any, Any, str]], at: datetime, total: int,
    known: tuple[int, str] | None,
) -> list[tuple[int, int]] | None:  # fmt: skip
    """One transaction of append_many; None (rolled back) if the head was not `known`."""
    con.begin()
    try:
        last, prev = known if known is not None else _head(con)
        ranges, rows, payloads, seq = [], [], [], last + 1
        for result, declarations, channel in items:
            n = result.table.num_rows
            ranges.append((seq, seq + n - 1) if n else (0, 0))
            if n:
                got, texts = _rows(result, declarations, channel, at, seq)
                rows += got
                payloads += texts
            seq += n
        hashes = chain(payloads, prev)
        if not _move_head(con, last, prev, last + total, hashes[-1]):
            con.rollback()
            return None
        _insert(con, rows, prev, hashes)
        con.commit()
    except BaseException:
        con.rollback()
        _known.pop(con, None)
        raise
    _known[con] = (last + total, hashes[-1])
    return ranges


def _insert(con: Any, rows: list[dict[str, Any]], prev: str, hashes: list[str]) -> None:
    """Insert the records with their hashes (chained from `prev`): one INSERT ... VALUES for
    a few, one Arrow table for more. The payloads were computed in Python, as PAYLOAD_SQL
    writes them (verify recomputes them in SQL): a query cost ~3 ms of each group commit."""
    import pyarrow as pa

    for r, p, h in zip(rows, [prev, *hashes[:-1]], hashes, strict=True):
        r["prev_hash"], r["hash"] = p, h
    names = COLUMNS.split(", ")
    if len(rows) <= SMALL_APPEND:
        one = "(" + ", ".join("?" * len(names)) + ")"
        con.execute(
            f"INSERT INTO screening_audit ({COLUMNS}) VALUES {', '.join([one] * len(rows))}",
            [r[c] for r in rows for c in names],
        )
        return
    types = {"seq": pa.int64(), "screened_at": pa.timestamp("us")}
    schema = pa.schema([(c, types.get(c, pa.string())) for c in names])
    con.register("_audit", pa.Table.from_pylist(rows, schema))
    try:
        con.execute(f"INSERT INTO screening_audit ({COLUMNS}) SELECT {COLUMNS} FROM _audit")
    finally:
        con.unregister("_audit")


def _move_head(con: Any, last: int, prev: str, seq: int, top: str) -> bool:
    """The head and its copy in transship_meta from (last, prev) to (seq, top), in the
    caller's transaction; False (nothing changed) when the head is not (last, prev)."""
    if last:  # one statement, not SELECT + DELETE + INSERT (each costs ~0.5 ms)
        (moved,) = con.execute(
            "UPDATE screening_audit_head SET seq = ?, hash = ? WHERE seq = ? AND hash = ?",
            [seq, top, last, prev],
        ).fetchone()
        if not moved:
            return False
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
    return True


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
