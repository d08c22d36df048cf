"""Surge scores and event studies: medians, MADs and indices computed here by hand."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from tests._engines import engine, make_con, rows, spark_session  # noqa: F401
from transship.analysis.anomalies import anomalies, event_study
from transship.errors import UsageError

# TUR->KAZ: 12 pre months (2021) at 100 * e^d; post 2022-01..03: 100, nothing, 100 e^3
D = [0, 0, 0, 0, 0, 0, 0.5, 0.5, 0.5, -0.5, -0.5, -0.5]
POST_KAZ = {1: 100.0, 3: 100 * math.exp(3)}
# TUR->UZB: flat at 50 (MAD 0: the floor 0.1 applies), post 50 e^0.2 every month
# TUR->RUS: only 11 positive pre months
# event study (eo14114, 2023-12-22): TUR->GEO 2023-10: 10, 2023-11: 30, 2023-12: none, 2024-01: 40


def _rows() -> str:
    out = ["rep,par,flow,hs,rev,period,usd"]
    for mo, d in enumerate(D, start=1):
        out.append(f"TUR,KAZ,export,854800,HS2022,2021-{mo:02d},{100 * math.exp(d)!r}")
        out.append(f"TUR,UZB,export,854800,HS2022,2021-{mo:02d},50")
        if mo != 5:
            out.append(f"TUR,RUS,export,854800,HS2022,2021-{mo:02d},70")
    for mo, v in POST_KAZ.items():
        out.append(f"TUR,KAZ,export,854800,HS2022,2022-{mo:02d},{v!r}")
    for mo in (1, 2, 3):
        out.append(f"TUR,UZB,export,854800,HS2022,2022-{mo:02d},{50 * math.exp(0.2)!r}")
        out.append(f"TUR,RUS,export,854800,HS2022,2022-{mo:02d},700")
    for p, v in (("2023-10", 10), ("2023-11", 30), ("2024-01", 40)):
        out.append(f"TUR,GEO,export,854800,HS2022,{p},{v}")
    return "\n".join(out) + "\n"


@pytest.fixture
def con(make_con: Callable[..., Any]) -> Any:  # noqa: F811
    return make_con(_rows())


def test_robust_surge_scores(con: Any) -> None:
    r = anomalies(con, reporter="TUR", pre="2021", post="2022-01..2022-03")
    got = {row["partner"]: row for row in rows(r)}
    assert set(got) == {"KAZ", "UZB"}  # RUS has 11 positive pre months < 12
    kaz = got["KAZ"]
    med, mad = math.log(100), 0.25  # |d| = six 0s and six 0.5s: median (0 + 0.5) / 2
    post = (100 + 100 * math.exp(3)) / 3  # February has no row: zero
    assert kaz["pre_median_usd"] == pytest.approx(100)
    assert kaz["pre_mad"] == pytest.approx(mad)
    assert kaz["post_usd"] == pytest.approx(post)
    assert kaz["score"] == pytest.approx((math.log(post) - med) / (1.4826 * mad))
    assert kaz["first_surge_period"].isoformat() == "2022-03-01"  # 3 / 0.371 > 3.5; Jan is 0
    uzb = got["UZB"]
    assert uzb["pre_mad"] == 0 and uzb["score"] == pytest.approx(0.2 / 0.1)  # floor
    assert uzb["first_surge_period"] is None  # 2 < 3.5
    assert (kaz["rank"], uzb["rank"]) == (1, 2)
    r = anomalies(con, reporter="TUR", partner="RUS", pre="2021", post="2022-01..2022-03",
                  min_pre_months=11)  # fmt: skip
    (rus,) = rows(r)
    assert rus["score"] == pytest.approx(math.log(10) / 0.1)


def test_event_study_levels_and_index(con: Any) -> None:
    r = event_study(con, event="eo14114", reporter="TUR", partner="GEO", before=2, after=1)
    got = rows(r)
    assert [row["rel_month"] for row in got] == [-2, -1, 0, 1]
    assert [row["period"].isoformat() for row in got] == [
        "2023-10-01", "2023-11-01", "2023-12-01", "2024-01-01"]  # fmt: skip
    assert [row["value_usd"] for row in got] == [10, 30, 0, 40]
    pre_mean = (10 + 30) / 2
    assert all(row["pre_mean_usd"] == pre_mean for row in got)
    assert [row["index"] for row in got] == pytest.approx([v / pre_mean for v in (10, 30, 0, 40)])
    assert any("2023-12-22" in n and "14114" in n for n in r.notes)


def test_bad_windows(con: Any) -> None:
    with pytest.raises(UsageError, match=r"post 2021-06\.\.2022-01 must start after pre 2021"):
        anomalies(con, pre="2021", post="2021-06..2022-01")
    with pytest.raises(UsageError, match=r"^before must be at least 1"):
        event_study(con, before=0)
