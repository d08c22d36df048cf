"""The fast ingest path keeps the careful one's results: per-value conversion, row-group
batches, SQL constants, keys proven unique by order, the ingest memory limit, paced reading."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from tests.conftest import write
from transship.errors import InputError
from transship.sources import convert
from transship.sources.baci import baci_file
from transship.sources.csvfile import csv_file
from transship.warehouse import Warehouse
from transship.warehouse.append import ROW_GROUP_ROWS, constant_columns, row_groups

ALL = "SELECT * EXCLUDE (batch_id) FROM trade_flows ORDER BY ALL"


def _baci(rows: int, *, year: int = 2022, codes: tuple[int, ...] = (251, 643, 792)) -> str:
    """A sorted BACI-shaped file: exporters `codes`, 1,000 products per exporter-importer."""
    from transship import reference

    importers = sorted(int(c) for c in reference.country_lookup("baci") if c.isdigit())
    lines = ["t,i,j,k,v,q"]
    pairs = ((i, j) for i in codes for j in importers if j not in (i, 280))
    for i, j in pairs:
        for k in range(1000):
            n = len(lines) - 1
            if n == rows:
                return "\n".join(lines) + "\n"
            q = "NA" if n % 10 == 0 else f"{n % 97 / 10}"
            lines.append(f"{year},{i},{j},{100000 + k},{n % 1000 / 7:.3f},{q}")
    raise ValueError(rows)


def test_per_value_conversion_equals_row_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every field converted per distinct value gives the rows converting each row gives."""
    shapes = [  # the same rows in 50 years, so that every key is one row
        ("TUR", "Russia", "X", "8542.31", "{y}-01", '"1,200"', "kg"),
        ("792", "RUS", "M", "854231", "{y}02", " 15 ", ""),
        ("TR", "KAZ", "export", "854232", "{y}/03", "0", "u"),
        ("Türkiye", "643", "import", "85423100", "{y}", "7", "kg"),
    ]
    text = "Reporter,Partner,Flow,Code,Period,Value,Unit\n" + "".join(
        ",".join(v.format(y=y) for v in shape) + "\n" for y in range(1971, 2021) for shape in shapes
    )
    f = write(tmp_path / "g.csv", text)
    mapping = ["Reporter=reporter", "Partner=partner", "Flow=flow", "Code=hs",
               "Period=period", "Value=value_usd", "Unit=qty_unit"]  # fmt: skip

    def load(name: str) -> list[tuple[object, ...]]:
        with Warehouse(tmp_path / f"{name}.duckdb") as w:
            w.ingest(csv_file(f, source="x", mapping=mapping, thousands=",", keep_national=True))
            return w.con.execute(ALL).fetchall()

    per_value = load("per_value")
    monkeypatch.setattr(convert, "_FEW_DISTINCT", 10**9)  # every column row by row
    assert load("row_by_row") == per_value and len(per_value) > 0


@pytest.mark.parametrize(
    ("bad", "column", "fragment"),
    [("2022,999,842,100001,1,1", "i", "unknown country"),
     ("2022,251,842,1000011,1,1", "k", "not 6 digits"),
     ("20x2,251,842,100001,1,1", "t", "not a period"),
     ("2022,251,842,100001,1,NaNa", "q", "not a number")],
)  # fmt: skip
def test_per_value_checks_name_the_row(
    wh: Warehouse, tmp_path: Path, bad: str, column: str, fragment: str
) -> None:
    """A bad value among repeated ones is reported at its own line, as before."""
    lines = _baci(3000).splitlines()
    lines[2500] = bad  # line 2501 of the file
    f = write(tmp_path / "BACI_HS22_Y2022_V1.csv", "\n".join(lines) + "\n")
    src = baci_file(f)
    src.block_bytes = 16 * 1024  # several batches
    with pytest.raises(InputError) as info:
        wh.ingest(src)
    assert (info.value.line, info.value.column) == (2501, column)
    assert fragment in str(info.value)
    assert wh.count() == 0


