"""File ingest: BACI and generic CSV, idempotence, atomicity, and every bad-input case."""

from __future__ import annotations

import csv
import zipfile
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import write
from transship.errors import InputError, UsageError
from transship.sources.baci import baci_file, revision_from_name
from transship.sources.csvfile import csv_file
from transship.warehouse import Warehouse

# BACI-shaped: 842 USA, 251 France, 699 India, 490 Other Asia nes; k numeric, q may be NA
BACI = """t,i,j,k,v,q
2022,251,643,10121,1.5,0.25
2022,251,792,854231,  12.345,   NA
2022,842,490,854232,0.001,2
2022,699,398,880730,100,1000
"""


def rows(
    w: Warehouse, sql: str = "SELECT * FROM trade_flows ORDER BY hs"
) -> list[dict[str, object]]:
    cur = w.con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def test_baci_units_codes_and_padding(wh: Warehouse, tmp_path: Path) -> None:
    f = write(tmp_path / "BACI_HS22_Y2022_V202401.csv", BACI)
    result = wh.ingest(baci_file(f))
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (4, 4, 0)
    got = rows(wh)
    assert [r["hs"] for r in got] == ["010121", "854231", "854232", "880730"]
    first = got[0]
    assert (first["reporter"], first["partner"], first["flow"]) == ("FRA", "RUS", "export")
    assert first["value_usd"] == pytest.approx(1500.0)  # 1.5 thousand USD
    assert first["net_kg"] == pytest.approx(250.0)  # 0.25 tonnes
    assert (first["hs_rev"], first["freq"], first["period"]) == ("HS2022", "A", date(2022, 1, 1))
    assert first["valuation"] == "FOB" and first["source"] == "baci"
    assert got[1]["net_kg"] is None  # NA quantity stays missing, not zero
    assert got[1]["value_usd"] == pytest.approx(12345.0)
    assert (got[2]["reporter"], got[2]["partner"]) == ("USA", "S19")
    assert got[3]["reporter"] == "IND"
    batch = wh.batches()[0]
    assert batch["status"] == "ok" and batch["rows_written"] == 4
    assert len(batch["input_sha256"]) == 64


def test_revision_from_file_name() -> None:
    assert revision_from_name("BACI_HS17_V202401.zip") == "HS2017"
    assert revision_from_name("BACI_HS92_Y1995_V202401.csv") == "HS1992"
    assert revision_from_name("exports.csv") is None
    with pytest.raises(UsageError, match="hs_rev"):
        baci_file(Path(__file__))


def test_baci_zip_reads_only_data_members(wh: Warehouse, tmp_path: Path) -> None:
    z = tmp_path / "BACI_HS17_V202401.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("BACI_HS17_Y2020_V202401.csv", "t,i,j,k,v,q\n2020,792,643,854231,2,1\n")
        zf.writestr("BACI_HS17_Y2021_V202401.csv", "t,i,j,k,v,q\n2021,792,643,854231,3,1\n")
        zf.writestr("country_codes_V202401.csv", "country_code,country_name\n4,Afghanistan\n")
    result = wh.ingest(baci_file(z))
    assert result.rows_written == 2
    got = rows(wh, "SELECT period, value_usd, hs_rev FROM trade_flows ORDER BY period")
    assert [(r["period"].year, r["value_usd"], r["hs_rev"]) for r in got] == [
        (2020, 2000.0, "HS2017"),
        (2021, 3000.0, "HS2017"),
    ]


