"""A national source in one module: TurkStat raw web tables (sources/turkstat.py), fed through
the connector registry (`transship ingest turkstat` is generated from it). The fixture is
written here in the format that module documents, in Windows-1254 as TurkStat exports it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import write
from transship.cli import app
from transship.errors import InputError
from transship.sources.registry import connectors
from transship.sources.turkstat import turkstat_file
from transship.warehouse import Warehouse

TABLE = """Dönem;Ticaret Türü;Ülke;GTİP;Kg;Miktar;Ölçü Birimi;Dolar
2023/01;İhracat;KZ;8542.31.00.00.11;1.250,5;3.000;Adet;1.564.432,75
2023/01;İhracat;KZ;8542.31.00.00.19;10;2;Adet;1.200
2023/01;İthalat;DE;854232000000;;;;7,5
2023/02;İhracat;Russia;880730000000;5;1;Adet;61.000.000
"""


def test_turkstat_table_sums_gtip_to_hs6(wh: Warehouse, tmp_path: Path) -> None:
    f = write(tmp_path / "tuik.csv", TABLE, encoding="cp1254")
    result = wh.ingest(turkstat_file(f, keep_national=True))
    got = wh.con.execute(
        "SELECT reporter, partner, flow, hs, strftime(period, '%Y-%m'), value_usd, net_kg, qty, "
        "qty_unit, valuation FROM trade_flows ORDER BY period, flow, hs"
    ).fetchall()
    assert got == [
        ("TUR", "KAZ", "export", "854231", "2023-01", 1564432.75 + 1200, 1260.5, 3002.0, "Adet",
         "FOB"),
        ("TUR", "DEU", "import", "854232", "2023-01", 7.5, None, None, None, "CIF"),
        ("TUR", "RUS", "export", "880730", "2023-02", 61e6, 5.0, 1.0, "Adet", "FOB"),
    ]  # fmt: skip
    assert result.notes[0] == "4 national codes (7-12 digits) summed into 3 HS6 rows"
    assert wh.con.execute("SELECT count(*) FROM hs_national").fetchone() == (4,)


def test_turkish_separators_are_checked(wh: Warehouse, tmp_path: Path) -> None:
    bad = TABLE.replace("1.564.432,75", "1.564.43,75")  # a group of two digits
    f = write(tmp_path / "tuik.csv", bad, encoding="cp1254")
    with pytest.raises(InputError) as info:
        wh.ingest(turkstat_file(f))
    assert (info.value.line, info.value.column) == (2, "Dolar")
    assert wh.count() == 0


def test_registry_generates_the_command_and_lists_the_source(tmp_path: Path) -> None:
    c = connectors()["turkstat"]
    assert c.capabilities == {"sums_to_hs6"} and c.command == "ingest turkstat"
    assert {"baci", "csv", "comext", "comtrade", "synthetic"} <= set(connectors())
    f = write(tmp_path / "tuik.csv", TABLE, encoding="cp1254")
    w = tmp_path / "w.duckdb"
    runner = CliRunner()
    res = runner.invoke(app, ["-w", str(w), "ingest", "turkstat", str(f), "--keep-national"])
    assert res.exit_code == 0, res.output
    # a generated command skips the same file and takes --force like the built-in ones
    res = runner.invoke(app, ["-w", str(w), "ingest", "turkstat", str(f), "--keep-national"])
    assert res.exit_code == 0 and "skipped" in res.output, res.output
    args = ["-w", str(w), "ingest", "turkstat", str(f), "--keep-national", "--force"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0 and "read again (forced)" in res.output, res.output
    res = runner.invoke(app, ["-w", str(w), "sources", "--format", "json"])
    assert res.exit_code == 0, res.output
    import json

    rows = {r["source"]: r for r in json.loads(res.stdout)}
    assert rows["turkstat"]["rows"] == 3 and rows["turkstat"]["capabilities"] == "sums_to_hs6"