def _recut(sizes: list[int], rows: int) -> None:
    batches, n = [], 0
    for k in sizes:
        values = [str(x % 7) for x in range(n, n + k)]
        batches.append(pa.record_batch(
            [pa.array(range(n, n + k), pa.int64()),
             pa.array(values, pa.string()).dictionary_encode()],
            names=["a", "b"]))  # fmt: skip
        n += k
    out = list(row_groups(iter(batches), rows))
    assert [x for b in out for x in b.column(0).to_pylist()] == list(range(n))
    assert [x for b in out for x in b.column(1).to_pylist()] == [str(x % 7) for x in range(n)]
    assert all(b.num_rows == rows for b in out[:-1])
    assert sum(b.num_rows for b in out) == n


def test_row_groups_recut_batches_in_order() -> None:
    # the cutting does not depend on the group size: 50 random cases at 100 rows a group,
    # and one at DuckDB's size
    rng = random.Random(7)
    pool = [0, 1, 5, 99, 100, 101, 251]
    for _ in range(50):
        _recut([rng.choice(pool) for _ in range(rng.randint(0, 5))], 100)
    _recut([ROW_GROUP_ROWS - 1, 2, ROW_GROUP_ROWS + 1, 0, 5], ROW_GROUP_ROWS)


def test_constant_columns() -> None:
    one = pa.DictionaryArray.from_arrays(pa.array([0, 0], pa.int32()), pa.array(["baci"]))
    two = pa.array(["a", "b"]).dictionary_encode()
    b = pa.record_batch([one, two, pa.nulls(2, pa.float64()), pa.array([1.0, 2.0])],
                        names=["source", "reporter", "qty", "value_usd"])  # fmt: skip
    assert constant_columns(b) == {"source": "baci", "qty": None}


def test_constants_changing_between_batches(wh: Warehouse, tmp_path: Path) -> None:
    """A column constant within each batch but not across them (flow, hs_rev by year) is
    written right: each run of alike batches is its own statement."""
    rows = ["Reporter,Partner,Flow,Code,Period,Value"]
    rows += [f"TUR,RUS,export,{100000 + n},2016,1" for n in range(2000)]
    rows += [f"TUR,RUS,import,{100000 + n},2017,2" for n in range(2000)]
    rows += [f"TUR,RUS,export,{100000 + n},2022,3" for n in range(2000)]
    f = write(tmp_path / "g.csv", "\n".join(rows) + "\n")
    mapping = ["Reporter=reporter", "Partner=partner", "Flow=flow", "Code=hs",
               "Period=period", "Value=value_usd"]  # fmt: skip
    src = csv_file(f, source="x", mapping=mapping)
    src.block_bytes = 16 * 1024
    result = wh.ingest(src)
    assert result.rows_written == 6000
    got = wh.con.execute(
        "SELECT year(period), flow::VARCHAR, hs_rev::VARCHAR, valuation::VARCHAR, "
        "count(*), sum(value_usd) FROM trade_flows GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert got == [
        (2016, "export", "HS2012", "FOB", 2000, 2000.0),
        (2017, "import", "HS2017", "CIF", 2000, 4000.0),
        (2022, "export", "HS2022", "FOB", 2000, 6000.0),
    ]


def test_order_proves_keys_unique_with_one_of_two_codes(wh: Warehouse, tmp_path: Path) -> None:
    """276 and 280 both name DEU: a sorted file using only 276 (as BACI does) is still proven
    unique while reading; one using both is checked by the warehouse."""
    f = write(tmp_path / "BACI_HS17_Y2020_V1.csv", _baci(3000, year=2020, codes=(251, 276)))
    src = baci_file(f)
    wh.ingest(src)
    assert src.keys_unique and wh.count() == 3000
    both = write(tmp_path / "BACI_HS17_Y2021_V1.csv",
                 "t,i,j,k,v,q\n2021,276,643,854231,1,1\n2021,280,792,854231,2,1\n")  # fmt: skip
    src = baci_file(both)
    wh.ingest(src)  # no key twice, but only the warehouse's check can tell
    assert not src.keys_unique and wh.count() == 3002


