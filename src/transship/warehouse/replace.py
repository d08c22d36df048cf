"""What an ingest does about rows already stored: skip, replace a batch, replace keys.

- An input whose content (sha256) an earlier ok batch of the same source and parameters
  already holds, every row still stored, is skipped: nothing is read or written
  (`identical_batch`).
- A changed input (same source, input name and parameters, another sha256) replaces its
  earlier batch: those rows are deleted by batch number, no join (`replace_batch`).
- Rows of other batches of the source with a key the new batch holds are replaced by key
  (`replace_keys`), a hash join DuckDB can spill; most ingests overlap nothing.
Everything but `identical_batch` runs inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from transship.errors import InputError
from transship.schema import BATCH_CONSTANTS, NATURAL_KEY, ROW_KEY

# Every stored row's batch and natural key (within its source), from both row tables.
_KEY = ", ".join(ROW_KEY)
_NARROW_KEY = ", ".join(f"b.{k}" if k in BATCH_CONSTANTS else f"r.{k}" for k in ROW_KEY)
KEYED = (
    f"(SELECT batch, {_KEY} FROM trade_rows UNION ALL SELECT r.batch, {_NARROW_KEY} "
    "FROM trade_rows_narrow r JOIN ingest_batches b ON b.batch_no = r.batch)"
)
_ROWS_OF = (
    "SELECT (SELECT count(*) FROM trade_rows WHERE batch = $1) + "
    "(SELECT count(*) FROM trade_rows_narrow WHERE batch = $1)"
)


def parameters_json(parameters: Mapping[str, object]) -> Any:
    """The parameters as stored (and compared): JSON values, without the ingest's notes."""
    out = json.loads(json.dumps(dict(parameters), default=str))
    out.pop("notes", None)
    return out


def _earlier(con: Any, source: str, parameters: Mapping[str, object], where: str,
             args: list[Any]) -> list[tuple[Any, ...]]:  # fmt: skip
    """ok batches of `source` with these parameters (newest first) matching `where`."""
    rows = con.execute(
        "SELECT batch_id, batch_no, rows_written, input_sha256, parameters FROM ingest_batches "
        f"WHERE status = 'ok' AND source = ? AND {where} ORDER BY started DESC",
        [source, *args],
    ).fetchall()
    wanted = parameters_json(parameters)
    return [r for r in rows if parameters_json(json.loads(r[4] or "{}")) == wanted]


def has_candidates(con: Any, source: str, parameters: Mapping[str, object]) -> bool:
    """Whether some ok batch of the source and parameters has a stored sha256 (so hashing
    the input before reading it may save the whole ingest)."""
    return bool(_earlier(con, source, parameters, "input_sha256 IS NOT NULL", []))


@dataclass(frozen=True)
class Earlier:
    """An earlier batch holding an input whole."""

    batch_id: str
    input_name: str
    finished: datetime | None
    rows_written: int
    rows_rejected: int

    def describe(self) -> str:
        when = f"{self.finished:%Y-%m-%d %H:%M} UTC, " if self.finished else ""
        rejected = f", {self.rows_rejected:,} rejected" if self.rows_rejected else ""
        return (
            f"batch {self.batch_id} ({when}{self.input_name}, {self.rows_written:,} rows{rejected})"
        )


def identical_batch(
    con: Any, source: str, parameters: Mapping[str, object], sha256: str
) -> Earlier | None:
    """An ok batch of this content whose rows are all still stored."""
    for batch_id, batch_no, written, _, _ in _earlier(
        con, source, parameters, "input_sha256 = ?", [sha256]
    ):
        row = con.execute(_ROWS_OF, [batch_no]).fetchone()
        if row and row[0] == (written or 0):  # none of its rows replaced by a later batch
            name, finished, rejected = con.execute(
                "SELECT input_name, finished, rows_rejected FROM ingest_batches WHERE batch_id = ?",
                [batch_id],
            ).fetchone()
            return Earlier(str(batch_id), str(name), finished, int(written or 0), rejected or 0)
    return None