def test_reingest_replaces_never_duplicates(wh: Warehouse, tmp_path: Path) -> None:
    f = write(tmp_path / "BACI_HS22_Y2022_V202401.csv", BACI)
    wh.ingest(baci_file(f))
    changed = write(tmp_path / "BACI_HS22_Y2022_V202402.csv", BACI.replace("1.5,0.25", "9,0.25"))
    second = wh.ingest(baci_file(changed))
    assert second.rows_replaced == 4
    assert wh.count() == 4
    assert rows(wh)[0]["value_usd"] == pytest.approx(9000.0)
    # every row now belongs to the second batch
    assert {r["batch_id"] for r in rows(wh)} == {second.batch_id}
    # a different source with the same codes does not replace baci rows
    gen = write(tmp_path / "g.csv", "rep,par,hs,per,val\nFRA,RUS,010121,2022,5\n")
    wh.ingest(
        csv_file(
            gen,
            source="turkstat",
            mapping=["rep=reporter", "par=partner", "hs=hs", "per=period", "val=value_usd"],
            constants=["flow=export"],
        )
    )
    assert wh.count() == 5


def test_duplicate_key_within_one_file_is_rejected(wh: Warehouse, tmp_path: Path) -> None:
    f = write(
        tmp_path / "g.csv",
        "rep,par,hs,per,val\nTUR,KAZ,854231,2023-01,5\nTUR,KAZ,854231,2023-01,6\n",
    )
    with pytest.raises(InputError, match="appears 2 times"):
        wh.ingest(
            csv_file(
                f,
                source="x",
                mapping=["rep=reporter", "par=partner", "hs=hs", "per=period", "val=value_usd"],
                constants=["flow=export"],
            )
        )
    assert wh.count() == 0
    assert wh.batches()[0]["status"] == "failed"


GENERIC = """Reporter;Partner;Flow;Code;Month;Value;Kg;Qty;Unit
TUR;KAZ;X;854231;2023-01;61000000;12;5;u
TR;RU;export;854232;202302;1000.5;;;
792;398;M;880730;2023-03-01;7;1;;
"""
MAP = [
    "Reporter=reporter",
    "Partner=partner",
    "Flow=flow",
    "Code=hs",
    "Month=period",
    "Value=value_usd",
    "Kg=net_kg",
    "Qty=qty",
    "Unit=qty_unit",
]


def test_generic_csv_mapping_and_defaults(wh: Warehouse, tmp_path: Path) -> None:
    f = write(tmp_path / "g.csv", GENERIC)
    result = wh.ingest(csv_file(f, source="national", mapping=MAP))
    assert result.rows_written == 3
    got = rows(wh)
    assert [(r["reporter"], r["partner"], r["flow"]) for r in got] == [
        ("TUR", "KAZ", "export"),
        ("TUR", "RUS", "export"),
        ("TUR", "KAZ", "import"),
    ]
    assert [r["period"] for r in got] == [date(2023, 1, 1), date(2023, 2, 1), date(2023, 3, 1)]
    assert {r["freq"] for r in got} == {"M"}
    assert {r["hs_rev"] for r in got} == {"HS2022"}  # in force in 2023
    assert [r["valuation"] for r in got] == ["FOB", "FOB", "CIF"]
    assert got[0]["value_usd"] == 61_000_000 and got[0]["qty"] == 5 and got[0]["qty_unit"] == "u"
    assert got[1]["net_kg"] is None and got[1]["qty_unit"] is None


def test_generic_csv_latin1_and_value_scale(wh: Warehouse, tmp_path: Path) -> None:
    text = "Pays,Partenaire,Produit,Année,Valeur (k$)\nTUR,RUS,854231,2019,2\n"
    f = write(tmp_path / "fr.csv", text, encoding="latin-1")
    wh.ingest(
        csv_file(
            f,
            source="fr",
            value_scale=1000,
            constants=["flow=export"],
            mapping=[
                "Pays=reporter",
                "Partenaire=partner",
                "Produit=hs",
                "Année=period",
                "Valeur (k$)=value_usd",
            ],
        )
    )
    got = rows(wh)[0]
    assert (got["value_usd"], got["freq"], got["hs_rev"]) == (2000.0, "A", "HS2017")


