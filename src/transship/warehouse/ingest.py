"""One ingest: every batch of a source in one transaction, with its provenance row.

What it does about rows already stored (skip an identical input, replace its earlier batch,
replace keys) is in warehouse/replace.py; how rows are appended in warehouse/append.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb

from transship import __version__
from transship.errors import InputError
from transship.schema import BatchSource
from transship.warehouse import replace
from transship.warehouse.append import append_stream, prefetch, widen
from transship.warehouse.staging import insert_staged, move_levels

if TYPE_CHECKING:
    from transship.warehouse import Warehouse


@dataclass
class IngestResult:
    batch_id: str
    source: str
    input_name: str
    input_sha256: str | None
    rows_read: int
    rows_written: int
    rows_replaced: int
    rows_rejected: int
    seconds: float
    status: str
    notes: list[str] = field(default_factory=list)


ProgressCallback = Callable[[BatchSource, int], None]


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _describe(e: BaseException) -> str:
    if isinstance(e, KeyboardInterrupt):
        return "interrupted"
    return f"{type(e).__name__}: {e}"


def ingest(
    wh: Warehouse,
    src: BatchSource,
    progress: ProgressCallback | None = None,
    *,
    force: bool = False,
) -> IngestResult:
    """Write every batch of `src` in one transaction, replacing rows with the same key."""
    with _ingest_settings(wh):
        return _ingest(wh, src, progress, force)


@contextmanager
def _ingest_settings(wh: Warehouse) -> Iterator[None]:
    """The ingest memory limit, and no DuckDB progress bar (the CLI draws its own)."""
    bar = wh.con.execute("SELECT current_setting('enable_progress_bar')").fetchone()
    if wh.ingest_memory_limit:
        wh.con.execute("SET memory_limit = ?", [wh.ingest_memory_limit])
    wh.con.execute("SET enable_progress_bar = false")
    try:
        yield
    finally:
        own_memory_limit(wh)
        wh.con.execute(f"SET enable_progress_bar = {bool(bar and bar[0])}")


def own_memory_limit(wh: Warehouse) -> None:
    """Back to the connection's own memory limit (after the ingest limit)."""
    if not wh.ingest_memory_limit:
        return
    if wh.memory_limit:
        wh.con.execute("SET memory_limit = ?", [wh.memory_limit])
    else:
        wh.con.execute("RESET memory_limit")


def _ingest(
    wh: Warehouse, src: BatchSource, progress: ProgressCallback | None, force: bool
) -> IngestResult:
    con = wh.con
    batch_id = f"{src.source}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    started = _utcnow()
    parameters = dict(src.parameters)
    if getattr(src, "keep_national", False):  # changes what is stored: part of the input
        parameters.setdefault("keep_national", True)
    same = _identical(con, src, parameters)
    forced: list[str] = []
    if same is not None and force:
        forced = [f"read again (forced): {same[1].describe()} holds this input"]
        same = None
    row = con.execute(
        "INSERT INTO ingest_batches (batch_no, batch_id, source, parameters, input_name, "
        "started, status, transship_version) SELECT coalesce(max(batch_no), 0) + 1, "
        "?, ?, ?, ?, ?, 'running', ? FROM ingest_batches RETURNING batch_no",
        [
            batch_id,
            src.source,
            json.dumps(parameters, default=str),
            src.input_name,
            started,
            __version__,
        ],
    ).fetchone()
    assert row is not None
    batch_no = int(row[0])
    if same is not None:
        return _skipped(con, src, batch_id, started, parameters, *same)
    summing = bool(getattr(src, "sums_to_hs6", False))
    levels = bool(getattr(src, "has_levels", False))
    staging = summing or levels  # rows go through a temp table, then where they belong
    written = 0
    notes: list[str] = []
    lo = hi = None

    def seen(batch: Any) -> None:
        nonlocal written, lo, hi
        written += batch.num_rows
        lo, hi = widen(lo, hi, batch)
        if progress:
            progress(src, written)

    try:
        con.begin()
        # A changed input replaces its earlier batch whole: deleted by number, no join.
        replaced, notes = replace.replace_batch(
            con, src.source, src.input_name, parameters, batch_no
        )
        notes = forced + notes
        staged = False
        batches = prefetch(src.batches())
        try:
            if not staging:  # one INSERT per run of alike batches, written in parallel
                append_stream(con, batches, (batch_no, src.source), seen)
            for batch in batches if staging else ():
                con.register("_incoming", batch)
                try:
                    if not staged:
                        con.execute(
                            "CREATE OR REPLACE TEMP TABLE _stage AS SELECT * FROM _incoming"
                        )
                        staged = True
                    else:
                        con.execute("INSERT INTO _stage SELECT * FROM _incoming")
                finally:
                    con.unregister("_incoming")
                seen(batch)
        finally:
            batches.close()  # stops the reading thread whatever happened
        # The rows are in. Summing, key checks and replacement are joins over the whole
        # batch: they run under the connection's own limit (spilling beyond it), not the
        # streaming one, under which re-ingesting 10M rows took 2.3x as long.
        own_memory_limit(wh)
        if staged:
            other = con.execute(
                "SELECT source FROM _stage WHERE source <> ? LIMIT 1", [src.source]
            ).fetchone()
            if other:
                raise InputError(f"a batch of source {src.source!r} holds rows of {other[0]!r}")
            if levels:
                notes += move_levels(con, batch_id, src.input_name)
            n, more = insert_staged(
                con,
                (batch_id, batch_no),
                src.input_name,
                sum_codes=summing,
                keep=bool(getattr(src, "keep_national", False)),
            )
            written, notes = n, notes + more
        if not summing and not getattr(src, "keys_unique", False):
            replace.check_unique(con, batch_no, src.input_name)
        replaced += replace.replace_keys(con, batch_id, batch_no, src.source, lo, hi)
        labels = getattr(src, "labels", None)
        if labels is not None:
            con.execute("DELETE FROM scenario_labels")
            con.register("_labels", labels)
            try:
                con.execute("INSERT INTO scenario_labels SELECT ?, * FROM _labels", [batch_id])
            finally:
                con.unregister("_labels")
        finished = _utcnow()
        _finish(con, batch_id, "ok", finished, src, written, replaced, parameters, notes)
        con.commit()
    except BaseException as e:
        con.rollback()
        with suppress(duckdb.Error):
            con.execute("DROP TABLE IF EXISTS _stage")
        con.execute(
            "UPDATE ingest_batches SET status = 'failed', finished = ?, error = ?, "
            "rows_read = ?, rows_written = 0, rows_rejected = ? WHERE batch_id = ?",
            [_utcnow(), _describe(e), src.rows_read, src.rows_rejected, batch_id],
        )
        raise
    return IngestResult(
        batch_id=batch_id,
        source=src.source,
        input_name=src.input_name,
        input_sha256=src.sha256,
        rows_read=src.rows_read,
        rows_written=written,
        rows_replaced=replaced,
        rows_rejected=src.rows_rejected,
        seconds=(finished - started).total_seconds(),
        status="ok",
        notes=notes,
    )


