"""Hash-chained audit trail of screening decisions (batch and API) in the warehouse.

Each record's hash is sha256 over its fields (canonical JSON) and the previous record's hash;
`screening_audit_head` keeps the sequence number and hash of the last record. `verify`
recomputes the chain: an edited record breaks its own hash, an inserted or deleted one
breaks the sequence or the link to its neighbour, and a deleted tail no longer matches the
head.

Each record names what decided it: the policy id and the sha256 of its file, the lists by name
and their versions (`list_versions`: JSON of list, loaded_at, sha256 of the input files,
entities), and the channel (batch:<file>, api, dashboard:<file>).

A second copy of the head (`transship_meta`, key `audit_head`, written in the same transaction)
catches a tail deleted together with a rewritten head, and audit tables dropped from a
warehouse that had records: both fail `verify`, they do not read as "0 records".

Residual limits, honestly: someone who can write the warehouse file and knows this design can
drop or rewrite the tables, the head and the copy consistently, and nothing inside the file can
tell. Only an anchor kept outside it can: `transship audit head` prints the head to copy into
a ticket or a signed log, and `transship audit verify --expect-head HASH` fails when the chain
no longer reaches that hash.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from transship.schema import table_exists

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
    hash VARCHAR NOT NULL,
    -- since issue 12 (NULL in older records, whose hash does not cover them):
    policy_sha256 VARCHAR,     -- sha256 of the policy file
    list_versions VARCHAR      -- JSON [{list, loaded_at, sha256, entities}]
)""",
    "CREATE TABLE IF NOT EXISTS screening_audit_head (seq BIGINT, hash VARCHAR)",
    "CREATE TABLE IF NOT EXISTS transship_meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    # Warehouses from before issue 12: the columns come last, as in the DDL above.
    "ALTER TABLE screening_audit ADD COLUMN IF NOT EXISTS policy_sha256 VARCHAR",
    "ALTER TABLE screening_audit ADD COLUMN IF NOT EXISTS list_versions VARCHAR",
)
COLUMNS = (
    "seq, screened_at, channel, policy, lists, declaration_id, decision, rules, hits, error, "
    "declaration, prev_hash, hash, policy_sha256, list_versions"
)
META_KEY = "audit_head"  # transship_meta: "<seq>:<hash>", the head's second copy
_LOCK = threading.Lock()