def replace_batch(
    con: Any, source: str, input_name: str, parameters: Mapping[str, object], batch_no: int
) -> tuple[int, list[str]]:
    """Delete the rows of earlier ok batches of the same input (source, name, parameters):
    the new batch replaces them whole. Returns (rows deleted, notes)."""
    notes: list[str] = []
    deleted = 0
    for batch_id, old_no, _, _, _ in _earlier(
        con, source, parameters, "input_name = ? AND batch_no <> ?", [input_name, batch_no]
    ):
        n = _count(con, _ROWS_OF, [old_no])
        con.execute("DELETE FROM trade_rows WHERE batch = ?", [old_no])
        con.execute("DELETE FROM trade_rows_narrow WHERE batch = ?", [old_no])
        con.execute("DELETE FROM hs_national WHERE batch_id = ?", [batch_id])
        con.execute("UPDATE ingest_batches SET status = 'replaced' WHERE batch_id = ?", [batch_id])
        deleted += n
        notes.append(f"replaces batch {batch_id} of the same input ({n:,} rows)")
    return deleted, notes


def check_unique(con: Any, batch_no: int, input_name: str) -> None:
    """Refuse a batch holding one natural key twice."""
    row = con.execute(
        f"SELECT {_KEY}, count(*) AS n FROM {KEYED} WHERE batch = ? "
        f"GROUP BY ALL HAVING count(*) > 1 LIMIT 1",
        [batch_no],
    ).fetchone()
    if row:
        shown = ", ".join(f"{k}={v}" for k, v in zip(ROW_KEY, row, strict=False))
        raise InputError(
            f"the same natural key appears {row[-1]} times ({shown}); "
            "one input may hold each key once",
            file=input_name,
        )


def replace_keys(con: Any, batch_id: str, batch_no: int, source: str, lo: Any, hi: Any) -> int:
    """Delete rows of other batches of `source` whose natural key the new batch holds."""
    if lo is None:
        return 0
    others = "SELECT batch_no FROM ingest_batches WHERE source = $1 AND batch_no <> $2"
    # Cheap guard: most ingests (a new source, new years) overlap nothing.
    overlap = con.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {KEYED} WHERE batch IN ({others}) "
        "AND period BETWEEN $3 AND $4 LIMIT 1)",
        [source, batch_no, lo, hi],
    ).fetchone()
    if not overlap or not overlap[0]:
        return 0
    held = con.execute("SELECT count(*) FROM (FROM hs_national LIMIT 1)").fetchone()
    if held and held[0]:  # the detail of a replaced row goes with it
        on = " AND ".join(f"o.{k} = n.{k}" for k in NATURAL_KEY)
        con.execute(
            f"DELETE FROM hs_national o WHERE o.batch_id <> ? AND EXISTS "
            f"(SELECT 1 FROM trade_flows n WHERE n.batch_id = ? AND {on})",
            [batch_id, batch_id],
        )
    new = f"SELECT 1 FROM {KEYED} n WHERE n.batch = $2 AND "
    on = " AND ".join(f"n.{k} = o.{k}" for k in ROW_KEY)
    done = _count(
        con,
        f"DELETE FROM trade_rows o WHERE o.batch IN ({others}) AND EXISTS ({new}{on})",
        [source, batch_no],
    )
    on = " AND ".join(f"n.{k} = {'ob' if k in BATCH_CONSTANTS else 'o'}.{k}" for k in ROW_KEY)
    return done + _count(
        con,
        "DELETE FROM trade_rows_narrow o USING ingest_batches ob WHERE ob.batch_no = o.batch "
        f"AND o.batch IN ({others}) AND EXISTS ({new}{on})",
        [source, batch_no],
    )


def _count(con: Any, sql: str, params: list[Any]) -> int:
    row = con.execute(sql, params).fetchone()
    return int(row[0]) if row else 0
