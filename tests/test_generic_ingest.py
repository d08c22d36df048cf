# ruff: noqa: RUF001  (Cyrillic headers and foreign digits are the point of these tests)
"""Generic file ingest: national codes summed to HS6, CSV/TSV/Parquet/xlsx, auto-mapped columns,
value maps, separators, country names, and hostile input (non-finite values, foreign digits,
cut archives). The real-data check builds an 8-digit national file from Eurostat's CN8 exports
(../shared/data) and compares with an independent DuckDB sum of the codes' first six digits.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write
from transship import reference
from transship.errors import InputError, UsageError
from transship.sources.csvfile import csv_file
from transship.warehouse import Warehouse

FILE = "eurostat-eu27-cn8-exports-2020-2022/eu27_exports_cn8_monthly_2020_2022.csv.gz"


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Any]:
    """A real CN8 file (EU exports to Kazakhstan and Armenia) as CSV and as Parquet."""
    from tests.conftest import SHARED

    path = SHARED / FILE
    if not path.exists():
        pytest.skip(f"real public data not found at {path} (../shared/data)")
    import duckdb

    d = tmp_path_factory.mktemp("cn8")
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE cn8 AS SELECT split_part(reporter, ' (', 1) AS reporter, "
        "split_part(partner, ' (', 1) AS partner, 'export' AS flow, product_code AS hs, "
        "period, value_eur::DOUBLE AS value_usd FROM read_csv(?, all_varchar = true) "
        "WHERE length(product_code) = 8 AND (partner LIKE 'Kazakhstan%' OR partner = 'Armenia')",
        [str(path)],
    )
    con.execute(f"COPY cn8 TO '{d / 'cn8.csv'}' (HEADER)")
    con.execute(f"COPY cn8 TO '{d / 'cn8.parquet'}' (FORMAT parquet)")
    # the independent sum: the first six digits of each code, names resolved apart
    want = con.execute(
        "SELECT reporter, partner, substr(hs, 1, 6) AS hs6, period, sum(value_usd), count(*) "
        "FROM cn8 GROUP BY ALL"
    ).fetchall()
    con.close()
    return d / "cn8.csv", d / "cn8.parquet", want


def _sums(wh: Warehouse) -> dict[tuple[str, str, str, str], float]:
    got = wh.con.execute(
        "SELECT reporter, partner, hs, strftime(period, '%Y-%m'), value_usd FROM trade_flows"
    ).fetchall()
    return {(r, p, h, per): v for r, p, h, per, v in got}


@pytest.mark.slow
def test_real_cn8_file_as_csv_and_parquet_sums_to_hs6(national: Any, tmp_path: Path) -> None:
    csv_path, pq_path, want = national
    iso = {n: reference.country(n).iso3 for row in want for n in row[:2]}
    expected = {(iso[r], iso[p], h, per): v for r, p, h, per, v, _ in want}
    n_codes = sum(n for *_, n in want)
    results = []
    for path in (csv_path, pq_path):
        with Warehouse(tmp_path / f"{path.suffix[1:]}.duckdb") as wh:
            # every column is named like its field: no --map needed
            result = wh.ingest(csv_file(path, source="comext-cn8", mapping=[]))
            got = _sums(wh)
            assert got.keys() == expected.keys()
            assert all(got[k] == pytest.approx(v, rel=1e-12) for k, v in expected.items())
            results.append(result)
            assert result.rows_written == len(expected)
            assert result.notes[0] == (
                f"{n_codes:,} national codes (7-12 digits) summed into {len(expected):,} HS6 rows"
            )
            params = wh.batches()[0]["parameters"]
            assert "summed into" in params
    assert results[0].rows_read == results[1].rows_read == n_codes


GTIP = """Reporter;Partner;Flow;GTIP;Month;Value
Turkey;Kazakhstan;IH;854231000011;2023-01;1.564.432,50
Turkey;Kazakhstan;IH;854231000019;2023-01;1.200
Turkey;Kazakhstan;IH;8542.32.00.00.00;2023-01;7
Türkiye;Russia;IH;854231000011;2023-02;0,5
"""


def test_national_codes_separators_names_and_value_maps(wh: Warehouse, tmp_path: Path) -> None:
    f = write(tmp_path / "gtip.csv", GTIP)
    src = csv_file(f, source="turkstat", mapping=["GTIP=hs", "Month=period", "Value=value_usd"],
                   value_maps=["flow:IH=export"], thousands=".", decimal=",",
                   keep_national=True)  # fmt: skip
    result = wh.ingest(src)
    got = _sums(wh)
    assert got == {
        ("TUR", "KAZ", "854231", "2023-01"): 1564432.5 + 1200,
        ("TUR", "KAZ", "854232", "2023-01"): 7.0,
        ("TUR", "RUS", "854231", "2023-02"): 0.5,
    }
    assert result.notes[0] == "4 national codes (7-12 digits) summed into 3 HS6 rows"
    detail = wh.con.execute(
        "SELECT hs_national, value_usd FROM hs_national ORDER BY hs_national, period"
    ).fetchall()
    assert detail == [("854231000011", 1564432.5), ("854231000011", 0.5),
                      ("854231000019", 1200.0), ("854232000000", 7.0)]  # fmt: skip
    # re-ingesting the same keys replaces trade_flows rows and their detail
    wh.ingest(csv_file(f, source="turkstat", mapping=["GTIP=hs", "Month=period",
                       "Value=value_usd"], value_maps=["flow:IH=export"], thousands=".",
                       decimal=",", keep_national=True))  # fmt: skip
    assert wh.count() == 3
    assert wh.con.execute("SELECT count(*) FROM hs_national").fetchone() == (4,)


def test_explicit_map_wins_over_same_named_column(wh: Warehouse, tmp_path: Path) -> None:
    f = write(
        tmp_path / "g.csv",
        "reporter,partner,flow,hs,period,value_usd,usd\nTUR,RUS,export,854231,2023-01,1,99\n",
    )
    wh.ingest(csv_file(f, source="x", mapping=["usd=value_usd"]))
    assert wh.con.execute("SELECT value_usd FROM trade_flows").fetchone() == (99.0,)


def test_a_files_own_hs6_row_is_used_instead_of_its_subcodes(wh: Warehouse, tmp_path: Path) -> None:
    f = write(
        tmp_path / "g.csv",
        "reporter,partner,flow,hs,period,value_usd\n"
        "TUR,RUS,export,854231,2023-01,10\nTUR,RUS,export,85423100,2023-01,4\n"
        "TUR,RUS,export,85423190,2023-01,5\n",
    )
    result = wh.ingest(csv_file(f, source="x", mapping=[]))
    assert wh.con.execute("SELECT value_usd FROM trade_flows").fetchone() == (10.0,)
    assert result.notes == [
        "2 national codes left out: their HS6 row in the file is the total (used instead, "
        "not added)"
    ]


def test_yaml_mapping_file(wh: Warehouse, tmp_path: Path) -> None:
    f = write(tmp_path / "kz.tsv", "Страна\tПартнер\tНаправление\tТН ВЭД\tПериод\tСтоимость\n"
              "KZ\tCN\tИМ\t8542310000\t2023-03\t12\n")  # fmt: skip
    m = write(tmp_path / "m.yaml", "map:\n  Страна: reporter\n  Партнер: partner\n"
              "  Направление: flow\n  ТН ВЭД: hs\n  Период: period\n  Стоимость: value_usd\n"
              "values:\n  flow:\n    ИМ: import\n")  # fmt: skip
    wh.ingest(csv_file(f, source="kz", mapping=[], mapping_file=m))
    row = wh.con.execute("SELECT reporter, partner, flow, hs, valuation FROM trade_flows")
    assert row.fetchone() == ("KAZ", "CHN", "import", "854231", "CIF")
    bad = write(tmp_path / "bad.yaml", "values:\n  flux: {a: b}\n")
    with pytest.raises(InputError, match="flux"):
        csv_file(f, source="kz", mapping=[], mapping_file=bad)


def test_xlsx_through_calamine(wh: Warehouse, tmp_path: Path) -> None:
    import openpyxl  # writes the fixture only; reading is python-calamine

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["reporter", "partner", "flow", "hs", "period", "value_usd"])
    ws.append(["Turkey", "Kazakhstan", "export", 854231000011, "2023-01", 61_000_000.0])
    ws.append(["Turkey", "Kazakhstan", "export", "854232000000", "2023-01", 5])
    ws.append(["Turkey", "Narnia", "export", "854232000000", "2023-02", 5])
    wb.save(tmp_path / "t.xlsx")
    with pytest.raises(InputError) as info:
        wh.ingest(csv_file(tmp_path / "t.xlsx", source="x", mapping=[]))
    assert (info.value.line, info.value.column) == (4, "partner")
    assert "unknown country code or name" in str(info.value)
    ws.delete_rows(4)
    wb.save(tmp_path / "t.xlsx")
    wh.ingest(csv_file(tmp_path / "t.xlsx", source="x", mapping=[]))
    assert _sums(wh) == {("TUR", "KAZ", "854231", "2023-01"): 61e6,
                         ("TUR", "KAZ", "854232", "2023-01"): 5.0}  # fmt: skip


@pytest.mark.parametrize(
    ("row", "scale", "column", "reason"),
    [
        ("TUR,RUS,export,854231,2023-01,1e308", 1000.0, "value_usd", "not a finite number"),
        ("TUR,RUS,export,854231,2023-01,inf", 1.0, "value_usd", "not a finite number"),
        ("TUR,RUS,export,٨٥٤٢٣١,2023-01,1", 1.0, "hs", "non-ASCII digits"),
        ("TUR,RUS,export,８５４２３１,2023-01,1", 1.0, "hs", "non-ASCII digits"),
        ("TUR,RUS,export,85423,2023-01,1", 1.0, "hs", "not 6-12 digits"),
        ('TUR,RUS,export,854231,2023-01,"1,2,3"', 1.0, "value_usd", "thousands separator"),
    ],
)
def test_hostile_values_name_file_line_column(
    wh: Warehouse, tmp_path: Path, row: str, scale: float, column: str, reason: str
) -> None:
    f = write(tmp_path / "g.csv", "reporter,partner,flow,hs,period,value_usd\n"
              "TUR,RUS,export,854232,2023-01,1\n" + row + "\n")  # fmt: skip
    with pytest.raises(InputError) as info:
        wh.ingest(csv_file(f, source="x", mapping=[], value_scale=scale, thousands=","))
    err = info.value
    assert (err.file, err.line, err.column) == (str(f), 3, column)
    assert reason in err.reason
    assert wh.count() == 0


def test_truncated_zip_is_refused_not_half_read(wh: Warehouse, tmp_path: Path) -> None:
    body = (
        "reporter,partner,flow,hs,period,value_usd\n"
        + "".join(f"TUR,RUS,export,{854231 + i % 3},2023-{1 + i % 12:02d},{i}\n" for i in range(3))
        + "".join(f"TUR,KAZ,export,8542{i:04d},2022-01,1\n" for i in range(20000))
    )
    z = tmp_path / "t.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("t.csv", body)
    data = z.read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: len(data) // 2])  # central directory gone
    with pytest.raises(InputError, match="truncated or corrupt"):
        csv_file(cut, source="x", mapping=[])
    # a member whose compressed data stops early (directory kept, data cut) is refused too
    with zipfile.ZipFile(z) as zf:
        info = zf.getinfo("t.csv")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    broken = data[: start + info.compress_size // 2] + b"\0" * (info.compress_size // 2)
    broken += data[start + info.compress_size :]
    (tmp_path / "bad.zip").write_bytes(broken)
    with pytest.raises(InputError, match="truncated or corrupt"):
        wh.ingest(csv_file(tmp_path / "bad.zip", source="x", mapping=[]))
    assert wh.count() == 0 and all(b["status"] == "failed" for b in wh.batches())


def test_usage_errors_for_the_new_options(tmp_path: Path) -> None:
    f = write(tmp_path / "g.csv", "reporter,partner,flow,hs,period,value_usd\n")
    with pytest.raises(UsageError, match="FIELD:VALUE=CANONICAL"):
        csv_file(f, source="x", mapping=[], value_maps=["flow=export"])
    with pytest.raises(UsageError, match="--thousands and --decimal"):
        csv_file(f, source="x", mapping=[], thousands=",", decimal=",")
    with pytest.raises(UsageError, match="--input-format 'json'"):
        csv_file(f, source="x", mapping=[], input_format="json")


def test_parquet_reject_file_is_written(wh: Warehouse, tmp_path: Path) -> None:
    """A Parquet (or spreadsheet) input's rejected rows reach the reject file: the read used
    to end before it was marked complete, so the file was discarded."""
    import csv

    import pyarrow as pa
    import pyarrow.parquet as pq

    f = tmp_path / "x.parquet"
    pq.write_table(
        pa.table(
            {
                "reporter": ["TUR", "XXX", "TUR"],
                "partner": ["RUS", "RUS", "KAZ"],
                "hs": ["854231", "854231", "854232"],
                "period": ["2023-01"] * 3,
                "value_usd": ["10", "20", "30"],
            }
        ),
        f,
    )
    rej = tmp_path / "rejects.csv"
    src = csv_file(f, source="x", mapping=[], constants=["flow=export"], reject_file=rej)
    result = wh.ingest(src)
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (3, 2, 1)
    with rej.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["line"], r["column"], r["value"]) for r in rows] == [("3", "reporter", "XXX")]