def _identical(
    con: Any, src: BatchSource, parameters: dict[str, object]
) -> tuple[str, replace.Earlier] | None:
    """(sha256, batch) of an earlier ok batch holding this very input, if any.

    The input is hashed before it is read only when some batch of the source and
    parameters could match (a source offering `content_sha256`): ~0.3 s for 400 MB.
    """
    digest = getattr(src, "content_sha256", None)
    if digest is None or not replace.has_candidates(con, src.source, parameters):
        return None
    sha = digest()
    if sha is None:
        return None
    same = replace.identical_batch(con, src.source, parameters, sha)
    return None if same is None else (sha, same)


def _skipped(
    con: Any,
    src: BatchSource,
    batch_id: str,
    started: datetime,
    params: dict[str, object],
    sha: str,
    same: replace.Earlier,
) -> IngestResult:
    """Record an input already stored whole: nothing read, nothing written."""
    note = (
        f"skipped: {same.describe()} holds this input (same sha256, source and parameters) "
        "with every row still stored; nothing read or written. --force (force=True) reads "
        "it again and replaces that batch"
    )
    src.sha256 = sha
    finished = _utcnow()
    _finish(con, batch_id, "skipped", finished, src, 0, 0, params, [note])
    return IngestResult(
        batch_id=batch_id,
        source=src.source,
        input_name=src.input_name,
        input_sha256=sha,
        rows_read=0,
        rows_written=0,
        rows_replaced=0,
        rows_rejected=0,
        seconds=(finished - started).total_seconds(),
        status="skipped",
        notes=[note],
    )


def _finish(
    con: Any,
    batch_id: str,
    status: str,
    finished: datetime,
    src: BatchSource,
    written: int,
    replaced: int,
    parameters: dict[str, object],
    notes: list[str],
) -> None:
    params = {**parameters, **({"notes": notes} if notes else {})}
    con.execute(
        "UPDATE ingest_batches SET status = ?, finished = ?, input_sha256 = ?, "
        "rows_read = ?, rows_written = ?, rows_replaced = ?, rows_rejected = ?, "
        "parameters = ? WHERE batch_id = ?",
        [
            status,
            finished,
            src.sha256,
            src.rows_read if status == "ok" else 0,
            written,
            replaced,
            src.rows_rejected if status == "ok" else 0,
            json.dumps(params, default=str),
            batch_id,
        ],
    )