BAD_CASES = [
    # (file text, expected line, column, message fragment)
    (
        "t,i,j,k,v,q\n2022,251,643,854231,1,1\n2022,999,643,854231,1,1\n",
        3,
        "i",
        "unknown country code",
    ),
    ("t,i,j,k,v,q\n2022,251,643,8542311,1,1\n", 2, "k", "not 6 digits"),
    ("t,i,j,k,v,q\n2022,251,643,85A231,1,1\n", 2, "k", "not 6 digits"),
    ("t,i,j,k,v,q\n2022,251,643,854231,abc,1\n", 2, "v", "not a number"),
    ("t,i,j,k,v,q\n2022,251,643,854231,1,1\n2022,251,643,854232,-5,1\n", 3, "v", "negative"),
    ("t,i,j,k,v,q\n2022,251,643,854231,,1\n", 2, "v", "missing value"),
    ("t,i,j,k,v,q\n22,251,643,854231,1,1\n", 2, "t", "not a period"),
    ("t,i,j,k,v,q\n2022,251,643,854231,1\n", 2, None, "expected 6 fields, found 5"),
    ("t,i,j,k,v\n2022,251,643,854231,1\n", 1, None, "unexpected header"),
    ("t,i,j,k,v,q,extra\n2022,251,643,854231,1,1,x\n", 1, None, "unexpected header"),
    ("\n2022,251,643,854231,1,1\n", 1, None, "missing header"),
]


@pytest.mark.parametrize(("text", "line", "column", "fragment"), BAD_CASES)
def test_bad_baci_input_names_file_line_column(
    wh: Warehouse, tmp_path: Path, text: str, line: int, column: str | None, fragment: str
) -> None:
    f = write(tmp_path / "BACI_HS22_Y2022_V1.csv", text)
    with pytest.raises(InputError) as info:
        wh.ingest(baci_file(f))
    err = info.value
    assert err.line == line and fragment in str(err)
    assert err.file is not None and err.file.endswith("BACI_HS22_Y2022_V1.csv")
    if column:
        assert err.column == column
    assert wh.count() == 0  # nothing written


def test_undecodable_bytes_named(wh: Warehouse, tmp_path: Path) -> None:
    f = tmp_path / "BACI_HS22_Y2022_V1.csv"
    f.write_bytes(b"t,i,j,k,v,q\n2022,251,643,854231,1,1\n2022,251,643,8542\xff1,1,1\n")
    with pytest.raises(InputError) as info:
        wh.ingest(baci_file(f))
    assert (info.value.line, info.value.column) == (3, "k")
    assert "undecodable" in str(info.value)


def test_generic_missing_mapped_column(tmp_path: Path, wh: Warehouse) -> None:
    f = write(tmp_path / "g.csv", "Reporter,Partner\nTUR,RUS\n")
    with pytest.raises(InputError, match=r"missing column.*'Code'") as info:
        wh.ingest(csv_file(f, source="x", mapping=MAP))
    assert info.value.line == 1


def test_usage_errors_name_the_option(tmp_path: Path) -> None:
    f = write(tmp_path / "g.csv", GENERIC)
    with pytest.raises(UsageError, match="unknown field"):
        csv_file(f, source="x", mapping=["Value=valu"])
    with pytest.raises(UsageError, match="required field 'flow'"):  # `Flow` is not auto-mapped
        csv_file(
            f, source="x", mapping=[m for m in MAP if not m.startswith("Flow")], auto_map=False
        )
    with pytest.raises(UsageError, match="NAME=VALUE"):
        csv_file(f, source="x", mapping=["Value"])


def test_reject_file_keeps_going(wh: Warehouse, tmp_path: Path) -> None:
    text = (
        "t,i,j,k,v,q\n"
        "2022,251,643,854231,1,1\n"  # line 2 ok
        "2022,999,643,854231,1,1\n"  # line 3 unknown country
        "2022,251,643,854231,1\n"  # line 4 short row
        "2022,251,643,854232,-1,1\n"  # line 5 negative
        "2022,251,643,854233,2,1\n"  # line 6 ok
    )
    f = write(tmp_path / "BACI_HS22_Y2022_V1.csv", text)
    rej = tmp_path / "rejects.csv"
    result = wh.ingest(baci_file(f, reject_file=rej))
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (5, 2, 3)
    with open(rej, newline="") as fh:
        rejected = list(csv.DictReader(fh))
    assert sorted((int(r["line"]), r["column"]) for r in rejected) == [(3, "i"), (4, ""), (5, "v")]
    reasons = {int(r["line"]): r["reason"] for r in rejected}
    assert "unknown country" in reasons[3] and "negative" in reasons[5]
    assert [r["hs"] for r in rows(wh)] == ["854231", "854233"]


