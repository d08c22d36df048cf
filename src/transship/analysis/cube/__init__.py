"""Precomputed aggregates of trade_flows for the dashboard: answers in milliseconds, not
seconds (Ibis compilation and scans of every row were the cost of a new filter set).

The cube is a DuckDB file beside the warehouse (`w.duckdb` -> `w.cube.duckdb`), built once
per data version (`warehouse.lease.data_version`: the ok ingest batches; a batch landing
changes it) and rebuilt when that changes. It holds

- `cube_flows`: value_usd and row count by (flow, reporter, partner, period, hs_rev, hs,
  freq), summed over sources, for the codes any CHPL product set or its control basket can
  map to (`cube_codes`), sorted by reporter, flow, partner and period so a page's filters
  read a few row groups;
- `cube_legs`: the hubs ranking's two legs (imports from the coalition, exports to the
  target and its neighbours, as `analysis.hubs` defines them with its default groups,
  stored in `cube_groups`) summed over partners, for the candidate hubs;
- `cube_meta`: row counts and whether any row is synthetic by (flow, reporter, partner,
  period, hs_rev, freq) over every product: what `select` asks before the product join
  (frequency, revisions, the SYNTHETIC label) and mirror's reporting coverage.

`Queries` answers `flows`, `mirror` and `hubs` from the cube with plain DuckDB SQL and the
same planning code as the Ibis analyses (tests compare the two figure by figure); a request
the cube cannot answer (a `source` filter, a code outside `cube_codes`) goes to the Ibis
analyses over the warehouse.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transship import reference

FORMAT = "2"  # bump when the tables change: an older cube file is rebuilt
MEMO = 512  # answers kept per cube (each a small Arrow table)


class NotInCube(Exception):
    """The cube cannot answer this request exactly; the caller asks the analyses."""


def cube_path(warehouse: str | Path) -> Path:
    p = Path(warehouse)
    return p.with_name(p.stem + ".cube.duckdb")


def cube_codes(revisions: list[str]) -> list[tuple[str, str]]:
    """(hs_rev, hs) of every code a CHPL product set (any tier, any concordance mode) or the
    hubs' control basket maps to in `revisions`."""
    from transship.analysis._select import product_map
    from transship.analysis.hubs import control_basket

    codes: set[tuple[str, str]] = set()
    for mode in reference.CONCORDANCE_MODES:
        rows, _ = product_map("chpl", revisions, mode)
        codes.update((r["hs_rev"], r["hs"]) for r in rows)
    for c in control_basket("chpl"):
        codes.update(
            (rev, c) for rev in revisions if rev == "HS2022" or reference.hs6_exists(c, rev)
        )
    return sorted(codes)


class Cube:
    """An open cube file (read-only) and the code set it holds."""

    def __init__(self, path: Path, version: str) -> None:
        import duckdb

        self.path = path
        self.version = version
        self.con = duckdb.connect(str(path), read_only=True)
        rows = self.con.execute("SELECT hs_rev, hs FROM cube_codes").fetchall()
        self.codes = frozenset((str(r), str(h)) for r, h in rows)
        self.groups: dict[str, list[str]] = {}
        for name, code in self.con.execute("SELECT name, code FROM cube_groups").fetchall():
            self.groups.setdefault(str(name), []).append(str(code))
        self.lock = threading.Lock()  # one query at a time on the connection
        self.memo: OrderedDict[str, Any] = OrderedDict()  # answers of this version, see keep

    def keep(self, key: str, compute: Callable[[], Any]) -> Any:
        """`compute()`, remembered under `key` for this data version (the newest MEMO):
        pages ask the same analysis (the hubs ranking, a mirror) under other filters."""
        with self.lock:
            if key in self.memo:
                self.memo.move_to_end(key)
                return self.memo[key]
        value = compute()
        with self.lock:
            self.memo[key] = value
            while len(self.memo) > MEMO:
                self.memo.popitem(last=False)
        return value

    def close(self) -> None:
        self.con.close()

    def sql(self, query: str) -> Any:
        """The result of `query` as a pyarrow Table."""
        with self.lock:
            return self.con.sql(query).to_arrow_table()

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        with self.lock:
            return self.con.sql(query).fetchall()


def stored_version(path: Path) -> str | None:
    """The data version a cube file was built for (None: no file, or another format)."""
    import duckdb

    if not path.exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute("SELECT format, version FROM cube_version").fetchone()
    except duckdb.Error:
        return None
    return str(row[1]) if row and row[0] == FORMAT else None


def ensure(
    connect: Any, warehouse: Path, version: str, current: Cube | None = None, *, pause: float = 0
) -> Cube:
    """The cube for `version`: `current` when it is that one, the file beside the warehouse
    when it was built for it, else a new build (`cube.build.build`: `connect` is a
    zero-argument callable giving a warehouse connection per read, or a connection the
    caller holds throughout)."""
    from transship.analysis.cube.build import build, held

    if current is not None and current.version == version:
        return current
    if current is not None:
        current.close()
    path = cube_path(warehouse)
    if stored_version(path) != version:
        build(connect if callable(connect) else held(connect), warehouse, version, pause=pause)
    return Cube(path, version)


from transship.analysis.cube.queries import Queries  # noqa: E402  (uses Cube, NotInCube)

__all__ = ["Cube", "NotInCube", "Queries", "cube_codes", "cube_path", "ensure"]
