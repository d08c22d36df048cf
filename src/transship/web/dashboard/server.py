"""The Dashboard: pages computed over the server's warehouse lease, cached per URL, warmed
at startup, answered from the cube beside the warehouse (analysis.cube) when it can."""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from transship.errors import WarehouseError
from transship.settings import Settings
from transship.web.dashboard.base import PageData

CACHE_PAGES = 256
KEPT = 32  # uploaded results (screening) kept for viewing and CSV download


class Dashboard:
    """Pages over the server's warehouse lease (one DuckDB cursor per page computed), a lock
    (pages are computed one at a time), and a bounded cache of computed pages. The cache is
    dropped when another process changes the warehouse (an ingest, a list load): the lease
    closes the file between requests, so that can happen while the server runs."""

    def __init__(self, settings: Settings, lease: Any = None) -> None:
        from transship.web.service import make_lease

        self.settings = settings
        self.warehouse = Path(settings.warehouse)
        self.lease = lease or make_lease(settings)
        self._kept: OrderedDict[str, PageData] = OrderedDict()
        self._closed = False
        self._warmer: threading.Thread | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, tuple[tuple[str, str], ...]], PageData] = OrderedDict()
        self._version: Any = None
        self._synthetic = False  # the warehouse holds synthetic rows (per data version)
        self._cube: Any = None  # analysis.cube.Cube of the current data version, or None
        self.cube_error: str | None = None  # why there is no cube (pages run on Ibis then)

    def _check(self) -> None:
        if self._closed:
            raise WarehouseError("the dashboard is shutting down")
        if not self.warehouse.exists():
            raise WarehouseError(
                f"no warehouse at {self.warehouse}; run `transship demo` or ingest data"
            )

    def page(self, name: str, filters: dict[str, str]) -> PageData:
        import ibis

        from transship.analysis.cube import Queries
        from transship.schema import table_exists
        from transship.warehouse.lease import data_version
        from transship.web.dashboard.pages import registry

        compute = registry()[name].compute
        assert compute is not None, f"page {name} reads no warehouse"
        key = (name, tuple(sorted(filters.items())))
        with self._lock:
            self._check()
            with self.lease.connection() as cur:
                version = data_version(cur)
                changed = version != self._version  # another process changed the data
                if changed:
                    self._cache.clear()
                    self._version = version
                    self._synthetic = _holds_synthetic(cur)
                    flows = table_exists(cur, "trade_flows")
            if changed:  # the build reads the warehouse in chunks: not inside a connection
                self._cube = self._open_cube(version) if flows else None
            with self.lease.connection() as cur:
                hit = self._cache.get(key)
                if hit is not None:
                    self._cache.move_to_end(key)
                    return hit
                data = compute(Queries(ibis.duckdb.from_connection(cur), self._cube), filters)
            if self._synthetic and not data.synthetic:
                # a page that does not say so is labelled from the warehouse: the label
                # never depends on each page module remembering it
                data = dataclasses.replace(data, synthetic=True)
            self._cache[key] = data
            if len(self._cache) > CACHE_PAGES:
                self._cache.popitem(last=False)
            return data

    def _open_cube(self, version: Any) -> Any:
        """The cube of this data version (built when the file beside the warehouse is not
        of it), or None when it cannot be written or read, or the data changed while it was
        built: the pages are the same then, only slower."""
        import duckdb

        from transship.analysis import cube

        # A pause longer than the lease's idle time between the build's reads lets the
        # lease close the file, so a CLI command waiting for it gets its turn.
        pause = self.lease.idle + 0.05
        try:
            self.cube_error = None
            return cube.ensure(
                self.lease.connection, self.warehouse, repr(version[0]), self._cube, pause=pause
            )
        except (OSError, duckdb.Error, cube.NotInCube) as e:
            self.cube_error = f"no cube beside {self.warehouse}: {e}"
            return None

    def keep(self, token: str, data: PageData) -> None:
        """Keep a result computed from a request (an upload) for later views, the newest."""
        with self._lock:
            self._kept[token] = data
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)

    def kept(self, token: str) -> PageData | None:
        with self._lock:
            return self._kept.get(token)

    def lists(self) -> list[str]:
        """Sanctions lists loaded in the warehouse (none if it has no lists table)."""
        from transship.screening.lists import loaded_lists

        try:
            with self._lock:
                self._check()
                with self.lease.connection() as cur:
                    return [r["list"] for r in loaded_lists(cur)]
        except WarehouseError:
            return []

    def start_warming(self) -> None:
        if not self.warehouse.exists():
            return
        self._warmer = threading.Thread(target=self.warm, name="transship-warm", daemon=True)
        self._warmer.start()

    def wait_warm(self, timeout: float | None = None) -> None:
        """Block until the default pages are computed (benchmarks measure a settled server)."""
        if self._warmer is not None:
            self._warmer.join(timeout)

    def warm(self) -> None:
        """Compute every page with its default filters, so the first visit is served from
        the cache. Errors are left for the request that shows them."""
        import time

        from transship.web.dashboard.pages import registry

        pages = [p for p in registry().values() if p.compute is not None]
        for i, page in enumerate(pages):
            if self._closed:
                return
            if i:  # let go of the warehouse between pages: a CLI command may be waiting
                time.sleep(self.lease.idle + 0.3)
            try:
                self.page(page.name, page.default_filters())
            except Exception:  # shown on the page when a user opens it
                if self._closed:
                    return

    def close(self) -> None:
        self._closed = True
        if self._warmer is not None:  # let a page being computed finish, then stop
            self._warmer.join(60)
        self.lease.close()
        if self._cube is not None:
            self._cube.close()


def _holds_synthetic(cur: Any) -> bool:
    from transship.schema import table_exists

    if not table_exists(cur, "trade_flows"):
        return False
    row = cur.execute("SELECT 1 FROM trade_flows WHERE source = 'synthetic' LIMIT 1").fetchone()
    return row is not None