def test_failed_ingest_leaves_warehouse_as_it_was(wh: Warehouse, tmp_path: Path) -> None:
    good = write(tmp_path / "BACI_HS22_Y2022_V1.csv", BACI)
    wh.ingest(baci_file(good))
    before = rows(wh)
    # valid first rows that would replace stored ones, then a bad row further down
    bad = write(tmp_path / "BACI_HS22_Y2022_V2.csv", BACI.replace("1.5", "7") + "2022,1,2,3,4,5\n")
    with pytest.raises(InputError):
        wh.ingest(baci_file(bad))
    assert rows(wh) == before
    statuses = [b["status"] for b in wh.batches()]
    assert sorted(statuses) == ["failed", "ok"]


def test_streaming_in_small_blocks_keeps_line_numbers(wh: Warehouse, tmp_path: Path) -> None:
    lines = ["t,i,j,k,v,q"] + [f"2022,251,643,{100000 + i},1,1" for i in range(30000)]
    lines[25001] = "2022,251,643,12345678,1,1"  # line 25002 of the file
    f = write(tmp_path / "BACI_HS22_Y2022_V1.csv", "\n".join(lines) + "\n")
    src = baci_file(f, block_mb=1)
    src.block_bytes = 64 * 1024  # many blocks for a small file
    with pytest.raises(InputError) as info:
        wh.ingest(src)
    assert info.value.line == 25002


def test_parquet_export_is_hive_partitioned(wh: Warehouse, tmp_path: Path) -> None:
    import pyarrow.dataset as ds

    wh.ingest(baci_file(write(tmp_path / "BACI_HS22_Y2022_V1.csv", BACI)))
    out = tmp_path / "pq"
    info = wh.export_parquet(out)
    assert info["rows"] == 4
    assert (out / "source=baci" / "year=2022").is_dir()
    table = ds.dataset(out, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 4
    assert sum(table.column("value_usd").to_pylist()) == pytest.approx(1500 + 12345 + 1 + 100000)


def test_baci_codes_naming_one_country_are_not_proven_unique(wh: Warehouse, tmp_path: Path) -> None:
    """276 and 280 are both Germany in BACI: sorted raw codes do not prove unique ISO keys."""
    f = write(tmp_path / "BACI_HS17_Y2020_V1.csv",
              "t,i,j,k,v,q\n2020,276,643,854231,1,1\n2020,280,643,854231,2,1\n")  # fmt: skip
    with pytest.raises(InputError, match="appears 2 times"):
        wh.ingest(baci_file(f))
    assert wh.count() == 0


def test_zip_member_error_names_member_line_column(wh: Warehouse, tmp_path: Path) -> None:
    """A bad cell in a zip member is named by member, line and column; nothing is kept."""
    z = tmp_path / "BACI_HS22_V202401.zip"
    good = "t,i,j,k,v,q\n" + "".join(f"2022,251,643,{854200 + n},1,1\n" for n in range(50))
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("BACI_HS22_Y2022_V202401.csv", good + "2022,251,643,854299,1e308,1\n")
    with pytest.raises(InputError) as info:
        wh.ingest(baci_file(z))
    err = info.value
    assert (err.line, err.column) == (52, "v") and "not a finite number" in str(err)
    assert err.file is not None and err.file.endswith("!BACI_HS22_Y2022_V202401.csv")
    assert wh.count() == 0
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("BACI_HS22_Y2022_V202401.csv", good)
    result = wh.ingest(baci_file(z))
    assert (result.rows_read, result.rows_written) == (50, 50)
    assert wh.count() == 50 and len(result.input_sha256 or "") == 64
