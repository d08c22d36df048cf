"""The notebook path: transship.open(), analyses as methods, results with notes and labels."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import transship
from tests.conftest import write
from transship.errors import ComtradeError, ReferenceDataError, TransshipError
from transship.sources.csvfile import csv_file
from transship.warehouse import Warehouse

MAP = ["rep=reporter", "par=partner", "hs=hs", "month=period", "usd=value_usd"]
ROWS = (
    "rep,par,hs,month,usd\n"
    "TUR,RUS,854231,2023-01,100\nTUR,KAZ,854231,2023-02,50\nTUR,KAZ,851762,2023-03,7\n"
    "TUR,KAZ,030389,2023-03,1000\nTUR,KAZ,854231,2022-01,10\nTUR,ARM,854231,2023-01,3\n"
)


def _db(tmp_path: Path, source: str) -> Path:
    path = tmp_path / f"{source}.duckdb"
    with Warehouse(path) as wh:
        f = write(tmp_path / f"{source}.csv", ROWS)
        wh.ingest(csv_file(f, source=source, mapping=MAP, constants=["flow=export"]))
    return path


def test_open_flows_to_pandas_with_notes_and_label(tmp_path: Path) -> None:
    path = _db(tmp_path, "hand")
    wh = transship.open(str(path))
    r = wh.flows(reporter="TUR", partner=["RUS", "KAZ"], period="2023-01..2023-03", by="partner")
    df = r.to_pandas()
    # 030389 is not a CHPL code; ARM is not a partner asked for
    assert dict(zip(df["partner"], df["value_usd"], strict=True)) == {"RUS": 100.0, "KAZ": 57.0}
    assert df.attrs["synthetic"] is False
    assert isinstance(df.attrs["notes"], list)
    assert df.attrs["params"]["partner"] == "RUS+KAZ"
    text = repr(r)
    assert text.startswith("<flows: 2 rows x 3 columns, reported data")
    assert "RUS" in text and "SYNTHETIC" not in text
    assert "SYNTHETIC" not in r._repr_html_() and "<td>RUS</td>" in r._repr_html_()
    # by= a list, the compare columns, and the method keeps the library's signature
    r2 = wh.flows(reporter="TUR", partner="KAZ", period="2023-01..2023-03", compare="prior",
                  by=["partner"])  # fmt: skip
    assert r2.to_pylist()[0]["compare_usd"] == 10.0
    sig = inspect.signature(wh.flows)
    assert "con" not in sig.parameters and sig.parameters["products"].default == "chpl"
    assert wh.flows.__doc__ and "Sum value_usd" in wh.flows.__doc__
    # no lock is held between calls: a writer can open the file now
    Warehouse(path).close()


def test_synthetic_results_say_so(tmp_path: Path) -> None:
    wh = transship.open(_db(tmp_path, "synthetic"))
    r = wh.flows(reporter="TUR", period="2023", by="partner")
    assert r.synthetic and r.to_pandas().attrs["synthetic"] is True
    assert "SYNTHETIC" in repr(r).splitlines()[0]
    assert "SYNTHETIC DATA" in r._repr_html_()
    h = wh.headline(reporter="TUR", partner="russia+ft_five", period="2023-01..2023-03",
                    baseline=None)  # fmt: skip
    assert h.synthetic and h.total.to_pylist()[0]["value_usd"] == 157.0
    assert "SYNTHETIC" in h._repr_html_()


def test_every_error_is_a_transship_error(tmp_path: Path) -> None:
    assert transship.Error is TransshipError
    assert issubclass(ReferenceDataError, transship.Error)
    assert issubclass(ReferenceDataError, ValueError)  # as before it joined the hierarchy
    assert issubclass(ComtradeError, transship.Error)
    with pytest.raises(transship.Error, match="no warehouse"):
        transship.open(tmp_path / "missing.duckdb")
    wh = transship.open(_db(tmp_path, "hand"))
    with pytest.raises(transship.Error, match="TUK"):
        wh.flows(reporter="TUK")
    with pytest.raises(transship.Error, match="dimensions are"):
        wh.flows(by="nope")
    with pytest.raises(transship.Error, match="engine"):
        transship.open(tmp_path / "hand.duckdb", engine="sqlite")


def test_methods_are_the_analyses(tmp_path: Path) -> None:
    from transship.python_api import ANALYSES, TradeWarehouse

    path = _db(tmp_path, "hand")  # once: each ingest costs a second
    for name in ANALYSES:
        assert name in dir(TradeWarehouse(path))
    wh = transship.open(path)
    m = wh.mirror(exporters="TUR", importers="KAZ", period="2023-01..2023-03", window=None)
    assert m.columns and m.to_pandas().attrs["synthetic"] is False
    a = wh.anomalies(reporter="TUR", pre="2022", post="2023")
    assert isinstance(a.notes, list)


DECLS = (
    "id,date,origin_country,destination_country,hs_code,consignee_name\n"
    "D1,2024-11-05,USA,RUS,8542310010,Acme\n"
    "D2,2024-11-05,DEU,FRA,0303890000,Acme\n"
)


def test_screen_file_takes_str_paths_and_dataframes(tmp_path: Path) -> None:
    import pandas as pd

    db = tmp_path / "s.duckdb"
    Warehouse(db).close()
    path = write(tmp_path / "d.csv", DECLS)
    by_path = transship.screen_file(str(path), "tr-customs-2024", None, str(db), no_lists=True)
    frame = pd.read_csv(path, dtype=str)
    by_frame = transship.open(db).screen(frame, "tr-customs-2024", no_lists=True)
    for r in (by_path, by_frame):
        decisions = {row["id"]: row["decision"] for row in r.table.to_pylist()}
        assert decisions == {"D1": "BLOCK", "D2": "ALLOW"}
    with pytest.raises(transship.Error, match="missing required columns"):
        transship.screen_file(frame.drop(columns=["hs_code"]), "tr-customs-2024", None, db,
                              no_lists=True)  # fmt: skip
    with pytest.raises(transship.Error, match="a file path or a DataFrame"):
        transship.screen_file(42, "tr-customs-2024", None, db, no_lists=True)


def test_library_errors_name_parameters_and_the_cli_names_flags(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from transship.cli import app

    db = _db(tmp_path, "hand")
    with pytest.raises(transship.Error) as err:
        transship.open(db).flows(compare="prior")
    assert str(err.value).startswith("compare and baseline need period ")
    assert "--" not in str(err.value)
    result = CliRunner().invoke(app, ["-w", str(db), "flows", "--compare", "prior"])
    assert result.exit_code == 2
    assert "--compare and --baseline need --period" in result.output
    with pytest.raises(transship.Error, match=r"^mad_floor must be positive$"):
        transship.open(db).anomalies(mad_floor=0)


def test_detect_is_a_method_too(tmp_path: Path) -> None:
    wh = transship.open(_db(tmp_path, "synthetic"))
    r = wh.detect(detectors="mirror")
    assert r.name == "detect" and r.synthetic and r.to_pandas().attrs["synthetic"] is True
    assert "SYNTHETIC" in repr(r).splitlines()[0]
    with pytest.raises(transship.Error, match="unknown detector"):
        wh.detect(detectors=["nope"])
