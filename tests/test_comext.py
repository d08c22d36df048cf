"""Eurostat Comext ingest: real exports from ../shared/data, and small files in the real formats."""

from __future__ import annotations

import csv
import datetime
import gzip
import itertools
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import write
from transship.cli import app
from transship.errors import InputError
from transship.reference import DATA_DIR
from transship.reference.eurostat import comext_country, usd_per_eur
from transship.sources.comext import comext_source
from transship.sources.comext_fields import period_of, product_code
from transship.sources.comext_xlsx import xlsx_rows
from transship.warehouse import Warehouse

RV = "eurostat-relational-views"
CN8 = "eurostat-eu27-cn8-exports-2020-2022"
HEADER = "REPORTER,PARTNER,PRODUCT,FLOW,STAT_PROCEDURE,PERIOD,VALUE_IN_EUR\n"


def rv(
    reporter: str,
    partner: str,
    product: str,
    value: object,
    period: str = "202101-Jan. 2021",
    procedure: str = "T-Total",
) -> str:
    """A row of the quoted relational-view variant."""
    cells = (reporter, partner, product, "2-EXPORT", procedure, period, value)
    return ",".join(f'"{c}"' if isinstance(c, str) else str(c) for c in cells)


def rates() -> dict[str, tuple[float, int]]:
    """The shipped table, read as plain CSV (independent of the loader)."""
    with (DATA_DIR / "eur_usd_monthly.csv").open() as fh:
        return {r["month"]: (float(r["usd_per_eur"]), int(r["days"])) for r in csv.DictReader(fh)}


# -- reference data --------------------------------------------------------------------------
def test_rate_table_covers_the_ft_years_and_annual_is_day_weighted() -> None:
    table = rates()
    months = [f"{y}-{m:02d}" for y in range(2015, 2025) for m in range(1, 13)]
    assert all(m in table for m in months)
    assert usd_per_eur(date(2022, 9, 1)) == table["2022-09"][0]
    year = [table[f"2019-{m:02d}"] for m in range(1, 13)]
    expected = sum(r * d for r, d in year) / sum(d for _, d in year)
    assert usd_per_eur(date(2019, 1, 1), "A") == pytest.approx(expected)
    assert usd_per_eur(date(2099, 1, 1)) is None


def test_country_labels() -> None:
    assert comext_country("Russian Federation (Russia)") == ("country", "RUS")
    assert comext_country("Belarus (Belorussia)") == ("country", "BLR")
    france = (
        "France (incl. Saint Barthélemy 'BL' -> 2012; incl. French Guiana 'GF', "
        "Guadeloupe 'GP', Martinique 'MQ', Réunion 'RE' from 1997; incl. Mayotte 'YT' from 2014)"
    )
    assert comext_country(france) == ("country", "FRA")
    assert comext_country("Turquie") == ("country", "TUR")
    assert comext_country("Extra-EU27 (from 2020)") == ("aggregate", None)
    assert comext_country("GR") == ("country", "GRC")
    from transship.reference import ReferenceDataError

    with pytest.raises(ReferenceDataError, match=r"comext_names\.csv"):
        comext_country("Atlantis")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("202208-Aug. 2022", (date(2022, 8, 1), "M")),
        ("Aug. 2024", (date(2024, 8, 1), "M")),
        ("May. 2024", (date(2024, 5, 1), "M")),
        ("201952-Jan.-Dec. 2019", (date(2019, 1, 1), "A")),
        ("Jan.-Dec. 2019", (date(2019, 1, 1), "A")),
        ("2020-02", (date(2020, 2, 1), "M")),
        ("202301", (date(2023, 1, 1), "M")),
        ("202352", (date(2023, 1, 1), "A")),
        ("2023-13", None),
        ("soon", None),
    ],
)
def test_periods(text: str, expected: tuple[date, str] | None) -> None:
    assert period_of(text) == expected


