"""Re-ingest: an identical input is skipped, a changed one replaces its batch; the stored
schema (trade_rows + the trade_flows view) and the upgrade of a version 1 warehouse."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import write
from tests.test_ingest import BACI, rows
from transship.errors import InputError
from transship.schema import TRADE_FLOWS
from transship.sources.baci import baci_file
from transship.sources.records import RowsSource
from transship.warehouse import Warehouse
from transship.warehouse.lease import data_version


def test_identical_input_is_skipped_and_says_so(wh: Warehouse, tmp_path: Path) -> None:
    f = write(tmp_path / "BACI_HS22_Y2022_V202401.csv", BACI)
    first = wh.ingest(baci_file(f))
    before, version = rows(wh), data_version(wh.con)
    again = wh.ingest(baci_file(f))
    assert (again.status, again.rows_read, again.rows_written) == ("skipped", 0, 0)
    assert again.input_sha256 == first.input_sha256
    assert first.batch_id in again.notes[0] and "nothing read or written" in again.notes[0]
    assert rows(wh) == before
    assert data_version(wh.con) == version  # the dashboard's cube stays valid
    latest = wh.batches()[0]
    assert (latest["status"], latest["batch_id"]) == ("skipped", again.batch_id)
    # another revision is another input: read and written
    other = wh.ingest(baci_file(f, hs_rev="HS2017"))
    assert (other.status, other.rows_written) == ("ok", 4)
    assert wh.count() == 8


def test_forced_identical_input_is_read_again_and_replaces_its_batch(
    wh: Warehouse, tmp_path: Path
) -> None:
    f = write(tmp_path / "BACI_HS22_Y2022_V1.csv", BACI)
    first = wh.ingest(baci_file(f))
    skipped = wh.ingest(baci_file(f))
    # the note names the batch holding the input, its rows, and how to read it again
    assert f"batch {first.batch_id} (" in skipped.notes[0] and "4 rows)" in skipped.notes[0]
    assert "--force" in skipped.notes[0]
    before = rows(wh)
    forced = wh.ingest(baci_file(f), force=True)
    assert (forced.status, forced.rows_read, forced.rows_written) == ("ok", 4, 4)
    assert forced.rows_replaced == 4 and wh.count() == 4  # replaced, never duplicated
    assert forced.notes[0].startswith(f"read again (forced): batch {first.batch_id} (")
    assert f"replaces batch {first.batch_id} of the same input (4 rows)" in forced.notes
    assert [{k: v for k, v in r.items() if k != "batch_id"} for r in rows(wh)] == [
        {k: v for k, v in r.items() if k != "batch_id"} for r in before
    ]
    status = {b["batch_id"]: b["status"] for b in wh.batches()}
    assert status == {first.batch_id: "replaced", skipped.batch_id: "skipped",
                      forced.batch_id: "ok"}  # fmt: skip
    # the forced batch is the one a later identical input is skipped for
    again = wh.ingest(baci_file(f))
    assert again.status == "skipped" and forced.batch_id in again.notes[0]


def test_cli_skips_an_identical_file_and_force_reads_it_again(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from transship.cli import app

    f = write(tmp_path / "BACI_HS22_Y2022_V1.csv", BACI)
    args = ["-w", str(tmp_path / "w.duckdb"), "ingest", "baci", str(f)]
    runner = CliRunner()
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "skipped" in again.output and "holds this input" in again.output
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert "ingested" in forced.output and "read again (forced)" in forced.output
    with Warehouse(tmp_path / "w.duckdb", read_only=True) as w:
        assert w.count() == 4
        assert [b["status"] for b in w.batches()] == ["ok", "skipped", "replaced"]


def test_identical_input_whose_rows_were_replaced_is_read_again(
    wh: Warehouse, tmp_path: Path
) -> None:
    a = write(tmp_path / "BACI_HS22_Y2022_V1.csv", BACI)
    b = write(tmp_path / "BACI_HS22_Y2022_V2.csv", BACI.replace("1.5,0.25", "9,0.25"))
    wh.ingest(baci_file(a))
    wh.ingest(baci_file(b))  # replaces all four keys of a
    assert rows(wh)[0]["value_usd"] == pytest.approx(9000.0)
    back = wh.ingest(baci_file(a))
    assert (back.status, back.rows_written, back.rows_replaced) == ("ok", 4, 4)
    assert rows(wh)[0]["value_usd"] == pytest.approx(1500.0)


def test_changed_input_replaces_its_batch_whole(wh: Warehouse, tmp_path: Path) -> None:
    f = tmp_path / "BACI_HS22_Y2022_V202401.csv"
    first = wh.ingest(baci_file(write(f, BACI)))
    # the corrected file drops India's row and changes France's value
    fixed = "\n".join(
        line for line in BACI.replace("1.5,0.25", "2,0.25").splitlines() if ",699," not in line
    )
    second = wh.ingest(baci_file(write(f, fixed + "\n")))
    assert (second.rows_written, second.rows_replaced) == (3, 4)
    assert f"replaces batch {first.batch_id} of the same input (4 rows)" in second.notes
    got = rows(wh)
    assert [r["reporter"] for r in got] == ["FRA", "FRA", "USA"]  # no IND row left behind
    assert got[0]["value_usd"] == pytest.approx(2000.0)
    status = {b["batch_id"]: b["status"] for b in wh.batches()}
    assert status == {first.batch_id: "replaced", second.batch_id: "ok"}


def test_reject_file_asked_for_means_read_again(wh: Warehouse, tmp_path: Path) -> None:
    f = write(tmp_path / "BACI_HS22_Y2022_V1.csv", BACI)
    wh.ingest(baci_file(f))
    again = wh.ingest(baci_file(f, reject_file=tmp_path / "rejects.csv"))
    assert (again.status, again.rows_written, again.rows_replaced) == ("ok", 4, 4)
    assert wh.count() == 4


def test_a_rerun_with_another_encoding_is_read_again(wh: Warehouse, tmp_path: Path) -> None:
    """--encoding changes what is stored (m² read as latin-1 is mÂ²): the same file read with
    the right one replaces the wrong batch instead of being skipped as already held; the
    detected default (no --encoding) still skips a file read so before."""
    from transship.sources.csvfile import csv_file

    f = tmp_path / "t.csv"
    f.write_text("reporter,partner,flow,hs,period,value_usd,qty,qty_unit\n"
                 "TUR,RUS,export,854231,2023-01,100,5,m\u00b2\n", encoding="utf-8")  # fmt: skip

    def unit() -> object:
        return wh.con.execute("SELECT qty_unit FROM trade_flows").fetchall()

    wrong = wh.ingest(csv_file(f, source="csv", mapping=[], encoding="latin-1"))
    assert (wrong.status, unit()) == ("ok", [("m\u00c2\u00b2",)])
    fixed = wh.ingest(csv_file(f, source="csv", mapping=[], encoding="utf-8"))
    assert (fixed.status, fixed.rows_written, unit()) == ("ok", 1, [("m\u00b2",)])
    assert wh.ingest(csv_file(f, source="csv", mapping=[])).status == "ok"  # detected: read
    assert wh.ingest(csv_file(f, source="csv", mapping=[])).status == "skipped"
    assert wh.ingest(csv_file(f, source="csv", mapping=[], delimiter=",")).status == "ok"
    assert wh.count() == 1


def test_rows_of_another_source_in_a_batch_are_refused(wh: Warehouse) -> None:
    row = {"source": "b", "reporter": "FRA", "partner": "DEU", "flow": "export", "hs": "854231",
           "hs_rev": "HS2022", "period": date(2022, 1, 1), "freq": "A", "value_usd": 1.0,
           "net_kg": None, "qty": None, "qty_unit": None, "valuation": "FOB"}  # fmt: skip
    with pytest.raises(InputError, match="rows of another source"):
        wh.ingest(RowsSource("a", "x", [row, {**row, "hs": "854232"}], parameters={}))
    assert wh.count() == 0


def _stored(wh: Warehouse) -> tuple[int, int]:
    got = wh.con.execute(
        "SELECT (SELECT count(*) FROM trade_rows), (SELECT count(*) FROM trade_rows_narrow)"
    ).fetchone()
    assert got is not None
    return got


def test_rows_stored_without_per_batch_columns(wh: Warehouse, tmp_path: Path) -> None:
    result = wh.ingest(baci_file(write(tmp_path / "BACI_HS22_Y2022_V1.csv", BACI)))
    assert _stored(wh) == (0, 4)  # one flow, revision, freq and valuation; no quantity
    narrow = [r[0] for r in wh.con.execute("DESCRIBE trade_rows_narrow").fetchall()]
    assert narrow == ["batch", "reporter", "partner", "hs", "period", "value_usd", "net_kg"]
    view = [r[0] for r in wh.con.execute("DESCRIBE trade_flows").fetchall()]
    assert view == [c.name for c in TRADE_FLOWS]
    got = rows(wh)
    shown = {(r["source"], r["batch_id"], r["flow"], r["hs_rev"], r["freq"], r["valuation"])
             for r in got}  # fmt: skip
    assert shown == {("baci", result.batch_id, "export", "HS2022", "A", "FOB")}
    assert [r["qty"] for r in got] == [None] * 4


_ROW = {"source": "x", "reporter": "FRA", "partner": "DEU", "flow": "export", "hs": "854231",
        "hs_rev": "HS2022", "period": date(2022, 1, 1), "freq": "A", "value_usd": 1.0,
        "net_kg": None, "qty": None, "qty_unit": None, "valuation": "FOB"}  # fmt: skip


def _rows(name: str, *rows: dict[str, Any]) -> RowsSource:
    return RowsSource("x", name, [{**_ROW, **r} for r in rows], parameters={})


def test_keys_replaced_across_both_row_tables(wh: Warehouse) -> None:
    mixed = ({"value_usd": 1.0}, {"flow": "import", "valuation": "CIF", "value_usd": 2.0})
    wh.ingest(_rows("a", *mixed))  # two flows: every column stored
    assert _stored(wh) == (2, 0)
    second = wh.ingest(_rows("b", {"value_usd": 5.0}))
    assert _stored(wh) == (1, 1) and second.rows_replaced == 1
    assert {r["flow"]: r["value_usd"] for r in rows(wh)} == {"export": 5.0, "import": 2.0}
    third = wh.ingest(_rows("c", {"value_usd": 7.0, "qty": 3.0, "qty_unit": "kg"}, mixed[1]))
    assert (third.rows_replaced, _stored(wh)) == (2, (2, 0))  # the narrow row replaced too
    got = {r["flow"]: (r["value_usd"], r["qty"]) for r in rows(wh)}
    assert got == {"export": (7.0, 3.0), "import": (2.0, None)}
    with pytest.raises(InputError, match="appears 2 times"):  # checked in both tables
        wh.ingest(_rows("d", {"value_usd": 8.0}, {"value_usd": 9.0}))


def test_version_1_warehouse_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "v1.duckdb"
    Warehouse(path).close()  # the enums and the other tables, then made a version 1 file
    con = duckdb.connect(str(path))
    con.execute("DROP VIEW trade_flows")
    con.execute("DROP TABLE trade_rows")
    con.execute("DROP TABLE trade_rows_narrow")
    for c in ("batch_no", "flow", "hs_rev", "freq", "valuation"):
        con.execute(f"ALTER TABLE ingest_batches DROP COLUMN {c}")
    cols = ", ".join(f"{c.name} {c.sql_type}" for c in TRADE_FLOWS)
    con.execute(f"CREATE TABLE trade_flows ({cols})")
    con.execute("UPDATE transship_meta SET value = '1' WHERE key = 'schema_version'")
    for n, bid in enumerate(("baci-1", "baci-2")):
        con.execute(
            "INSERT INTO ingest_batches (batch_id, source, started, status) "
            "VALUES (?, 'baci', ?, 'ok')",
            [bid, f"2026-01-0{n + 1}"],
        )
        con.execute(
            "INSERT INTO trade_flows VALUES ('baci', 'FRA', 'DEU', 'export', ?, 'HS2022', "
            "'2022-01-01', 'A', ?, NULL, NULL, NULL, 'FOB', ?)",
            [f"85423{n}", 10.0 * (n + 1), bid],
        )
    before = con.execute("SELECT * FROM trade_flows ORDER BY hs").fetchall()
    con.close()
    with Warehouse(path, read_only=True) as ro:  # read as it is, not upgraded
        assert ro.con.execute("SELECT * FROM trade_flows ORDER BY hs").fetchall() == before
    with Warehouse(path) as w:
        assert w.con.execute("SELECT * FROM trade_flows ORDER BY hs").fetchall() == before
        got = w.con.execute("SELECT batch, hs FROM trade_rows ORDER BY hs").fetchall()
        assert got == [(1, "854230"), (2, "854231")]
        meta = w.con.execute("SELECT value FROM transship_meta WHERE key = 'schema_version'")
        assert meta.fetchone() == ("2",)