def test_zip_members_in_order_are_proven_unique(wh: Warehouse, tmp_path: Path) -> None:
    z = tmp_path / "BACI_HS17_V202401.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for year in (2019, 2020):
            zf.writestr(f"BACI_HS17_Y{year}_V202401.csv", _baci(500, year=year))
    src = baci_file(z)
    assert wh.ingest(src).rows_written == 1000
    assert src.keys_unique


def test_ingest_memory_limit_is_set_and_restored(tmp_path: Path) -> None:
    f = write(tmp_path / "BACI_HS22_Y2022_V1.csv", _baci(100))
    with Warehouse(tmp_path / "w.duckdb", memory_limit="1GB", ingest_memory_limit="64MB") as w:
        cur = w.con.cursor()  # the limit is the database's: another connection sees it
        src = baci_file(f)
        during: list[object] = []
        read = src.batches

        def batches() -> Iterator[pa.RecordBatch]:
            during.append(cur.execute("SELECT current_setting('memory_limit')").fetchone())
            yield from read()

        src.batches = batches  # type: ignore[method-assign]
        before = w.con.execute("SELECT current_setting('memory_limit')").fetchone()
        w.ingest(src)
        after = w.con.execute("SELECT current_setting('memory_limit')").fetchone()
    assert before == after == ("953.6 MiB",)  # 1GB
    assert during == [("61.0 MiB",)]  # 64MB


def test_paced_reader_stays_a_few_blocks_ahead(tmp_path: Path) -> None:
    """pyarrow would read up to 32 blocks ahead of its parser; the reader keeps it to ~3."""
    from transship.sources import tabular

    reads: list[int] = []
    original = tabular._CountingReader.readinto

    def counting(self: tabular._CountingReader, buffer: object) -> int:
        n = original(self, buffer)
        reads.append(self.count)
        return n

    f = write(tmp_path / "BACI_HS22_Y2022_V1.csv", _baci(200_000))
    src = baci_file(f)
    src.block_bytes = 64 * 1024
    tabular._CountingReader.readinto = counting  # type: ignore[method-assign]
    try:
        batches = src.batches()
        next(batches)
        ahead = reads[-1]
        rows = 0
        for b in batches:
            rows += b.num_rows
    finally:
        tabular._CountingReader.readinto = original  # type: ignore[method-assign]
    assert ahead <= 4 * src.block_bytes + (1 << 20)  # 3 blocks ahead + one buffered read
    assert f.stat().st_size > 2 * (32 * src.block_bytes) and src.rows_read == 200_000


def test_paced_reader_wakes_on_unbound(monkeypatch: pytest.MonkeyPatch) -> None:
    """A read waiting for the parser reads at once when the reader is unbound (the wait's
    condition took None for 0 bytes allowed, so the read sat out its whole time-out)."""
    import io
    import threading

    from transship.sources.streams import _CountingReader

    monkeypatch.setattr(_CountingReader, "_WAIT_S", 600.0)  # a missed wake-up shows as a hang
    reader = _CountingReader(io.BytesIO(b"x" * 100), None, ahead=0)
    got: list[int] = []
    t = threading.Thread(target=lambda: got.append(reader.readinto(bytearray(10))), daemon=True)
    t.start()
    t.join(0.2)
    assert not got  # it waits: nothing may be read ahead yet
    reader.unbound()
    t.join(30)
    assert got == [10] and reader.count == 10


