"""The DuckDB warehouse: trade_flows and ingest_batches, with atomic, idempotent ingest.

Tables and the trade_flows view: warehouse/ddl.py. One ingest (its transaction and
provenance row): warehouse/ingest.py; what it does about stored rows (skip an identical
input, replace its earlier batch, replace keys): warehouse/replace.py; appending rows:
warehouse/append.py. The Parquet export: warehouse/export.py.

Guarantees
- One ingest is one transaction. Rows whose natural key already exists are replaced,
  never duplicated; an input already stored whole is skipped (unless forced). A failed
  ingest rolls back; a killed one never committed, so the warehouse is as it was. Either
  way the batch stays in ingest_batches with its status (`failed`, or `aborted` once the
  next writer finds a batch left `running`).
- No index on the natural key: an ART index would grow with the table and keep ingest
  memory from staying flat, so replacement and duplicate checks are hash joins that DuckDB
  can spill to disk under `memory_limit`. Rows stream in under the lower
  `ingest_memory_limit`, so ingest memory stays flat in the input's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from transship.errors import WarehouseError
from transship.safepath import protect_warehouse
from transship.schema import BatchSource, table_exists
from transship.warehouse.ddl import create_schema
from transship.warehouse.export import export_parquet
from transship.warehouse.ingest import IngestResult, ProgressCallback, _utcnow, ingest
from transship.warehouse.lease import connect_waiting


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
    def ingest(
        self,
        src: BatchSource,
        *,
        progress: ProgressCallback | None = None,
        force: bool = False,
    ) -> IngestResult:
        """Write every batch of `src` in one transaction, replacing rows with the same key.

        An input an earlier batch holds whole is skipped (status `skipped`, a note naming
        that batch) unless `force`: then it is read again and replaces that batch."""
        return ingest(self, src, progress, force=force)

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
        """Hive-partitioned Parquet copy (source=/year=), the hand-off to Spark: see
        warehouse/export.py."""
        return export_parquet(self, directory, overwrite=overwrite)


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
