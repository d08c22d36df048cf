"""The first query: sums derived by hand, CHPL matched in each period's HS revision."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests._engines import engine, make_con, spark_session  # noqa: F401
from tests.conftest import write
from transship.analysis.flows import flows
from transship.errors import UsageError
from transship.periods import parse_period
from transship.sources.csvfile import csv_file
from transship.warehouse import Warehouse

ROWS = """rep,par,flow,hs,rev,period,usd
TUR,RUS,export,854890,HS2017,2019-05,100
TUR,RUS,export,880330,HS2017,2019-05,40
TUR,KAZ,export,854140,HS2017,2019-05,1000
TUR,KAZ,export,854151,HS2022,2023-01,7
TUR,KAZ,export,854800,HS2022,2023-02,3
TUR,KAZ,import,854800,HS2022,2023-02,11
TUR,ARM,export,854800,HS2022,2023-02,13
DEU,RUS,export,854800,HS2022,2023-02,17
TUR,RUS,export,854890,HS2017,2019,5
"""
MAP = ["rep=reporter", "par=partner", "flow=flow", "hs=hs", "rev=hs_rev", "period=period",
       "usd=value_usd"]  # fmt: skip


@pytest.fixture
def con(wh: Warehouse, tmp_path: Path) -> object:
    wh.ingest(csv_file(write(tmp_path / "f.csv", ROWS), source="hand", mapping=MAP))
    return wh.ibis()


def table(result: object) -> list[dict[str, object]]:
    return result.to_pyarrow().to_pylist()  # type: ignore[attr-defined, no-any-return]


def test_chpl_in_older_revision_maps_through_concordance(con: object) -> None:
    r = flows(con, reporter="TUR", partner="russia+ft_five", period="2019", by=["hs2022", "tier"])
    got = {(row["hs2022"], row["tier"]): row["value_usd"] for row in table(r)}
    # 854890 (HS2017) is CHPL 854800 (tier 2), 880330 is 880730 (tier 3.B), 854140 is the
    # single HS2017 code of 854149 (3.A) -- an upper bound, and said so; 854151/854159 have no
    # comparable HS2017 code (n:n links only), so they are left out, and named.
    assert got == {("854800", "2"): 100.0, ("880730", "3.B"): 40.0, ("854149", "3.A"): 1000.0}
    assert r.freq == "M"  # the annual 2019 row is not added on top of the months
    assert any(n.startswith("854151 left out of HS2017") for n in r.notes)
    assert any("upper bounds" in n and "854149" in n for n in r.notes)


def test_group_expressions_flow_and_period_filter(con: object) -> None:
    r = flows(con, reporter="TUR", partner="russia+ft_five", period="2023-01..2023-09",
              by=["partner"])  # fmt: skip
    # KAZ exports 7 + 3; the import (11), Armenia (13, not in ft_five) and DEU are out
    assert {row["partner"]: row["value_usd"] for row in table(r)} == {"KAZ": 10.0}
    r = flows(con, reporter="g7-JPN", period="2023", by=["reporter"])
    assert table(r) == [{"reporter": "DEU", "value_usd": 17.0, "rows": 1}]
    r = flows(con, reporter="TUR", partner="KAZ", flow="import", period="2023", by=[])
    assert table(r)[0]["value_usd"] == 11.0


def test_annual_when_asked(con: object) -> None:
    r = flows(con, reporter="TUR", period="2019", freq="A", by=["period"])
    assert [row["value_usd"] for row in table(r)] == [5.0]


def test_tiers_select_products(con: object) -> None:
    r = flows(con, reporter="TUR", products="chpl:tier3.A", period="2023", by=["hs"])
    assert {row["hs"]: row["value_usd"] for row in table(r)} == {"854151": 7.0}


def test_bad_arguments_are_named(con: object) -> None:
    with pytest.raises(UsageError, match="dimensions are"):
        flows(con, by=["nonsense"])
    with pytest.raises(ValueError, match="narnia"):
        flows(con, reporter="narnia")
    with pytest.raises(UsageError, match="expected YYYY"):
        flows(con, period="2023/01")


def test_period_parsing() -> None:
    p = parse_period("2023-01..2023-09")
    assert (str(p), p.months) == ("2023-01..2023-09", 9)
    assert parse_period("2015..2021").months == 84
    assert str(parse_period("2023-05")) == "2023-05..2023-05"
    with pytest.raises(UsageError, match="before the start"):
        parse_period("2023..2022")


CMP_ROWS = """rep,par,flow,hs,rev,period,usd
TUR,KAZ,export,854800,HS2022,2023-01,30
TUR,KAZ,export,854800,HS2022,2023-02,50
TUR,KAZ,export,854800,HS2022,2023-10,999
TUR,KAZ,export,854800,HS2022,2022-01,10
TUR,KAZ,export,854800,HS2022,2022-02,5
TUR,RUS,export,854800,HS2022,2022-02,7
TUR,KAZ,export,854890,HS2017,2019-01,6
TUR,KAZ,export,854890,HS2017,2019-02,2
TUR,KAZ,export,854890,HS2017,2019-03,100
TUR,KAZ,export,854890,HS2017,2020-01,8
"""


@pytest.fixture
def cmp_con(make_con: Callable[..., Any]) -> Any:  # noqa: F811  # DuckDB and Spark
    return make_con(CMP_ROWS)


def test_compare_prior_and_baseline_by_partner(cmp_con: object) -> None:
    r = flows(cmp_con, reporter="TUR", period="2023-01..2023-02", by=["partner"],
              compare="prior", baseline="2019..2020")  # fmt: skip
    got = {row["partner"]: row for row in table(r)}
    kaz, rus = got["KAZ"], got["RUS"]
    value, prior = 30 + 50, 10 + 5
    base = (6 + 2 + 8) / 2  # Jan+Feb of 2019 and 2020 (854890 = CHPL 854800 in HS2017), / 2 years
    assert kaz["value_usd"] == value and kaz["rows"] == 2
    assert kaz["compare_usd"] == prior
    assert kaz["compare_multiple"] == pytest.approx(value / prior)
    assert kaz["compare_change_usd"] == value - prior
    assert kaz["baseline_usd"] == pytest.approx(base)
    assert kaz["baseline_multiple"] == pytest.approx(value / base)
    assert kaz["baseline_change_usd"] == pytest.approx(value - base)
    # a partner with trade only in the compare window: 0 now, multiple 0; no baseline -> null
    assert (rus["value_usd"], rus["compare_usd"], rus["compare_multiple"]) == (0, 7, 0)
    assert rus["baseline_usd"] == 0 and rus["baseline_multiple"] is None
    assert r.params["compare"] == "2022-01..2022-02"


def test_compare_and_baseline_month_by_month(cmp_con: object) -> None:
    r = flows(cmp_con, reporter="TUR", partner="KAZ", period="2023-01..2023-02", by=["period"],
              compare="2022-01..2022-02", baseline="2018..2020")  # fmt: skip
    rows = table(r)
    assert [row["period"].isoformat() for row in rows] == ["2023-01-01", "2023-02-01"]
    assert [row["compare_usd"] for row in rows] == [10, 5]
    # 3 baseline years (2018 has no rows and counts as zero): Jan (6+8)/3, Feb 2/3
    assert [row["baseline_usd"] for row in rows] == pytest.approx([(6 + 8) / 3, 2 / 3])
    assert any("2018" in n and "zero" in n for n in r.notes)


def test_compare_needs_equal_length_and_a_period(cmp_con: object) -> None:
    with pytest.raises(UsageError, match="equal lengths"):
        flows(cmp_con, period="2023-01..2023-02", compare="2022-01..2022-06")
    with pytest.raises(UsageError, match=r"^compare and baseline need period "):
        flows(cmp_con, compare="prior")
    with pytest.raises(UsageError, match="overlaps"):
        flows(cmp_con, period="2023-01..2023-02", baseline="2022..2023")
