"""Building the cube in chunks (analysis.cube.build): the same file as in one read, the
warehouse let go between reads, and no cube at all when the data changes mid-build."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import copy_warehouse, write
from transship.analysis import cube as C
from transship.analysis.cube import build as B
from transship.warehouse import Warehouse
from transship.warehouse.lease import Lease, data_version


def warehouse(cmp_db: str, tmp_path: Path) -> Path:
    """cmp_db (TUR's rows) and a row of KAZ's: two reporters, two chunks."""
    from tests._engines import MAP
    from transship.sources.csvfile import csv_file

    path = copy_warehouse(Path(cmp_db), tmp_path / "w.duckdb")
    rows = "rep,par,flow,hs,rev,period,usd\nKAZ,RUS,export,854800,HS2022,2023-02,7\n"
    with Warehouse(path) as wh:
        wh.ingest(csv_file(write(tmp_path / "kaz.csv", rows), source="kaz", mapping=MAP))
    (tmp_path / "kaz.csv").unlink()
    return path


def tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {n: con.execute(f"SELECT * FROM {n}").fetchall() for n in sorted(names)}


def version_of(path: Path) -> str:
    with Warehouse(path) as wh:
        return repr(data_version(wh.con)[0])


def reporters(path: Path) -> int:
    with Warehouse(path) as wh:
        return int(wh.con.execute("SELECT count(DISTINCT reporter) FROM trade_flows").fetchone()[0])


def test_chunks_never_split_a_reporter() -> None:
    sizes = [("ARM", 3), ("KAZ", 5), ("TUR", 9), ("UZB", 1)]
    assert list(B.chunks(sizes, 8)) == [["ARM", "KAZ"], ["TUR"], ["UZB"]]
    assert list(B.chunks(sizes, 100)) == [["ARM", "KAZ", "TUR", "UZB"]]
    assert list(B.chunks([], 8)) == [[]]


def test_a_chunked_build_writes_the_cube_of_one_read(
    cmp_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = warehouse(cmp_db, tmp_path)
    assert reporters(path) == 2
    version = version_of(path)
    with Warehouse(path) as wh:
        whole = tables(B.build(B.held(wh.con), path, version))
        monkeypatch.setattr(B, "CHUNK_ROWS", 1)  # a read per reporter
        assert tables(B.build(B.held(wh.con), path, version)) == whole
    assert whole["cube_version"] == [(C.FORMAT, version)]
    with Warehouse(path) as wh:
        stored = wh.con.execute("SELECT count(*) FROM trade_flows").fetchone()[0]
    assert sum(r[6] for r in whole["cube_meta"]) == stored > 0  # (flow, ..., freq, n, synth)
    assert {r[1] for r in whole["cube_flows"]} == {"KAZ", "TUR"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.cube.duckdb", "w.duckdb"]


def test_the_lease_lets_go_of_the_warehouse_between_reads(
    cmp_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = warehouse(cmp_db, tmp_path)
    monkeypatch.setattr(B, "CHUNK_ROWS", 1)
    lease = Lease(lambda: Warehouse(path), idle=0.02)
    let_go: list[bool] = []

    @contextlib.contextmanager
    def connect() -> Iterator[Any]:
        if let_go or lease.opens:  # every read after the first: was the file let go?
            end = time.monotonic() + 10  # a bound for a loaded machine, not a timing
            while lease.is_open and time.monotonic() < end:
                time.sleep(0.01)
            let_go.append(not lease.is_open)
            if not lease.is_open:  # another process can open the file now
                duckdb.connect(str(path), read_only=True).close()
        with lease.connection() as cur:
            yield cur

    try:
        C.ensure(connect, path, version_of(path), pause=0.05).close()
    finally:
        lease.close()
    assert len(let_go) == reporters(path) and all(let_go)
    assert C.stored_version(C.cube_path(path)) == version_of(path)


def test_data_landing_mid_build_leaves_no_cube(
    cmp_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests._engines import MAP
    from transship.sources.csvfile import csv_file

    path = warehouse(cmp_db, tmp_path)
    monkeypatch.setattr(B, "CHUNK_ROWS", 1)
    version = version_of(path)
    rows = "rep,par,flow,hs,rev,period,usd\nTUR,KAZ,export,854800,HS2022,2023-02,20\n"
    more = csv_file(write(tmp_path / "more.csv", rows), source="more", mapping=MAP)
    with Warehouse(path) as wh:
        reads = 0

        @contextlib.contextmanager
        def connect() -> Iterator[Any]:
            nonlocal reads
            reads += 1
            if reads == 3:  # after the first chunk: an ingest by another command
                wh.ingest(more)
            yield wh.con

        with pytest.raises(B.Stale, match="changed while its cube"):
            C.ensure(connect, path, version)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["more.csv", "w.duckdb"]