# The canonical form of a record: DuckDB's JSON of its fields as text, the same SQL at
# append and at verify time, so hashing needs no per-row Python serialisation.
# Records from before issue 12 have no policy_sha256/list_versions and keep their old form.
_FIELDS = (
    "CAST(seq AS VARCHAR), strftime(screened_at, '%Y-%m-%d %H:%M:%S'), channel, "
    "policy, lists, declaration_id, decision, rules, hits, error, declaration"
)
PAYLOAD_SQL = (
    f"CASE WHEN policy_sha256 IS NULL AND list_versions IS NULL THEN to_json([{_FIELDS}]) "
    f"ELSE to_json([{_FIELDS}, policy_sha256, list_versions]) END"
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


def _meta_head(con: Any) -> tuple[int, str] | None:
    """The head's second copy in transship_meta, or None (no record yet, older warehouse)."""
    if not table_exists(con, "transship_meta"):
        return None
    row = con.execute("SELECT value FROM transship_meta WHERE key = ?", [META_KEY]).fetchone()
    if not row or not row[0]:
        return None
    seq, _, h = str(row[0]).partition(":")
    return (int(seq), h) if seq.isdigit() else (-1, str(row[0]))


def head(con: Any) -> tuple[int, str]:
    """(seq, hash) of the last audit record; (0, GENESIS) when there is none."""
    if not table_exists(con, "screening_audit_head"):
        return (0, GENESIS)
    return _head(con)


def checkpoint(con: Any) -> bool:
    """Move the WAL into the database file (False if DuckDB refused: another transaction
    was open; it checkpoints again on close and past its own WAL threshold)."""
    import duckdb

    try:
        con.execute("CHECKPOINT")
    except duckdb.Error:
        return False
    return True


@dataclass
class Verification:
    records: int
    head_seq: int
    head_hash: str
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(con: Any, *, expect_head: str | None = None, max_problems: int = 20) -> Verification:
    """Recompute the chain; list every break found (edited, inserted, deleted records, a
    rewritten head, dropped tables) and, with `expect_head`, whether the chain still reaches
    that hash (an anchor kept outside the warehouse)."""
    problems: list[str] = []
    meta = _meta_head(con)
    tables = [t for t in ("screening_audit", "screening_audit_head") if table_exists(con, t)]
    if len(tables) < 2:
        gone = sorted({"screening_audit", "screening_audit_head"} - set(tables))
        if meta is not None and meta[0] > 0:
            problems.append(
                f"the warehouse recorded {meta[0]} records (head hash {meta[1]}) but "
                f"{' and '.join(gone)} {'is' if len(gone) == 1 else 'are'} gone (dropped)"
            )
        elif tables:
            problems.append(f"{' and '.join(gone)} is gone (dropped)")
        if not tables:
            if expect_head is not None:
                problems.append(_unreached(expect_head, 0, GENESIS))
            return Verification(0, 0, GENESIS, problems)
        if "screening_audit" not in tables:
            head_seq, head_hash = _head(con)
            if expect_head is not None:
                problems.append(_unreached(expect_head, 0, GENESIS))
            return Verification(0, head_seq, head_hash, problems)
    cur = con.execute(
        f"SELECT seq, {PAYLOAD_SQL}, prev_hash, hash FROM screening_audit ORDER BY seq"
    )
    prev, expected_seq, n = GENESIS, 1, 0
    reached = expect_head is None or expect_head == GENESIS
    while len(problems) < max_problems and (batch := cur.fetchmany(50_000)):
        for seq, text, prev_hash, stored in batch:
            n += 1
            if seq != expected_seq:
                kind = "missing (deleted)" if seq > expected_seq else "duplicated (inserted)"
                problems.append(f"seq {expected_seq}: record {kind}; next record is seq {seq}")
            if prev_hash != prev:
                problems.append(
                    f"seq {seq}: prev_hash does not match the hash of the record before"
                )
            if chain([text], prev_hash)[0] != stored:
                problems.append(f"seq {seq}: contents do not match its hash (edited)")
            if stored == expect_head:
                reached = True
            prev, expected_seq = stored, seq + 1
            if len(problems) >= max_problems:
                break
    head_seq, head_hash = _head(con) if "screening_audit_head" in tables else (0, GENESIS)
    if len(problems) < max_problems and (head_seq != expected_seq - 1 or head_hash != prev):
        problems.append(
            f"the chain ends at seq {expected_seq - 1} but the head records seq {head_seq}: "
            "records at the end were deleted or appended outside transship"
        )
    if meta is not None and meta != (head_seq, head_hash) and len(problems) < max_problems:
        problems.append(
            f"the head's copy in transship_meta records seq {meta[0]} (hash {meta[1]}) but the "
            f"head seq {head_seq}: records at the end were deleted and the head rewritten"
        )
    if not reached and expect_head is not None:
        problems.append(_unreached(expect_head, expected_seq - 1, prev))
    return Verification(n, head_seq, head_hash, problems)


def _unreached(expected: str, seq: int, last: str) -> str:
    return (
        f"the chain no longer reaches the expected head {expected}: records were deleted or "
        f"rewritten (the chain now ends at seq {seq}, hash {last})"
    )


# The writing side (records, payloads, the INSERT and the head's move) lives in auditwrite.py;
# its names stay importable from here, where callers have always found them.
from transship.screening.auditwrite import (  # noqa: E402
    CHECKPOINT_RECORDS,
    SMALL_APPEND,
    append,
    append_many,
    json_doc,
    payload,
)

__all__ = [
    "CHECKPOINT_RECORDS",
    "GENESIS",
    "SMALL_APPEND",
    "Verification",
    "append",
    "append_many",
    "chain",
    "checkpoint",
    "ensure_tables",
    "head",
    "json_doc",
    "payload",
    "verify",
]