# -- the two real relational-view variants ---------------------------------------------------
def test_both_relational_view_variants_read_the_same(shared_data: Path) -> None:
    quoted = sorted((shared_data / RV / "kazahstan_export_eurostat").glob("*.csv"))
    plain = sorted((shared_data / RV / "kazakhstan_export_eurostat").glob("*.csv"))
    assert [p.name for p in quoted] == [p.name for p in plain]
    assert '"2-EXPORT"' in quoted[0].read_text() and ",EXPORT," not in quoted[0].read_text()
    key = lambda r: (r["reporter"], r["period"], r["freq"])  # noqa: E731
    a = sorted(comext_source(quoted, all_levels=True)[0].to_pylist(), key=key)
    b = sorted(comext_source(plain, all_levels=True)[0].to_pylist(), key=key)
    assert a == b and len(a) > 1000
    # First principles: every member state's value row, read with the csv module, in USD.
    table = rates()
    months = {datetime.date(2000, i, 1).strftime("%b"): i for i in range(1, 13)}
    n, usd = 0, 0.0
    for p in plain:
        for row in csv.DictReader(p.open(encoding="utf-8-sig")):
            if row["VALUE_IN_EUR"].strip() in ("", ":") or row["REPORTER"].startswith("Euro"):
                continue
            mon, year = row["PERIOD"].split()  # "Aug. 2024"
            n += 1
            usd += float(row["VALUE_IN_EUR"]) * table[f"{year}-{months[mon[:3]]:02d}"][0]
    assert len(a) == n
    assert sum(r["value_usd"] for r in a) == pytest.approx(usd, rel=1e-12)


@pytest.mark.slow  # two ingests of a real workbook, ~1 s
def test_relational_totals_are_stored_only_when_asked(shared_data: Path, wh: Warehouse) -> None:
    files = sorted((shared_data / RV / "kazakhstan_export_eurostat").glob("*.csv"))
    # product TOTAL only: nothing at HS6 to store; the error says so and how to keep them
    # the library names its parameter, the CLI its flag
    with pytest.raises(InputError, match=r"every product row is an aggregate.*Set all_levels"):
        comext_source(files)
    cli = wh.path.with_name("cli.duckdb")
    res = CliRunner().invoke(app, ["-w", str(cli), "ingest", "comext", *map(str, files)])
    assert res.exit_code == 2 and "Set --all-levels to keep them" in res.output, res.output

    src, summary = comext_source(files, all_levels=True)
    aggregates = summary.skipped["rows of country aggregates (EU, euro area, extra-EU) left out"]
    total_rows = len(src.to_pylist())
    assert total_rows > 1000 and aggregates > 0
    result = wh.ingest(src)
    # stored by level in trade_levels, never as a fake hs code in trade_flows
    assert wh.count() == 0 and result.rows_written == 0
    assert result.notes == [f"aggregate rows stored in table trade_levels, by level: "
                            f"{total_rows:,} TOTAL"]  # fmt: skip
    # Cyprus -> Kazakhstan, Aug. 2024: 11421 EUR in the file, at the ECB Aug. 2024 average.
    got = wh.con.execute(
        "SELECT value_usd, valuation, level, code, freq FROM trade_levels WHERE reporter = 'CYP' "
        "AND partner = 'KAZ' AND period = '2024-08-01' AND flow = 'export'"
    ).fetchall()
    assert got == [(pytest.approx(11421 * rates()["2024-08"][0]), "FOB", "TOTAL", "TOTAL", "M")]
    assert wh.con.execute(
        "SELECT count(*) FROM trade_levels WHERE reporter IN ('EUU', 'EU27')"
    ).fetchone() == (0,)
    wh.ingest(comext_source(files, all_levels=True)[0])  # re-ingest replaces, never duplicates
    assert wh.con.execute("SELECT count(*) FROM trade_levels").fetchone() == (total_rows,)


def test_import_variant_and_duplicate_extracts(shared_data: Path, wh: Warehouse) -> None:
    folder = sorted((shared_data / RV / "kyrgyzstan_import_eurostat").glob("*.csv"))
    src, _ = comext_source(folder[:1], all_levels=True)
    assert {r["flow"] for r in src.to_pylist()} == {"import"}
    assert {r["valuation"] for r in src.to_pylist()} == {"CIF"}
    assert {r["partner"] for r in src.to_pylist()} == {"KGZ"}
    with pytest.raises(InputError, match="give each Comext extract once"):
        comext_source([folder[0], folder[0]], all_levels=True)