def test_periods_dictionary_with_null_indices_convert_as_plain_values() -> None:
    values = ["2023-01", None, "2023-02", "2023-01"] * 30
    indices = pa.array([0, None, 1, 0] * 30, pa.int32())
    dict_in = pa.DictionaryArray.from_arrays(indices, pa.array(["2023-01", "2023-02"]))
    got: list[convert._Check] = []
    want: list[convert._Check] = []
    dates, freq, years = convert._period_per_value(dict_in, None, 120, "period", "auto", got)
    d2, f2, y2 = convert._period(pa.array(values), None, 120, "period", "auto", want)
    assert dates.to_pylist() == d2.to_pylist()
    assert freq.to_pylist() == f2.to_pylist()
    assert years.tolist() == y2.tolist()
    assert [c.bad.tolist() for c in got] == [c.bad.tolist() for c in want]


def _both_paths(
    wh: Warehouse, tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch, **kw: object
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], list[object]]:
    """The same BACI file read typed-first (falling back) and read as text only: the rows
    stored, and each read's counts, sha256, unique-key proof and reject file."""
    from transship.sources.tabular import TabularFile

    f = write(tmp_path / "BACI_HS22_Y2022_V1.csv", text)
    seen: list[object] = []
    rows = []
    for name in ("typed", "text"):
        if name == "text":
            monkeypatch.setattr(TabularFile, "_fast_types", lambda self: None)
        rej = tmp_path / f"rejects_{name}.csv" if kw.get("rejects") else None
        src = baci_file(f, reject_file=rej)
        src.block_bytes = 16 * 1024  # several batches
        with Warehouse(tmp_path / f"{name}.duckdb") as w:
            r = w.ingest(src)
            rows.append(w.con.execute(ALL).fetchall())
        seen.append((r.rows_read, r.rows_written, r.rows_rejected, src.sha256, src.keys_unique,
                     rej.read_text() if rej else None))  # fmt: skip
    return rows[0], rows[1], seen


