"""Concordance modes (strict, upper, reported) and baselines averaged over comparable years.

The real-data checks use Eurostat's EU27 CN8 exports 2020-01..2022-11 (../shared/data): 2020
and 2021 are HS2017, 2022 HS2022. Each expected number is summed here from the raw file.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from transship import reference
from transship.analysis._select import product_map, summarize_notes
from transship.analysis.flows import flows
from transship.errors import UsageError
from transship.sources.csvfile import csv_file
from transship.warehouse import Warehouse

FILE = "eurostat-eu27-cn8-exports-2020-2022/eu27_exports_cn8_monthly_2020_2022.csv.gz"
CODES = ("880330", "880730", "854151", "854159")  # 880730 <- 880330 in HS2017; 8541.5x n:n


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[Any, float]]]:
    """A warehouse of the four codes' HS6 sums, and the raw sums by (hs6, year, month)."""
    from tests.conftest import SHARED

    path = SHARED / FILE
    if not path.exists():
        pytest.skip(f"real public data not found at {path} (../shared/data)")
    import duckdb

    rows = duckdb.sql(
        "SELECT reporter, partner, substr(product_code, 1, 6) AS hs, period, "
        "sum(value_eur::DOUBLE) FROM read_csv(?, all_varchar = true) "
        "WHERE length(product_code) = 8 AND substr(product_code, 1, 6) IN ? "
        "GROUP BY ALL ORDER BY ALL",
        params=[str(path), list(CODES)],
    ).fetchall()
    iso = {n: reference.country(n.split(" (")[0]).iso3 for r in rows for n in r[:2]}
    raw: dict[Any, float] = defaultdict(float)
    lines = ["rep,par,hs,period,value"]
    for rep, par, hs, period, value in rows:
        lines.append(f"{iso[rep]},{iso[par]},{hs},{period},{value!r}")
        raw[hs, int(period[:4]), int(period[5:7])] += value
    d = tmp_path_factory.mktemp("conc")
    (d / "eu.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    wh = Warehouse(d / "w.duckdb")
    wh.ingest(csv_file(d / "eu.csv", source="comext", constants=["flow=export"], mapping=[
        "rep=reporter", "par=partner", "hs=hs", "period=period", "value=value_usd"]))  # fmt: skip
    yield wh.ibis(), raw
    wh.close()


def _jan_nov(raw: dict[Any, float], hs: str, year: int) -> float:
    return sum(raw.get((hs, year, m), 0.0) for m in range(1, 12))


def _by_code(con: Any, mode: str) -> tuple[dict[str, dict[str, float]], list[str]]:
    r = flows(con, products="880730,854151", period="2020-01..2020-11", baseline="2021..2022",
              by=["hs2022"], concordance=mode)  # fmt: skip
    return {row["hs2022"]: row for row in r.to_pyarrow().to_pylist()}, r.notes


def test_strict_counts_880330_and_averages_854151_over_its_comparable_year(real: Any) -> None:
    con, raw = real
    got, notes = _by_code(con, "strict")
    # 880730 is comparable in 2021 (through 880330) and 2022: the mean of both years
    assert got["880730"]["value_usd"] == pytest.approx(_jan_nov(raw, "880330", 2020))
    assert got["880730"]["baseline_usd"] == pytest.approx(
        (_jan_nov(raw, "880330", 2021) + _jan_nov(raw, "880730", 2022)) / 2
    )
    # 854151 is not comparable in HS2017: its baseline is 2022 alone, not 2022 / 2
    assert got["854151"]["baseline_usd"] == pytest.approx(_jan_nov(raw, "854151", 2022))
    assert got["854151"]["value_usd"] == 0
    assert any(n.startswith("baseline: 854151 averaged over 2022 only") for n in notes)
    assert any(n.startswith("854151 left out of HS2017") for n in notes)


def test_reported_counts_codes_as_reported(real: Any) -> None:
    con, raw = real
    got, notes = _by_code(con, "reported")
    # 880730 does not exist in HS2017: 2020-2021 rows of 880330 are not counted under it
    assert got["880730"]["value_usd"] == 0
    assert got["880730"]["baseline_usd"] == pytest.approx(_jan_nov(raw, "880730", 2022))
    assert got["854151"]["baseline_usd"] == pytest.approx(_jan_nov(raw, "854151", 2022))
    assert any("880730 does not exist in HS2017" in n for n in notes)


def test_upper_equals_strict_where_no_heading_code_exists(real: Any) -> None:
    """854151/854159 have no HS2017 link of their own heading; this data has no 852990 and
    starts after 2017, so `upper` adds nothing here and must not change a number. (No code of
    this file is counted otherwise under `upper`: the hand-written rows below test that.)"""
    con, raw = real
    strict, _ = _by_code(con, "strict")
    upper, notes = _by_code(con, "upper")
    assert upper == strict
    # the numbers, summed from the raw file: 880730 through its single HS2017 code 880330
    assert upper["880730"]["value_usd"] == pytest.approx(_jan_nov(raw, "880330", 2020))
    assert upper["880730"]["baseline_usd"] == pytest.approx(
        (_jan_nov(raw, "880330", 2021) + _jan_nov(raw, "880730", 2022)) / 2
    )
    assert upper["854151"]["value_usd"] == 0
    assert upper["854151"]["baseline_usd"] == pytest.approx(_jan_nov(raw, "854151", 2022))
    assert _jan_nov(raw, "880330", 2020) > 0 and _jan_nov(raw, "854151", 2022) > 0
    assert any("854151 left out of HS2017" in n and "heading" in n for n in notes)


def _row(hs: str, rev: str, year: int, value: float) -> dict[str, Any]:
    return {"source": "csv", "reporter": "TUR", "partner": "RUS", "flow": "export", "hs": hs,
            "hs_rev": rev, "period": dt.date(year, 3, 1), "freq": "M", "value_usd": value,
            "net_kg": None, "qty": None, "qty_unit": None, "valuation": "FOB"}  # fmt: skip


@pytest.fixture
def hand(tmp_path: Path) -> Iterator[Any]:
    """Hand-written rows: 852990 and Tier 1 chips in the revision in force each year."""
    from transship.sources.records import RowsSource

    rows = [
        _row("854231", "HS2012", 2015, 100.0),  # Tier 1 chip, HS2012: not comparable (strict)
        _row("854231", "HS2012", 2016, 300.0),
        _row("854231", "HS2017", 2017, 500.0),  # mapped (single HS2017 code)
        _row("852990", "HS2017", 2018, 70.0),  # n:n in HS2017: upper counts 852990 itself
        _row("852910", "HS2017", 2018, 5.0),  # same heading, but not counted for 852990
        _row("854231", "HS2022", 2023, 900.0),
        _row("852990", "HS2022", 2023, 80.0),
    ]
    with Warehouse(tmp_path / "h.duckdb") as wh:
        wh.ingest(RowsSource("csv", "hand", rows, parameters={}))
        yield wh.ibis()


def _one(con: Any, mode: str, products: str) -> tuple[dict[str, Any], list[str]]:
    r = flows(con, reporter="TUR", partner="RUS", products=products, period="2023-03",
              baseline="2015..2018", by=[], concordance=mode)  # fmt: skip
    return r.to_pyarrow().to_pylist()[0], r.notes


def test_upper_counts_tier1_chips_before_2017_and_852990(hand: Any) -> None:
    strict, notes = _one(hand, "strict", "854231,852990")
    # strict: 854231 comparable 2017-2018 only (HS2017; 2018 had no row = 0); 852990 never
    assert strict["value_usd"] == 980.0
    assert strict["baseline_usd"] == pytest.approx((500.0 + 0.0) / 2)
    assert any(n.startswith("baseline: 854231 averaged over 2017, 2018 only") for n in notes)
    assert any(n.startswith("baseline: 852990 not comparable") for n in notes)
    upper, notes = _one(hand, "upper", "854231,852990")
    # upper: 854231 over all four years through HS2012 854231; 852990 <- HS2017 852990
    assert upper["baseline_usd"] == pytest.approx((100.0 + 300.0 + 500.0) / 4 + 70.0 / 4)
    assert any("852990 <- 852990" in n and "upper" in n for n in notes)
    reported, _ = _one(hand, "reported", "854231,852990")
    assert reported["baseline_usd"] == pytest.approx((100 + 300 + 500 + 70) / 4)


def test_modes_in_the_product_map() -> None:
    rows, _ = product_map("852990", ["HS2017"], "upper")
    assert [(r["hs"], r["hs2022"]) for r in rows] == [("852990", "852990")]
    rows, _ = product_map("852990", ["HS2017"], "strict")
    assert rows == []
    rows, notes = product_map("880730", ["HS2017"], "reported")
    assert rows == [] and "880730 does not exist in HS2017" in notes[0]
    with pytest.raises(UsageError, match=r"^concordance 'loose'"):
        product_map("chpl", ["HS2017"], "loose")


def test_concordance_notes_fold_into_one_line() -> None:
    _, notes = product_map("chpl", ["HS2012", "HS2017"], "strict")
    notes = [*notes, "value over 2023-01..2023-09"]
    short = summarize_notes(notes)
    assert len(short) == 2 and short[-1] == "value over 2023-01..2023-09"
    assert short[0].startswith("concordance: ") and "--notes" in short[0]
    assert summarize_notes(notes, full=True) == notes