# -- CN8 long file and xlsx workbooks ---------------------------------------------------------
@pytest.mark.slow
def test_cn8_long_file_sums_to_hs6_and_leaves_headings_out(
    shared_data: Path, wh: Warehouse, tmp_path: Path
) -> None:
    real = shared_data / CN8 / "eu27_exports_cn8_monthly_2020_2022.csv.gz"
    part = tmp_path / "part.csv.gz"
    with gzip.open(real, "rt", encoding="utf-8") as fin, gzip.open(part, "wt") as fout:
        fout.writelines(itertools.islice(fin, 150_001))
    src, summary = comext_source([part], flow="export")
    wh.ingest(src)
    expected: dict[tuple[str, str, str, str], float] = defaultdict(float)
    children: dict[tuple[str, str, str, str], int] = defaultdict(int)
    headings = 0
    table = rates()
    with gzip.open(part, "rt", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if len(r["product_code"]) == 4:
                headings += 1
                continue
            key = (r["reporter"], r["partner"], r["product_code"][:6], r["period"])
            expected[key] += float(r["value_eur"]) * table[r["period"]][0]
            children[key] += 1
    assert summary.skipped["aggregate product rows (4-digit) left out"] == headings > 0
    assert wh.count() == len(expected)
    total = wh.con.execute("SELECT sum(value_usd) FROM trade_flows").fetchone()
    assert total is not None and total[0] == pytest.approx(sum(expected.values()), rel=1e-12)
    # the HS6 with the most CN8 children, checked by its ISO codes
    key = max(sorted(children), key=lambda k: children[k])
    assert children[key] > 1
    reporter, partner = comext_country(key[0])[1], comext_country(key[1])[1]
    got = wh.con.execute(
        "SELECT value_usd, hs_rev FROM trade_flows WHERE reporter = ? AND partner = ? "
        "AND hs = ? AND period = ?",
        [reporter, partner, key[2], date(int(key[3][:4]), int(key[3][5:]), 1)],
    ).fetchall()
    assert got == [(pytest.approx(expected[key]), "HS2017" if key[3] < "2022" else "HS2022")]


@pytest.mark.slow
def test_xlsx_workbook_matches_the_long_file(shared_data: Path, wh: Warehouse) -> None:
    book = shared_data / CN8 / "raw-xlsx" / "22_4624885_spreadsheet.xlsx"
    cells = list(xlsx_rows(book, product_code))
    assert len(cells) > 5000 and {c[5] for c in cells} == {"EXPORT"}
    wanted = {(c[4], c[2], c[3], c[6]): float(c[7]) for c in cells}
    assert all(len(k[0]) == 8 for k in wanted)
    found = {}
    with gzip.open(shared_data / CN8 / "eu27_exports_cn8_monthly_2020_2022.csv.gz", "rt") as fh:
        for r in csv.DictReader(fh):
            k = (r["product_code"], r["reporter"], r["partner"], r["period"])
            if k in wanted:
                found[k] = float(r["value_eur"])
    assert found == wanted  # the same values, cell for cell
    src, summary = comext_source([book])
    wh.ingest(src)
    assert summary.cn8_rows == len(wanted)
    total = wh.con.execute("SELECT sum(value_usd) FROM trade_flows").fetchone()
    expected = sum(v * rates()[k[3]][0] for k, v in wanted.items())
    assert total is not None and total[0] == pytest.approx(expected, rel=1e-12)


# -- rules on small files in the real formats ------------------------------------------------
def test_hs6_row_replaces_its_cn8_children(tmp_path: Path) -> None:
    de, ru, kz, eu = "Germany", "Russian Federation (Russia)", "Kazakhstan", "European Union - 27 c"
    rows = [
        rv(de, ru, "85423111-Processors", 100),
        rv(de, ru, "85423119-Other", 50),
        rv(de, kz, "85423111-Processors", 30),
        rv(de, kz, "85423119-Other", 12),
        rv(de, ru, "854231-Processors", 160),
        rv(de, ru, "8542-Circuits", 999),
        rv(eu, kz, "85423111-P", 77),
        rv(de, kz, "85423111-Processors", 29, procedure="1-Normal"),
    ]
    f = write(tmp_path / "rv.csv", HEADER + "\n".join(rows) + "\n")
    src, summary = comext_source([f])
    rate = rates()["2021-01"][0]
    got = {(r["partner"], r["hs"]): r["value_usd"] for r in src.to_pylist()}
    assert got == {
        ("RUS", "854231"): pytest.approx(160 * rate),
        ("KAZ", "854231"): pytest.approx(42 * rate),
    }
    assert summary.skipped["aggregate product rows (4-digit) left out"] == 1
    assert (
        summary.skipped["HS6 sums of CN8 rows replaced by the file's own HS6 row (not added)"] == 1
    )
    assert {r["hs_rev"] for r in src.to_pylist()} == {"HS2017"}


def test_bulk_file_sums_regimes(tmp_path: Path) -> None:
    text = (
        "DECLARANT,DECLARANT_ISO,PARTNER,PARTNER_ISO,TRADE_TYPE,PRODUCT_NC,FLOW,STAT_REGIME,"
        "PERIOD,VALUE_IN_EUROS,QUANTITY_IN_KG\n"
        "004,DE,075,RU,E,85423190,2,1,202301,1000,10\n"
        "004,DE,075,RU,E,85423190,2,2,202301,500,5\n"
        "004,DE,075,RU,E,85423110,2,1,202301,250,\n"
        "004,DE,075,RU,E,85423190,1,1,202301,40,1\n"
        "004,DE,075,RU,E,85423190,2,1,202352,9000,90\n"
    )
    src, _ = comext_source([write(tmp_path / "full_202301.dat", text)])
    got = {
        (r["flow"], r["period"], r["freq"]): (r["value_usd"], r["net_kg"]) for r in src.to_pylist()
    }
    m, t = rates()["2023-01"][0], rates()
    annual = sum(t[f"2023-{i:02d}"][0] * t[f"2023-{i:02d}"][1] for i in range(1, 13)) / sum(
        t[f"2023-{i:02d}"][1] for i in range(1, 13)
    )
    assert got == {
        ("export", date(2023, 1, 1), "M"): (pytest.approx(1750 * m), 15.0),
        ("import", date(2023, 1, 1), "M"): (pytest.approx(40 * m), 1.0),
        ("export", date(2023, 1, 1), "A"): (pytest.approx(9000 * annual), 90.0),
    }


def test_bad_input_names_file_line_and_column(tmp_path: Path) -> None:
    f = write(
        tmp_path / "a.csv",
        HEADER + '"Germany","Atlantis","85423111-P","2-EXPORT","T-Total","202101-Jan. 2021",1\n',
    )
    with pytest.raises(
        InputError, match=r"a.csv:2, column 'PARTNER': unknown Eurostat country label 'Atlantis'"
    ):
        comext_source([f])
    f = write(
        tmp_path / "b.csv",
        HEADER + '"Germany","Kazakhstan","85423111-P","2-EXPORT","T-Total","209901-Jan. 2099",1\n',
    )
    with pytest.raises(InputError, match=r"b.csv:2, column 'PERIOD': no EUR/USD rate for 2099-01"):
        comext_source([f])
    f = write(
        tmp_path / "c.csv",
        HEADER
        + '"Germany","Kazakhstan","85423111-P","2-EXPORT","T-Total","202101-Jan. 2021",12x\n',
    )
    with pytest.raises(InputError, match=r"c.csv:2, column 'VALUE_IN_EUR': not a number"):
        comext_source([f])
    empty = rv("Germany", "Kazakhstan", "85423111-P", 1, period="")
    f = write(
        tmp_path / "e.csv", HEADER + rv("Germany", "Kazakhstan", "85423111-P", 1) + "\n" + empty
    )
    with pytest.raises(InputError, match=r"e.csv:3, column 'PERIOD': empty"):
        comext_source([f])
    f = write(tmp_path / "d.csv", "a,b\n1,2\n")
    with pytest.raises(InputError, match="not a Comext file"):
        comext_source([f])


def test_cli_ingest_and_sources(shared_data: Path, tmp_path: Path) -> None:
    files = sorted((shared_data / RV / "russia_export_eurostat").glob("*.csv"))[:3]
    w = tmp_path / "w.duckdb"
    runner = CliRunner()
    res = runner.invoke(app, ["-w", str(w), "ingest", "comext", *map(str, files), "--all-levels"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["-w", str(w), "sources", "--format", "csv"])
    assert res.exit_code == 0, res.output
    rows = {r["source"]: r for r in csv.DictReader(res.stdout.splitlines())}
    assert set(rows) >= {"comtrade", "comext", "baci", "synthetic"}
    with Warehouse(w, read_only=True) as wh:
        n = wh.con.execute("SELECT count(*) FROM trade_levels WHERE source = 'comext'").fetchone()
    # product TOTAL views: the rows are aggregates, counted apart from HS6 rows
    assert int(rows["comext"]["level rows"]) == n[0] > 0 and rows["comext"]["rows"] == "0"
    assert rows["comext"]["batches"] == "1"
    assert rows["comtrade"]["rows"] == "0"


@pytest.mark.slow
def test_workbooks_read_in_worker_processes_match_one_by_one(shared_data: Path) -> None:
    books = [shared_data / CN8 / "raw-xlsx" / n
             for n in ("22_4624885_spreadsheet.xlsx", "13_4593146_spreadsheet.xlsx")]  # fmt: skip
    together, _ = comext_source(books)  # two workbooks: read by the worker pool
    apart = [comext_source([b])[0] for b in books]  # one: read in this process
    assert sorted(together.to_pylist(), key=str) == sorted(
        [r for src in apart for r in src.to_pylist()], key=str
    )
