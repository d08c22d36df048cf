"""Hash-chained audit trail of screening decisions (batch and API) in the warehouse.

Each record's hash is sha256 over its own fields and the previous record's hash, and
`screening_audit_head` keeps the sequence number and hash of the last record. `verify`
recomputes the chain: an edited record breaks its own hash, an inserted or deleted one
breaks the sequence or the link to its neighbour, and a deleted tail no longer matches the
head. (Someone who can rewrite the whole table and the head can forge a consistent chain:
publish or copy the head hash elsewhere to anchor it.)
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
FIELDS = (
    "seq",
    "screened_at",
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


def record_hash(values: tuple[Any, ...], prev: str) -> str:
    """sha256 of the canonical JSON of (fields..., prev_hash)."""
    cells = [v.isoformat(sep=" ") if isinstance(v, datetime) else v for v in values]
    text = json.dumps([*cells, prev], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ensure_tables(con: Any) -> None:
    for ddl in DDL:
        con.execute(ddl)


def _head(con: Any) -> tuple[int, str]:
    row = next(iter(con.execute("SELECT seq, hash FROM screening_audit_head").fetchall()), None)
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


def append(con: Any, result: Any, declarations: Any, channel: str) -> tuple[int, int]:
    """Append one record per decision of `result` (engine.ScreenResult); returns seq range."""
    import pyarrow as pa

    t = result.table
    n = t.num_rows
    if n == 0:
        return (0, 0)
    ids = t.column("id").to_pylist()
    decisions = t.column("decision").to_pylist()
    rules = t.column("rules").to_pylist()
    hits = t.column("hits").to_pylist()
    errors = t.column("error").to_pylist()
    rows = declarations.to_pylist()
    lists = ";".join(result.lists)
    at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with _LOCK:
        ensure_tables(con)
        con.begin()
        try:
            last, prev = _head(con)
            seqs, prevs, hashes, docs = [], [], [], []
            for i in range(n):
                seq = last + i + 1
                doc = json.dumps(rows[i], ensure_ascii=False, sort_keys=True, default=str)
                values = (
                    seq,
                    at,
                    channel,
                    result.policy,
                    lists,
                    ids[i],
                    decisions[i],
                    rules[i],
                    hits[i],
                    errors[i],
                    doc,
                )
                h = record_hash(values, prev)
                seqs.append(seq)
                prevs.append(prev)
                hashes.append(h)
                docs.append(doc)
                prev = h
            batch = pa.table(
                {
                    "seq": pa.array(seqs, pa.int64()),
                    "screened_at": pa.array([at] * n, pa.timestamp("us")),
                    "channel": pa.array([channel] * n, pa.string()),
                    "policy": pa.array([result.policy] * n, pa.string()),
                    "lists": pa.array([lists] * n, pa.string()),
                    "declaration_id": pa.array(ids, pa.string()),
                    "decision": pa.array(decisions, pa.string()),
                    "rules": pa.array(rules, pa.string()),
                    "hits": pa.array(hits, pa.string()),
                    "error": pa.array(errors, pa.string()),
                    "declaration": pa.array(docs, pa.string()),
                    "prev_hash": pa.array(prevs, pa.string()),
                    "hash": pa.array(hashes, pa.string()),
                }
            )
            con.register("_audit", batch)
            con.execute("INSERT INTO screening_audit SELECT * FROM _audit")
            con.unregister("_audit")
            con.execute("DELETE FROM screening_audit_head")
            con.execute("INSERT INTO screening_audit_head VALUES (?, ?)", [seqs[-1], prev])
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return (seqs[0], seqs[-1])


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
    cols = ", ".join(FIELDS)
    cur = con.execute(f"SELECT {cols}, prev_hash, hash FROM screening_audit ORDER BY seq")
    problems: list[str] = []
    prev, expected_seq, n = GENESIS, 1, 0
    while batch := cur.fetchmany(10_000):
        for row in batch:
            n += 1
            values, prev_hash, stored = tuple(row[: len(FIELDS)]), row[-2], row[-1]
            seq = values[0]
            if seq != expected_seq:
                kind = "missing (deleted)" if seq > expected_seq else "duplicated (inserted)"
                problems.append(f"seq {expected_seq}: record {kind}; next record is seq {seq}")
            if prev_hash != prev:
                problems.append(
                    f"seq {seq}: prev_hash does not match the hash of the record before"
                )
            if record_hash(values, prev_hash) != stored:
                problems.append(f"seq {seq}: contents do not match its hash (edited)")
            prev, expected_seq = stored, seq + 1
            if len(problems) >= max_problems:
                break
        if len(problems) >= max_problems:
            break
    head_seq, head_hash = _head(con)
    if len(problems) < max_problems and (head_seq != expected_seq - 1 or head_hash != prev):
        problems.append(
            f"the chain ends at seq {expected_seq - 1} but the head records seq {head_seq}: "
            "records at the end were deleted or appended outside transship"
        )
    return Verification(n, head_seq, head_hash, problems)
