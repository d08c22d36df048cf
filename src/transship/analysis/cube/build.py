"""Writing a cube file in a few short reads of the warehouse.

`transship serve` holds the warehouse file only while it reads it, so that CLI commands can
use the file between requests (warehouse.lease). Building the cube in one statement held it
for the whole build: 5-6 s on the 8.9M-row demo at an idle machine, 12-20 s under load,
longer than a CLI command waits for the file (TRANSSHIP_LOCK_WAIT_S). So the build

1. appends the rows of `CHUNK_ROWS` warehouse rows' worth of reporters at a time, in
   reporter order (so the tables come out sorted without a sort of the whole), each read on
   its own connection of the lease with a pause between reads long enough for the lease to
   let go of the file (a waiting CLI command takes it then); each read checks that the data
   version is still the one being built, else the build is abandoned (`Stale`) and the next
   page request builds the new version;
2. derives the hubs' legs from the new file alone, without the warehouse;
3. moves the finished file into place, so a reader never sees half a cube.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from transship.analysis.cube import FORMAT, NotInCube, cube_codes, cube_path

CHUNK_ROWS = 2_000_000  # warehouse rows per read of the warehouse

Connect = Callable[[], AbstractContextManager[Any]]  # yields a DuckDB connection or cursor


class Stale(NotInCube):
    """The warehouse changed while its cube was being built: that cube would be wrong."""


def held(con: Any) -> Connect:
    """A `Connect` of a connection the caller holds throughout (a CLI command, a test)."""
    return lambda: contextlib.nullcontext(con)


def build(connect: Connect, warehouse: Path, version: str, *, pause: float = 0.0) -> Path:
    """Write the cube of the warehouse for data `version`; `connect()` gives a connection
    to the warehouse (read-write: the staging file is attached to it) for one read, and
    `pause` seconds pass between reads (see the module docstring)."""
    from transship.warehouse.lease import data_version

    path = cube_path(warehouse)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.unlink(missing_ok=True)
        with connect() as con:
            revs = [
                str(r[0])
                for r in con.execute("SELECT DISTINCT hs_rev::VARCHAR FROM trade_flows").fetchall()
            ]
            sizes = con.execute(
                "SELECT reporter, count(*) FROM trade_flows GROUP BY 1 ORDER BY 1"
            ).fetchall()
        codes = cube_codes(sorted({*revs, "HS2022"}))  # HS2022: the revision of no rows at all
        for i, reporters in enumerate(chunks(sizes, CHUNK_ROWS)):
            if i:
                time.sleep(pause)
            with connect() as con:
                if repr(data_version(con)[0]) != version:
                    raise Stale(f"the warehouse changed while its cube for {version} was built")
                with _attached(con, tmp, "transship_cube"):
                    if i == 0:
                        _create(con, codes)
                    _append(con, reporters)
        _finish(tmp, version)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    return path


def chunks(sizes: list[tuple[Any, int]], rows: int) -> Iterator[list[str]]:
    """Reporters in runs of about `rows` warehouse rows (a reporter is never split; at
    least one run, possibly empty, so the staging tables are always written)."""
    run: list[str] = []
    n = 0
    for reporter, count in sizes:
        if run and n + count > rows:
            yield run
            run, n = [], 0
        run.append(str(reporter))
        n += count
    yield run


@contextlib.contextmanager
def _attached(con: Any, path: Path, name: str) -> Iterator[None]:
    con.execute(f"ATTACH '{_quote(path)}' AS {name}")
    try:
        yield
    finally:
        con.execute(f"DETACH {name}")


def _create(con: Any, codes: list[tuple[str, str]]) -> None:
    from transship.analysis.cube.select import values

    con.execute("CREATE TABLE transship_cube.cube_codes (hs_rev VARCHAR, hs VARCHAR)")
    if codes:  # one statement: executemany runs one per row
        rows = [{"hs_rev": r, "hs": h} for r, h in codes]
        con.execute(
            "INSERT INTO transship_cube.cube_codes SELECT * FROM "
            f"{values(rows, 'c', ['hs_rev', 'hs'])}"
        )
    con.execute(
        """
        CREATE TABLE transship_cube.cube_flows (flow VARCHAR, reporter VARCHAR,
            partner VARCHAR, period DATE, hs_rev VARCHAR, hs VARCHAR, freq VARCHAR,
            value_usd DOUBLE, n BIGINT)
        """
    )
    con.execute(
        """
        CREATE TABLE transship_cube.cube_meta (flow VARCHAR, reporter VARCHAR,
            partner VARCHAR, period DATE, hs_rev VARCHAR, freq VARCHAR, n BIGINT,
            synthetic BOOLEAN)
        """
    )


def _append(con: Any, reporters: list[str]) -> None:
    """The rows of these reporters: cube_flows for the codes in cube_codes (summed over
    sources), cube_meta for every code; sorted by reporter first, so that appending the
    chunks in reporter order leaves each table sorted for the pages' filters."""
    from transship.analysis.cube.select import in_list

    where = in_list("t.reporter", reporters)
    con.execute(
        f"""
        INSERT INTO transship_cube.cube_flows
        SELECT t.flow::VARCHAR AS flow, t.reporter, t.partner, t.period,
               t.hs_rev::VARCHAR AS hs_rev, t.hs, t.freq::VARCHAR, sum(t.value_usd), count(*)
        FROM trade_flows t
        SEMI JOIN transship_cube.cube_codes c
            ON t.hs_rev::VARCHAR = c.hs_rev AND t.hs = c.hs
        WHERE {where}
        GROUP BY ALL ORDER BY t.reporter, flow, t.partner, t.period, hs_rev, t.hs
        """
    )
    con.execute(
        f"""
        INSERT INTO transship_cube.cube_meta
        SELECT t.flow::VARCHAR AS flow, t.reporter, t.partner, t.period,
               t.hs_rev::VARCHAR, t.freq::VARCHAR, count(*), bool_or(t.source = 'synthetic')
        FROM trade_flows t WHERE {where}
        GROUP BY ALL ORDER BY t.reporter, flow, t.partner, t.period
        """
    )


