"""The DuckDB warehouse: trade_flows and ingest_batches, with atomic, idempotent ingest.

Tables and the trade_flows view: warehouse/ddl.py. What an ingest does about stored rows
(skip an identical input, replace its earlier batch, replace keys): warehouse/replace.py.

Guarantees
- One ingest is one transaction. Rows whose natural key already exists are replaced,
  never duplicated; an input already stored whole is skipped. A failed ingest rolls back;
  a killed one never committed, so the warehouse is as it was. Either way the batch stays
  in ingest_batches with its status (`failed`, or `aborted` once the next writer finds a
  batch left `running`).
- No index on the natural key: an ART index would grow with the table and keep ingest
  memory from staying flat, so replacement and duplicate checks are hash joins that DuckDB
  can spill to disk under `memory_limit`. Rows stream in under the lower
  `ingest_memory_limit`, so ingest memory stays flat in the input's size.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from transship import __version__
from transship.errors import InputError, ParameterError, WarehouseError
from transship.safepath import check_target, protect_warehouse, write_directory
from transship.schema import TRADE_FLOWS, BatchSource, table_exists
from transship.warehouse import replace
from transship.warehouse.append import append_stream, prefetch, widen
from transship.warehouse.ddl import create_schema
from transship.warehouse.lease import connect_waiting
from transship.warehouse.staging import insert_staged, move_levels


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


class Warehouse:
    """A transship warehouse file. Use as a context manager."""

    def __init__(
        self,
        path: str | Path,
        *,
        read_only: bool = False,
        memory_limit: str | None = None,
        threads: int | None = None,
        lock_wait: float | None = None,
        ingest_memory_limit: str | None = None,
    ) -> None:
        """`lock_wait`: seconds to wait while another process holds the file (default
        TRANSSHIP_LOCK_WAIT_S); see warehouse/lease.py. `ingest_memory_limit`: DuckDB's
        memory limit during `ingest` (the connection's own limit otherwise)."""
        self.path = Path(path)
        self.memory_limit = memory_limit
        self.ingest_memory_limit = ingest_memory_limit
        # No output of this process may write over the warehouse or its WAL (safepath).
        protect_warehouse(self.path)
        if read_only and not self.path.exists():
            raise WarehouseError(
                f"no warehouse at {self.path}; ingest data first (transship ingest ...) "
                "or run `transship demo`"
            )
        config: dict[str, Any] = {}
        if memory_limit:
            config["memory_limit"] = memory_limit
        if threads:
            config["threads"] = threads
        if lock_wait is None:
            from transship.settings import get_settings

            lock_wait = get_settings().lock_wait_s
        self.con = connect_waiting(self.path, read_only=read_only, config=config, wait=lock_wait)
        # Large loads need not keep file order; this lets DuckDB stream them in less memory.
        self.con.execute("SET preserve_insertion_order = false")
        self.read_only = read_only
        if not read_only:
            self._create_schema()
            self._abort_stale_batches()
        elif not self._has_table("trade_flows"):
            raise WarehouseError(f"{self.path} is not a transship warehouse")

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    # -- schema ------------------------------------------------------------------------
    def _has_table(self, name: str) -> bool:
        return table_exists(self.con, name)

    def _create_schema(self) -> None:
        create_schema(self.con, self.path)

    def _abort_stale_batches(self) -> None:
        # DuckDB allows one writer per file, so a batch still `running` now was killed.
        # Looked for first: an UPDATE commits (a WAL sync) even when it matches nothing.
        stale = self.con.execute(
            "SELECT count(*) FROM ingest_batches WHERE status = 'running'"
        ).fetchone()
        if not stale or not stale[0]:
            return
        self.con.execute(
            "UPDATE ingest_batches SET status = 'aborted', finished = ?, "
            "error = 'the ingest process ended before committing; nothing it read was kept' "
            "WHERE status = 'running'",
            [_utcnow()],
        )

    # -- ingest ------------------------------------------------------------------------
    def ingest(self, src: BatchSource, *, progress: ProgressCallback | None = None) -> IngestResult:
        """Write every batch of `src` in one transaction, replacing rows with the same key."""
        with self._ingest_settings():
            return self._ingest(src, progress)

    @contextmanager
    def _ingest_settings(self) -> Iterator[None]:
        """The ingest memory limit, and no DuckDB progress bar (the CLI draws its own)."""
        bar = self.con.execute("SELECT current_setting('enable_progress_bar')").fetchone()
        if self.ingest_memory_limit:
            self.con.execute("SET memory_limit = ?", [self.ingest_memory_limit])
        self.con.execute("SET enable_progress_bar = false")
        try:
            yield
        finally:
            self._own_memory_limit()
            self.con.execute(f"SET enable_progress_bar = {bool(bar and bar[0])}")

    def _own_memory_limit(self) -> None:
        """Back to the connection's own memory limit (after the ingest limit)."""
        if not self.ingest_memory_limit:
            return
        if self.memory_limit:
            self.con.execute("SET memory_limit = ?", [self.memory_limit])
        else:
            self.con.execute("RESET memory_limit")

    def _ingest(self, src: BatchSource, progress: ProgressCallback | None) -> IngestResult:
        batch_id = f"{src.source}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        started = _utcnow()
        parameters = dict(src.parameters)
        if getattr(src, "keep_national", False):  # changes what is stored: part of the input
            parameters.setdefault("keep_national", True)
        same = self._identical(src, parameters)
        row = self.con.execute(
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
            return self._skipped(src, batch_id, started, parameters, *same)
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
            self.con.begin()
            # A changed input replaces its earlier batch whole: deleted by number, no join.
            replaced, notes = replace.replace_batch(
                self.con, src.source, src.input_name, parameters, batch_no
            )
            staged = False
            batches = prefetch(src.batches())
            try:
                if not staging:  # one INSERT per run of alike batches, written in parallel
                    append_stream(self.con, batches, (batch_no, src.source), seen)
                for batch in batches if staging else ():
                    self.con.register("_incoming", batch)
                    try:
                        if not staged:
                            self.con.execute(
                                "CREATE OR REPLACE TEMP TABLE _stage AS SELECT * FROM _incoming"
                            )
                            staged = True
                        else:
                            self.con.execute("INSERT INTO _stage SELECT * FROM _incoming")
                    finally:
                        self.con.unregister("_incoming")
                    seen(batch)
            finally:
                batches.close()  # stops the reading thread whatever happened
            # The rows are in. Summing, key checks and replacement are joins over the whole
            # batch: they run under the connection's own limit (spilling beyond it), not the
            # streaming one, under which re-ingesting 10M rows took 2.3x as long.
            self._own_memory_limit()
            if staged:
                other = self.con.execute(
                    "SELECT source FROM _stage WHERE source <> ? LIMIT 1", [src.source]
                ).fetchone()
                if other:
                    raise InputError(f"a batch of source {src.source!r} holds rows of {other[0]!r}")
                if levels:
                    notes += move_levels(self.con, batch_id, src.input_name)
                n, more = insert_staged(
                    self.con,
                    (batch_id, batch_no),
                    src.input_name,
                    sum_codes=summing,
                    keep=bool(getattr(src, "keep_national", False)),
                )
                written, notes = n, notes + more
            if not summing and not getattr(src, "keys_unique", False):
                replace.check_unique(self.con, batch_no, src.input_name)
            replaced += replace.replace_keys(self.con, batch_id, batch_no, src.source, lo, hi)
            labels = getattr(src, "labels", None)
            if labels is not None:
                self.con.execute("DELETE FROM scenario_labels")
                self.con.register("_labels", labels)
                try:
                    self.con.execute(
                        "INSERT INTO scenario_labels SELECT ?, * FROM _labels", [batch_id]
                    )
                finally:
                    self.con.unregister("_labels")
            finished = _utcnow()
            self._finish(batch_id, "ok", finished, src, written, replaced, parameters, notes)
            self.con.commit()
        except BaseException as e:
            self.con.rollback()
            with suppress(duckdb.Error):
                self.con.execute("DROP TABLE IF EXISTS _stage")
            self.con.execute(
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

    def _identical(self, src: BatchSource, parameters: dict[str, object]) -> tuple[str, str] | None:
        """(sha256, batch_id) of an earlier ok batch holding this very input, if any.

        The input is hashed before it is read only when some batch of the source and
        parameters could match (a source offering `content_sha256`): ~0.3 s for 400 MB.
        """
        digest = getattr(src, "content_sha256", None)
        if digest is None or not replace.has_candidates(self.con, src.source, parameters):
            return None
        sha = digest()
        if sha is None:
            return None
        same = replace.identical_batch(self.con, src.source, parameters, sha)
        return None if same is None else (sha, same)

    def _skipped(
        self,
        src: BatchSource,
        batch_id: str,
        started: datetime,
        params: dict[str, object],
        sha: str,
        same: str,
    ) -> IngestResult:
        """Record an input already stored whole: nothing read, nothing written."""
        note = (
            f"skipped: batch {same} holds this input (same sha256, source and parameters) "
            "with every row still stored; nothing read or written"
        )
        src.sha256 = sha
        finished = _utcnow()
        self._finish(batch_id, "skipped", finished, src, 0, 0, params, [note])
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
        self,
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
        self.con.execute(
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

    # -- reading -----------------------------------------------------------------------
    def batches(self, limit: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM ingest_batches ORDER BY started DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        cur = self.con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def count(self, where: str = "TRUE", params: list[Any] | None = None) -> int:
        row = self.con.execute(
            f"SELECT count(*) FROM trade_flows WHERE {where}", params or []
        ).fetchone()
        return int(row[0]) if row else 0

    def ibis(self) -> Any:
        """An Ibis connection over this warehouse (the analysis layer's entry point)."""
        import ibis

        return ibis.duckdb.from_connection(self.con)

    # -- export ------------------------------------------------------------------------
    def export_parquet(self, directory: str | Path, *, overwrite: bool = False) -> dict[str, Any]:
        """Hive-partitioned Parquet copy (source=/year=), the hand-off to Spark.

        The directory (and its parents) is created; the copy is written to a temporary
        directory beside it that takes its place when complete, so a failed export leaves
        an earlier one intact. `overwrite` replaces an earlier export, never a directory
        holding other files (nor one holding this warehouse or any protected file).
        """
        out = Path(directory)
        columns = ", ".join(c.name for c in TRADE_FLOWS)
        check_target(out, parameter="directory", directory=True)
        if out.exists() and any(out.iterdir()) and not overwrite:
            raise ParameterError("directory", f"{out} is not empty; pass overwrite to replace it")

        def write(tmp: Path) -> None:
            self.con.execute(
                f"COPY (SELECT {columns}, year(period) AS year FROM trade_flows) TO ? "
                "(FORMAT parquet, PARTITION_BY (source, year), OVERWRITE_OR_IGNORE true, "
                "COMPRESSION zstd)",
                [str(tmp)],
            )

        write_directory(out, write, parameter="directory", replace=_is_parquet_export)
        files = sorted(str(p.relative_to(out)) for p in out.rglob("*.parquet"))
        return {"directory": str(out), "rows": self.count(), "files": len(files)}


def _is_parquet_export(directory: Path) -> bool:
    """True if `directory` is empty or holds only an earlier export (source=*/ of .parquet),
    so replacing it loses nothing else."""
    for p in directory.rglob("*"):
        rel = p.relative_to(directory)
        if not rel.parts[0].startswith("source="):
            return False
        if p.is_file() and p.suffix != ".parquet":
            return False
    return True


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _describe(e: BaseException) -> str:
    if isinstance(e, KeyboardInterrupt):
        return "interrupted"
    return f"{type(e).__name__}: {e}"


@contextmanager
def open_warehouse(path: str | Path, *, read_only: bool = False) -> Iterator[Warehouse]:
    """Open with the settings' memory limit and threads."""
    from transship.settings import get_settings

    s = get_settings()
    wh = Warehouse(
        path,
        read_only=read_only,
        memory_limit=s.memory_limit,
        threads=s.threads,
        ingest_memory_limit=s.ingest_memory_limit,
    )
    try:
        yield wh
    finally:
        wh.close()


__all__ = ["IngestResult", "Warehouse", "open_warehouse"]