def test_typed_parse_falls_back_to_text_keeping_every_row(
    wh: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quantity the typed parse cannot read (' 1.5 ', which the text path trims) in a late
    block: the member is read again as text past the rows already stored, none twice."""
    import hashlib

    lines = _baci(3000).splitlines()
    t, i, j, k, v, _ = lines[2500].split(",")
    lines[2500] = ",".join((t, i, j, k, v, " 1.5 "))
    text = "\n".join(lines) + "\n"
    typed, plain, (a, b) = _both_paths(wh, tmp_path, text, monkeypatch)
    assert typed == plain and len(typed) == 3000
    assert a == b and a[:3] == (3000, 3000, 0)  # type: ignore[index]
    assert a[3] == hashlib.sha256(text.encode()).hexdigest() and a[4]  # type: ignore[index]
    kept = [r for r in typed if r[4] == k and r[9] == 1500.0]
    assert len(kept) == 1  # 1.5 t = 1,500 kg, stored once


def test_fallback_rejects_each_bad_row_once(
    wh: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unsplittable line in the first block (reported by the typed pass) and an unknown
    country in a late one (found by the text pass): each rejected once, as the text path does."""
    lines = _baci(3000).splitlines()
    lines[2] = "2022,251,842"  # line 3: three fields
    lines[2500] = lines[2500].replace(",251,", ",999,", 1)  # line 2501
    typed, plain, (a, b) = _both_paths(
        wh, tmp_path, "\n".join(lines) + "\n", monkeypatch, rejects=True
    )
    assert typed == plain and len(typed) == 2998
    assert a == b and a[:3] == (3000, 2998, 2)  # type: ignore[index]
    report = a[5].splitlines()  # type: ignore[index]
    assert [r.split(",")[:2] for r in report[1:]] == [["3", ""], ["2501", "i"]]


def test_parse_ahead_hands_skipped_rows_over_with_their_block(
    wh: Warehouse, tmp_path: Path
) -> None:
    """Skipped rows are handed over with the block they were found in: unsplittable lines in
    many blocks, and a bad cell after them, keep their own line numbers and file order."""
    lines = ["t,i,j,k,v,q"] + [f"2022,251,643,{100000 + i},1,1" for i in range(30000)]
    short = [3, 9000, 9001, 21000, 30001]  # file lines (the header is line 1)
    for n in short:
        lines[n - 1] = "2022,251,643"
    lines[25001] = "2022,251,643,12345678,1,1"  # line 25002: a 8-digit code
    f = write(tmp_path / "BACI_HS22_Y2022_V1.csv", "\n".join(lines) + "\n")
    rej = tmp_path / "rejects.csv"
    src = baci_file(f, reject_file=rej)
    src.block_bytes = 64 * 1024  # many blocks for a small file
    r = wh.ingest(src)
    assert (r.rows_read, r.rows_rejected) == (30000, 6)
    got = [row.split(",")[:2] for row in rej.read_text().splitlines()[1:]]
    assert got == [[str(n), ""] for n in short[:4]] + [["25002", "k"], ["30001", ""]]
    src = baci_file(f)
    src.block_bytes = 64 * 1024
    with Warehouse(tmp_path / "other.duckdb") as other, pytest.raises(InputError) as info:
        other.ingest(src)
    assert info.value.line == 3


@pytest.mark.parametrize("block_kb", [64, 4096])
def test_bad_cells_and_unsplittable_lines_of_one_block_in_file_order(
    wh: Warehouse, tmp_path: Path, block_kb: int
) -> None:
    """A block's bad cells (the converter's) and its unsplittable lines (the parser's) are
    found apart: the reject file lists them in line order, and without one the error names
    the first (line 3's bad code, not line 25500's short line after it)."""
    lines = ["t,i,j,k,v,q"] + [f"2022,251,643,{100000 + i},1,1" for i in range(30000)]
    for n in (25500, 27000):
        lines[n - 1] = "2022,251,643"
    for n in (3, 25002):
        lines[n - 1] = "2022,251,643,12345678,1,1"
    f = write(tmp_path / "BACI_HS22_Y2022_V1.csv", "\n".join(lines) + "\n")
    rej = tmp_path / "rejects.csv"
    src = baci_file(f, reject_file=rej)
    src.block_bytes = block_kb * 1024
    r = wh.ingest(src)
    assert (r.rows_read, r.rows_rejected) == (30000, 4)
    got = [row.split(",")[:2] for row in rej.read_text().splitlines()[1:]]
    assert got == [["3", "k"], ["25002", "k"], ["25500", ""], ["27000", ""]]
    src = baci_file(f)
    src.block_bytes = block_kb * 1024
    with Warehouse(tmp_path / "other.duckdb") as other, pytest.raises(InputError) as info:
        other.ingest(src)
    assert (info.value.line, info.value.column) == (3, "k")


def test_cli_ingest_runs_without_pandas(tmp_path: Path) -> None:
    """A `transship ingest` process never imports pandas (pyarrow would, on its first
    conversion, only to look for pandas objects) and asks OpenBLAS for one thread; pyarrow's
    own pandas functions still work after it. In a fresh interpreter: `main()` only, never
    the test process."""
    f = write(tmp_path / "BACI_HS17_Y2020_V202401.csv", "t,i,j,k,v,q\n2020,4,8,10121,1.5,NA\n")
    code = (
        "import sys\nfrom transship.cli import main\n"
        f"sys.argv = ['transship', '-w', {str(tmp_path / 'w.duckdb')!r}, 'ingest', 'baci', "
        f"{str(f)!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "import os\nprint('PANDAS', 'pandas' in sys.modules, os.environ['OPENBLAS_NUM_THREADS'])\n"
        "import pyarrow as pa\nprint('FRAME', pa.table({'a': [1]}).to_pandas().shape)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert "PANDAS False 1" in out.stdout
    assert "FRAME (1, 1)" in out.stdout
