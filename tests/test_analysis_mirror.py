"""Mirror gaps: every expected number derived here from the rows below."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from tests._engines import engine, make_con, rows, spark_session  # noqa: F401
from transship.analysis.mirror import mirror
from transship.errors import UsageError

M = 1e6
# TUR reports exports of CHPL 854800 to KAZ of 4M in Jan-Mar and May; none in April, though
# it reported other exports that month (so April is a reported zero). KAZ reports imports
# (CIF) of 1.06M a month from TUR, and reports nothing at all in May (missing). UZB reports
# imports from CHN every month but none from TUR (a reported zero against TUR's 2M a month).
ROWS = ["rep,par,flow,hs,rev,period,usd"]
for mo in range(1, 6):
    p = f"2023-{mo:02d}"
    if mo != 4:
        ROWS.append(f"TUR,KAZ,export,854800,HS2022,{p},{4 * M}")
    ROWS.append(f"TUR,DEU,export,854800,HS2022,{p},1")
    ROWS.append(f"TUR,UZB,export,854800,HS2022,{p},{2 * M}")
    if mo != 5:
        ROWS.append(f"KAZ,TUR,import,854800,HS2022,{p},{1.06 * M}")
    ROWS.append(f"UZB,CHN,import,854800,HS2022,{p},5")
TEXT = "\n".join(ROWS) + "\n"


@pytest.fixture
def con(make_con: Callable[..., Any]) -> Any:  # noqa: F811
    return make_con(TEXT)


def test_rolling_windows_gaps_and_flags(con: Any) -> None:
    r = mirror(con, exporters="TUR", importers="KAZ+UZB", period="2023-01..2023-05")
    got = {(row["importer"], row["period"].month): row for row in rows(r)}
    assert sorted(got) == [("KAZ", 3), ("KAZ", 4), ("KAZ", 5), ("UZB", 3), ("UZB", 4),
                           ("UZB", 5)]  # fmt: skip  # whole 3-month windows only
    mar, apr, may = got["KAZ", 3], got["KAZ", 4], got["KAZ", 5]
    x, m_fob = 3 * 4 * M, 3 * 1.06 * M / 1.06  # Jan-Mar
    assert mar["x_usd"] == pytest.approx(x) and mar["m_fob_usd"] == pytest.approx(m_fob)
    assert mar["m_usd"] == pytest.approx(3 * 1.06 * M)
    assert mar["gap_usd"] == pytest.approx(x - m_fob)
    assert mar["log_ratio"] == pytest.approx(math.log(x / m_fob))
    assert mar["sym_share"] == pytest.approx(abs(x - m_fob) / (x + m_fob))
    # Feb-Apr: April is a reported zero on TUR's side
    assert apr["x_usd"] == pytest.approx(2 * 4 * M)
    assert apr["log_ratio"] == pytest.approx(math.log(8 / 3))
    assert (mar["breach"], apr["breach"], mar["flag"], apr["flag"]) == (True, True, True, True)
    # Mar-May: KAZ did not report in May -> missing, not zero; no verdict
    assert may["m_missing"] is True and may["m_usd"] is None and may["gap_usd"] is None
    assert may["x_missing"] is False and may["x_usd"] == pytest.approx(2 * 4 * M)
    assert may["breach"] is None and may["flag"] is False
    # UZB reported imports (from CHN) but none from TUR: a zero side, an infinite ratio
    uzb = got["UZB", 3]
    assert uzb["m_usd"] == 0 and uzb["log_ratio"] is None and uzb["sym_share"] == 1
    assert uzb["breach"] is True and all(got["UZB", mo]["flag"] for mo in (3, 4, 5))


@pytest.mark.slow(reason="four mirror runs, 2 s")
def test_thresholds_and_run_length_are_options(con: Any) -> None:
    r = mirror(con, exporters="TUR", importers="KAZ", period="2023-01..2023-05",
               min_consecutive=3)  # fmt: skip
    assert [row["flag"] for row in rows(r)] == [False, False, False]  # a run of 2 only
    r = mirror(con, exporters="TUR", importers="KAZ", period="2023-01..2023-05",
               log_threshold=math.log(3))  # fmt: skip  # Mar: ln 4 > ln 3; Apr: ln 8/3 < ln 3
    assert [row["breach"] for row in rows(r)] == [True, False, None]
    r = mirror(con, exporters="TUR", importers="KAZ", period="2023-01..2023-05",
               gap_threshold_usd=9 * M, window=1)  # fmt: skip  # single months: gap 3M
    assert [row["breach"] for row in rows(r)] == [False, False, False, False, None]
    r = mirror(con, exporters="TUR", importers="KAZ", period="2023-01..2023-05", cif_factor=1.0)
    assert rows(r)[0]["m_fob_usd"] == pytest.approx(3 * 1.06 * M)


def test_whole_period_and_by_product(con: Any) -> None:
    r = mirror(con, exporters="TUR", importers="KAZ", period="2023-01..2023-04", window=None,
               by_product=True)  # fmt: skip
    (row,) = rows(r)
    x, m = 3 * 4 * M, 4 * 1.06 * M
    assert row["hs2022"] == "854800" and row["period"] is None
    assert row["gap_usd"] == pytest.approx(x - m / 1.06)
    assert row["breach"] is True and row["flag"] is True
    r = mirror(con, exporters="TUR", importers="KAZ", period="2023-01..2023-05", window=None)
    assert rows(r)[0]["m_missing"] is True  # May unreported: the whole-period total is unknown


def test_bad_options(con: Any) -> None:
    with pytest.raises(UsageError, match=r"^cif_factor must be positive"):
        mirror(con, exporters="TUR", importers="KAZ", cif_factor=0)
    with pytest.raises(UsageError, match="window"):
        mirror(con, exporters="TUR", importers="KAZ", window=0)
