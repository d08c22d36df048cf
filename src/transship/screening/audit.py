"""Hash-chained audit trail of screening decisions (batch and API) in the warehouse.

Each record's hash is sha256 over its fields (canonical JSON) and the previous record's hash;
`screening_audit_head` keeps the sequence number and hash of the last record. `verify`
recomputes the chain: an edited record breaks its own hash, an inserted or deleted one
breaks the sequence or the link to its neighbour, and a deleted tail no longer matches the
head. (Someone who can rewrite the whole table and the head can forge a consistent chain:
publish or copy the head hash elsewhere to anchor it.)
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
DDL = (
    """CREATE TABLE IF NOT EXISTS screening_audit (
    seq BIGINT NOT NULL,
    screened_at TIMESTAMP NOT NULL,  -- UTC
    channel VARCHAR NOT NULL,  -- batch:<file> | api
    policy VARCHAR NOT NULL,
    lists VARCHAR NOT NULL,    -- list names, ';'-separated
    declaration_id VARCHAR,
    decision VARCHAR NOT NULL,
    rules VARCHAR,
    hits VARCHAR,
    error VARCHAR,
    declaration VARCHAR NOT NULL,  -- the declaration as screened (JSON)
    prev_hash VARCHAR NOT NULL,
    hash VARCHAR NOT NULL
)""",
    "CREATE TABLE IF NOT EXISTS screening_audit_head (seq BIGINT, hash VARCHAR)",
)
_LOCK = threading.Lock()


# The canonical form of a record: DuckDB's JSON of its fields as text, the same SQL at
# append and at verify time, so hashing needs no per-row Python serialisation.
PAYLOAD_SQL = (
    "to_json([CAST(seq AS VARCHAR), strftime(screened_at, '%Y-%m-%d %H:%M:%S'), channel, "
    "policy, lists, declaration_id, decision, rules, hits, error, declaration])"
)


def chain(payloads: list[str], prev: str) -> list[str]:
    """Hashes of consecutive records: sha256(payload + previous hash)."""
    out = []
    for p in payloads:
        prev = hashlib.sha256((p + prev).encode("utf-8")).hexdigest()
        out.append(prev)
    return out


def ensure_tables(con: Any) -> None:
    for ddl in DDL:
        con.execute(ddl)


def _head(con: Any) -> tuple[int, str]:
    row = next(iter(con.execute("SELECT seq, hash FROM screening_audit_head").fetchall()), None)
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


def append(con: Any, result: Any, declarations: Any, channel: str) -> tuple[int, int]:
    """Append one record per decision of `result` (engine.ScreenResult); returns seq range."""
    import duckdb
    import pyarrow as pa

    t = result.table
    n = t.num_rows
    if n == 0:
        return (0, 0)
    at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with _LOCK:
        ensure_tables(con)
        con.begin()
        try:
            last, prev = _head(con)
            records = pa.table(
                {
                    "seq": pa.array(range(last + 1, last + n + 1), pa.int64()),
                    "screened_at": pa.array([at] * n, pa.timestamp("us")),
                    "channel": pa.array([channel] * n, pa.string()),
                    "policy": pa.array([result.policy] * n, pa.string()),
                    "lists": pa.array([";".join(result.lists)] * n, pa.string()),
                    "declaration_id": t.column("id"),
                    "decision": t.column("decision"),
                    "rules": t.column("rules"),
                    "hits": t.column("hits"),
                    "error": t.column("error"),
                }
            )
            # A private in-memory connection keeps row order (the warehouse's may not).
            mem = duckdb.connect()
            mem.execute("SET enable_progress_bar = false")
            try:
                from transship.screening.declarations import is_internal

                # The declaration as given: the readers' internal columns are not part of it.
                mem.register(
                    "_decl",
                    declarations.select(
                        [c for c in declarations.column_names if not is_internal(c)]
                    ),
                )
                docs = mem.sql("SELECT to_json(d) AS declaration FROM _decl d").to_arrow_table()
                records = records.append_column("declaration", docs.column(0))
                mem.register("_rec", records)
                payloads = mem.sql(f"SELECT {PAYLOAD_SQL} FROM _rec").to_arrow_table()
            finally:
                mem.close()
            hashes = chain(payloads.column(0).to_pylist(), prev)
            records = records.append_column(
                "prev_hash", pa.array([prev, *hashes[:-1]], pa.string())
            ).append_column("hash", pa.array(hashes, pa.string()))
            con.register("_audit", records)
            con.execute("INSERT INTO screening_audit SELECT * FROM _audit")
            con.unregister("_audit")
            con.execute("DELETE FROM screening_audit_head")
            con.execute("INSERT INTO screening_audit_head VALUES (?, ?)", [last + n, hashes[-1]])
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return (last + 1, last + n)


@dataclass
class Verification:
    records: int
    head_seq: int
    head_hash: str
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(con: Any, *, max_problems: int = 20) -> Verification:
    """Recompute the chain; list every break found (edited, inserted, deleted records)."""
    ensure_tables(con)
    cur = con.execute(
        f"SELECT seq, {PAYLOAD_SQL}, prev_hash, hash FROM screening_audit ORDER BY seq"
    )
    problems: list[str] = []
    prev, expected_seq, n = GENESIS, 1, 0
    while len(problems) < max_problems and (batch := cur.fetchmany(50_000)):
        for seq, payload, prev_hash, stored in batch:
            n += 1
            if seq != expected_seq:
                kind = "missing (deleted)" if seq > expected_seq else "duplicated (inserted)"
                problems.append(f"seq {expected_seq}: record {kind}; next record is seq {seq}")
            if prev_hash != prev:
                problems.append(
                    f"seq {seq}: prev_hash does not match the hash of the record before"
                )
            if chain([payload], prev_hash)[0] != stored:
                problems.append(f"seq {seq}: contents do not match its hash (edited)")
            prev, expected_seq = stored, seq + 1
            if len(problems) >= max_problems:
                break
    head_seq, head_hash = _head(con)
    if len(problems) < max_problems and (head_seq != expected_seq - 1 or head_hash != prev):
        problems.append(
            f"the chain ends at seq {expected_seq - 1} but the head records seq {head_seq}: "
            "records at the end were deleted or appended outside transship"
        )
    return Verification(n, head_seq, head_hash, problems)