def _finish(tmp: Path, version: str) -> None:
    """The hubs' legs and the groups and version, on the new file alone."""
    import duckdb

    from transship.analysis.cube.select import in_list, values

    groups = leg_groups()
    with duckdb.connect(str(tmp)) as con:
        con.execute("CREATE TABLE cube_groups (name VARCHAR, code VARCHAR)")
        members = [{"name": n, "code": c} for n, cs in groups.items() for c in cs]
        con.execute(
            f"INSERT INTO cube_groups SELECT * FROM {values(members, 'g', ['name', 'code'])}"
        )
        con.execute(
            f"""
            CREATE TABLE cube_legs AS
            SELECT reporter, {leg_case(groups)} AS leg, partner = reporter AS own, period,
                   hs_rev, hs, freq, sum(value_usd) AS value_usd
            FROM cube_flows
            WHERE flow IN ('import', 'export') AND {in_list("reporter", groups["hubs"])}
              AND {in_list("partner", sorted({*groups["dest"], *groups["coal"]}))}
            GROUP BY ALL ORDER BY reporter, period
            """
        )
        con.execute("CREATE TABLE cube_version (format VARCHAR, version VARCHAR)")
        con.execute("INSERT INTO cube_version VALUES (?, ?)", [FORMAT, version])


def leg_groups() -> dict[str, list[str]]:
    """The countries of analysis.hubs' default groups: candidate hubs, destinations (target
    and neighbours) and the coalition."""
    import inspect

    from transship.analysis._select import countries
    from transship.analysis.hubs import hubs

    d = {k: v.default for k, v in inspect.signature(hubs).parameters.items()}
    return {
        "hubs": countries(d["hubs"]),
        "dest": sorted({*countries(d["target"]), *countries(d["neighbours"])}),
        "coal": countries(d["coalition"]),
    }


def leg_case(groups: dict[str, list[str]]) -> str:
    """analysis.hubs' leg of a row, in SQL (NULL: neither leg)."""
    from transship.analysis.cube.select import in_list
    from transship.analysis.hubs import LEGS

    return (
        f"CASE WHEN flow = 'import' AND {in_list('partner', groups['coal'])} THEN '{LEGS[0]}' "
        f"WHEN flow = 'export' AND {in_list('partner', groups['dest'])} THEN '{LEGS[1]}' END"
    )


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")
