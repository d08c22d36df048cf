"""Start-up of a `transship` process: reading ahead (transship.ahead) and garbage collection
while the process starts (cli/_lean.py). Behaviour only, never timings."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.conftest import write
from transship import compute as pc
from transship.ahead import Prefetch, ReadAhead, prefetch
from transship.errors import InputError
from transship.sources.baci import baci_file
from transship.warehouse import Warehouse

BACI = "t,i,j,k,v,q\n2020,4,8,10121,1.5,NA\n2020,4,8,10122,2,3\n"


def test_prefetch_starts_at_once_and_raises_where_the_item_would_come() -> None:
    produced = threading.Event()

    def items() -> Iterator[int]:
        yield 1
        produced.set()  # the second item is asked for before anyone took the first
        yield 2
        raise ValueError("bad third item")

    ahead = Prefetch(items(), depth=2)
    assert produced.wait(5), "nothing was produced before the first next()"
    assert prefetch(ahead) is ahead  # already ahead: not wrapped in a second thread
    assert [next(ahead), next(ahead)] == [1, 2]
    with pytest.raises(ValueError, match="bad third item"):
        next(ahead)
    with pytest.raises(StopIteration):
        next(ahead)


def test_prefetch_close_stops_the_producer_and_closes_its_iterator() -> None:
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    ahead = Prefetch(endless(), depth=2)
    assert next(ahead) == 0
    ahead.close()
    assert closed.is_set() and not ahead._worker.is_alive()
    ahead.close()  # idempotent


def test_read_ahead_is_the_source_read_once(tmp_path: Path) -> None:
    f = write(tmp_path / "BACI_HS17_Y2020_V202401.csv", BACI)
    src = baci_file(f)
    with ReadAhead(src) as ahead:
        assert ahead.source == "baci" and ahead.input_name == str(f)
        batches = list(ahead.batches())
        assert sum(b.num_rows for b in batches) == 2
        assert ahead.rows_read == 2 and src.sha256 is not None and ahead.sha256 == src.sha256
        ahead.sha256 = "set through the read-ahead"
        assert src.sha256 == "set through the read-ahead"
        with pytest.raises(RuntimeError, match="read once"):
            ahead.batches()


def test_read_ahead_ingests_as_the_source_does(tmp_path: Path) -> None:
    f = write(tmp_path / "BACI_HS17_Y2020_V202401.csv", BACI)
    bad = write(tmp_path / "BACI_HS17_Y2021_V202401.csv", BACI + "2020,999,8,10121,1,1\n")
    with Warehouse(tmp_path / "w.duckdb") as wh:
        with ReadAhead(baci_file(f)) as src:
            result = wh.ingest(src)
        assert (result.status, result.rows_written) == ("ok", 2)
        with ReadAhead(baci_file(bad)) as src, pytest.raises(InputError) as e:
            wh.ingest(src)
        assert (e.value.line, e.value.column) == (4, "i")  # named as without reading ahead
        assert wh.count() == 2
        assert [b["status"] for b in wh.batches()] == ["failed", "ok"]


def test_a_source_writing_a_reject_file_is_read_when_asked(tmp_path: Path) -> None:
    f = write(tmp_path / "BACI_HS17_Y2020_V202401.csv", BACI + "2020,999,8,10121,1,1\n")
    rejects = tmp_path / "rejects.csv"
    with ReadAhead(baci_file(f, reject_file=rejects)) as ahead:
        assert not ahead.reading  # read whole now, it would replace the reject file
    assert not rejects.exists()  # the warehouse could not be opened, say: nothing written
    with ReadAhead(baci_file(f, reject_file=rejects)) as ahead:
        assert sum(b.num_rows for b in ahead.batches()) == 2
    assert rejects.read_text(encoding="utf-8").splitlines()[1].startswith("4,i,unknown country")
    with ReadAhead(baci_file(f)) as ahead:
        assert ahead.reading


def _transship(*args: str, probe: str = "") -> subprocess.CompletedProcess[str]:
    """`transship ARGS` through main(), as the program runs; `probe` runs first."""
    code = f"{probe}\nfrom transship.cli import main\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)


# Records the garbage collector's state as the warehouse starts an ingest and prints it
# at exit: collections since main() started, whether it is on, how many objects are frozen;
# and whether pyarrow.compute was imported (transship.compute calls Arrow without it).
GC_PROBE = """
import atexit, gc, json, sys
import transship.cli._lean as lean
import transship.warehouse as w
seen = {}
def collections():
    return sum(s['collections'] for s in gc.get_stats())
def starting():  # main() starts: collections so far are this probe's imports (DuckDB's)
    seen.update(before=collections())
    real_starting()
real_starting, lean.starting = lean.starting, starting
def ingest(self, src, **kw):
    seen.update(collections=collections() - seen['before'],
                enabled=gc.isenabled(), frozen=gc.get_freeze_count())
    return real(self, src, **kw)
real, w.Warehouse.ingest = w.Warehouse.ingest, ingest
def done():
    seen.update(compute='pyarrow.compute' in sys.modules)
    print('GC', json.dumps(seen))
atexit.register(done)
"""


def test_an_ingest_process_starts_without_collections_then_collects(tmp_path: Path) -> None:
    # a period, a quantity and a value to convert; a row whose value is refused
    f = write(tmp_path / "BACI_HS17_Y2020_V202401.csv", BACI + "2020,4,8,10123,-1,1\n")
    rejects = tmp_path / "rejects.csv"
    args = ["ingest", "baci", str(f), "--reject-file", str(rejects)]
    out = _transship("-w", str(tmp_path / "w.duckdb"), *args, probe=GC_PROBE)
    assert out.returncode == 0, out.stderr
    assert "negative value" in rejects.read_text(encoding="utf-8")
    seen = json.loads(out.stdout.rsplit("GC ", 1)[1])
    # no collection while the libraries were imported; on again for the ingest, with the
    # objects of the start frozen (never looked at by a collection again)
    assert seen["collections"] == 0
    assert seen["enabled"] is True and seen["frozen"] > 10_000
    assert seen["compute"] is False  # ~180M instructions of wrappers the ingest never used


def test_other_commands_collect_once_they_run(tmp_path: Path) -> None:
    probe = (
        "import atexit, gc\nimport transship.output as o\nreal = o.emit\n"
        "def emit(*a, **k):\n    print('ENABLED', gc.isenabled())\n    return real(*a, **k)\n"
        "o.emit = emit"
    )
    out = _transship("reference", "groups", "-f", "json", probe=probe)
    assert out.returncode == 0, out.stderr
    assert "ENABLED True" in out.stdout


def test_a_source_read_when_built_is_read_with_collection_on(tmp_path: Path) -> None:
    """Comext's source reads every file as it is built: a long read with collection off
    could hold cycles until the end; it is turned on first."""
    f = write(
        tmp_path / "rv.csv",
        "REPORTER,PARTNER,PRODUCT,FLOW,STAT_PROCEDURE,PERIOD,VALUE_IN_EUR\n"
        '"Germany","Kazakhstan","85423111-P","2-EXPORT","T-Total","202101-Jan. 2021",1\n',
    )
    probe = (
        "import gc\nimport transship.sources.comext as c\nreal = c.comext_source\n"
        "def comext_source(*a, **k):\n    print('ENABLED', gc.isenabled())\n"
        "    return real(*a, **k)\nc.comext_source = comext_source"
    )
    out = _transship("-w", str(tmp_path / "w.duckdb"), "ingest", "comext", str(f), probe=probe)
    assert out.returncode == 0, out.stderr
    assert "ENABLED True" in out.stdout


def test_a_bad_argument_leaves_no_warehouse_and_a_failed_open_no_reject_file(
    tmp_path: Path,
) -> None:
    f = write(tmp_path / "trade.csv", BACI + "2020,999,8,10121,1,1\n")
    db, rejects = tmp_path / "w.duckdb", tmp_path / "rejects.csv"
    bad = _transship("-w", str(db), "ingest", "baci", str(f))  # no revision in the name
    assert bad.returncode == 2 and "cannot tell the HS revision" in bad.stderr
    assert not db.exists() and not Path(f"{db}.wal").exists()
    # read ahead, then the warehouse cannot be opened (a directory): nothing is written
    args = ["ingest", "baci", str(f), "--hs-rev", "HS2017", "--reject-file", str(rejects)]
    failed = _transship("-w", str(tmp_path), *args)
    assert failed.returncode != 0
    assert not rejects.exists()


def test_compute_calls_arrow_as_pyarrow_compute_does() -> None:
    import pyarrow.compute as real

    s = pa.array([" 10 ", None, "b", "2020"])
    n = pa.array([1.5, None, float("nan"), -2.0])
    batch = pa.RecordBatch.from_arrays([s, n], ["s", "n"])
    mask = pa.array([True, False, None, True])
    pairs = [
        (pc.utf8_lpad(s, 6, "0"), real.utf8_lpad(s, 6, "0")),  # options by position
        (pc.is_in(s, value_set=pa.array(["b"])), real.is_in(s, value_set=pa.array(["b"]))),
        (pc.and_(mask, pc.is_valid(s)), real.and_(mask, real.is_valid(s))),  # a keyword name
        (pc.equal(s, "b"), real.equal(s, "b")),  # a Python value as a scalar
        (pc.if_else(mask, s, "x"), real.if_else(mask, s, "x")),
        (pc.fill_null(n[:2], 0), n[:2].fill_null(0)),
        (pc.fill_null(mask, False), mask.fill_null(False)),
        (pc.cast(pa.array(["1", "2"]), pa.int32()), pa.array(["1", "2"]).cast(pa.int32())),
        (pc.take(s, pa.array([3, 0])), s.take(pa.array([3, 0]))),
        (pc.filter(batch, mask), batch.filter(mask)),
        (pc.dictionary_encode(s), s.dictionary_encode()),
        (pc.is_null(n), n.is_null()),  # NaN is not null
        (pc.min_max(n), real.min_max(n)),
        (pc.replace_substring_regex(s, r"\d", "#"), real.replace_substring_regex(s, r"\d", "#")),
    ]
    for ours, theirs in pairs:
        assert ours.equals(theirs), (ours, theirs)
    with pytest.raises(pa.ArrowInvalid):
        pc.cast(pa.array(["x"]), pa.int32())
    with pytest.raises(AttributeError):
        pc.no_such_function  # noqa: B018


def test_compute_falls_back_to_pyarrow_compute_without_the_private_docs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # transship.compute reads a function's options class from a private attribute; a pyarrow
    # without it must still compute, through pyarrow.compute's own wrapper
    import pyarrow.compute as real

    from transship import compute

    class Bare:  # a registry function without `_doc`
        def __init__(self, func: Any) -> None:
            self.arity = func.arity

    got = compute._c.get_function
    monkeypatch.setattr(compute._c, "get_function", lambda name: Bare(got(name)))
    compute._wrapper.cache_clear()
    try:
        s = pa.array([" 10 ", None])
        assert compute.utf8_lpad(s, 6, "0").equals(real.utf8_lpad(s, 6, "0"))
        assert compute._wrapper("utf8_lpad") is real.utf8_lpad
    finally:
        compute._wrapper.cache_clear()


def test_closing_a_read_ahead_whose_read_is_stalled_returns() -> None:
    # a producer blocked inside a read (a pipe that stalls) cannot see the stop flag; close()
    # must still return, so that the error that made the caller close (a warehouse that failed
    # to open) reaches the user instead of a hang
    from transship import ahead

    release = threading.Event()

    def stalled() -> Iterator[int]:
        yield 1
        release.wait()  # the read that never ends (until the test lets it)
        yield 2

    p = Prefetch(stalled(), depth=1)
    assert next(p) == 1
    done = threading.Event()
    old = ahead.CLOSE_WAIT_S
    ahead.CLOSE_WAIT_S = 0.2
    try:
        closer = threading.Thread(target=lambda: (p.close(), done.set()), daemon=True)
        closer.start()
        closer.join(60)  # a generous bound: it hung for ever before
        assert done.is_set()
    finally:
        ahead.CLOSE_WAIT_S = old
        release.set()
