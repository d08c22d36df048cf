"""Hub DiD: growths, the estimate, its standard error and the ranking, derived by hand."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from tests._engines import engine, make_con, rows, spark_session  # noqa: F401
from transship import reference
from transship.analysis.hubs import _pre_months, control_basket, hubs
from transship.errors import UsageError

# (hs as reported, revision, pre-window total 2019..2020, post-window total 2022-03..2022-04)
# Pre means divide by 24 months, post by 2: growth g = ln(post mean / pre mean).
TUR_TO_RUS = [
    ("854890", "HS2017", 24, 8),  # CHPL 854800: 1 -> 4 a month, g = ln 4
    ("880330", "HS2017", 48, 32),  # CHPL 880730: 2 -> 16, g = ln 8
    ("848210", "HS2017", 24, 4),  # CHPL 848210: 1 -> 2, g = ln 2
    ("851711", "HS2017", 24, 2),  # control: 1 -> 1, g = 0
    ("848240", "HS2017", 24, 4),  # control: 1 -> 2, g = ln 2
    ("848280", "HS2017", 24, 1),  # control: 1 -> 0.5, g = -ln 2
    ("848291", "HS2017", 24, 0),  # control traded before only: not in the growth
]


def _rows() -> str:
    out = ["rep,par,flow,hs,rev,period,usd"]
    for hs, rev, pre, post in TUR_TO_RUS:
        out.append(f"TUR,RUS,export,{hs},{rev},2019-06,{pre}")
        if post:
            hs22 = {"854890": "854800", "880330": "880730"}.get(hs, hs)
            out.append(f"TUR,RUS,export,{hs22},HS2022,2022-03,{post}")
    # KAZ: everything flat (g = 0 for all) -> did 0
    for hs, hs22 in (("854890", "854800"), ("851711", "851711"), ("848240", "848240")):
        out.append(f"KAZ,RUS,export,{hs},HS2017,2019-06,24")
        out.append(f"KAZ,RUS,export,{hs22},HS2022,2022-04,2")
    # TUR imports of CHPL from Germany (coalition), flat; no control imports
    out.append("TUR,DEU,import,854890,HS2017,2020-01,24")
    out.append("TUR,DEU,import,854800,HS2022,2022-04,2")
    # outside both windows, and the event month itself: ignored
    out.append("TUR,RUS,export,854800,HS2022,2022-02,999999")
    out.append("TUR,RUS,export,854800,HS2022,2021-06,999999")
    return "\n".join(out) + "\n"


@pytest.fixture
def con(make_con: Callable[..., Any]) -> Any:  # noqa: F811
    return make_con(_rows())


def test_did_estimate_se_and_rank(con: Any) -> None:
    r = hubs(con, hubs="TUR+KAZ", baseline="2019..2020", post="2022-03..2022-04")
    got = {(row["hub"], row["leg"]): row for row in rows(r)}
    tur = got["TUR", "exports_to_target"]
    ln2 = math.log(2)
    chpl_g, ctrl_g = [2 * ln2, 3 * ln2, ln2], [0.0, ln2, -ln2]
    mean = sum(chpl_g) / 3
    var = lambda xs: sum((x - sum(xs) / len(xs)) ** 2 for x in xs) / (len(xs) - 1)  # noqa: E731
    se = math.sqrt(var(chpl_g) / 3 + var(ctrl_g) / 3)
    assert tur["chpl_growth"] == pytest.approx(mean)
    assert tur["control_growth"] == pytest.approx(0.0, abs=1e-12)
    assert tur["did"] == pytest.approx(mean - 0.0)
    assert tur["se"] == pytest.approx(se)
    assert tur["ci_low"] == pytest.approx(mean - 1.959963984540054 * se)
    assert tur["ci_high"] == pytest.approx(mean + 1.959963984540054 * se)
    assert (tur["n_products"], tur["n_control"]) == (3, 3)
    assert tur["pre_usd"] == pytest.approx((1 + 2 + 1) * 12)  # annual rate of the CHPL rows
    assert tur["post_usd"] == pytest.approx((4 + 16 + 2) * 12)
    kaz = got["KAZ", "exports_to_target"]
    assert kaz["did"] == pytest.approx(0.0, abs=1e-12) and kaz["n_products"] == 1
    assert kaz["se"] is None  # one CHPL product: no product-level variance
    assert (tur["rank"], kaz["rank"]) == (1, 2)
    imp = got["TUR", "imports_from_coalition"]
    assert imp["chpl_growth"] == pytest.approx(0.0, abs=1e-12) and imp["did"] is None
    assert imp["rank"] == 1
    assert r.params["post"] == "2022-03..2022-04"
    assert any("invasion" in n for n in r.notes)


def test_post_defaults_to_month_after_event_through_last_data(con: Any) -> None:
    r = hubs(con, hubs="TUR", baseline="2019..2020")
    assert r.params["post"] == "2022-03..2022-04"


def test_control_basket_rule() -> None:
    basket = control_basket("chpl")
    chpl = {i.hs6 for i in reference.chpl()}
    assert basket and not set(basket) & chpl
    assert {"851711", "848240"} <= set(basket)  # same headings as 851762 / 848210
    assert "851712" not in basket  # not an HS2022 code (split into 851713/851714)
    assert {c[:4] for c in basket} <= {c[:4] for c in chpl}
    assert all(reference.hs6_exists(c, "HS2012") for c in basket)


def test_tier1_pre_months_count_only_comparable_years() -> None:
    n = _pre_months("854231+854800", [], reference_range("2015..2021"), "M")
    # 854231 has no comparable HS2012 code: 2017-2021 only (60 months); 854800 all 84
    assert n == {"854231": 60, "854800": 84}


def test_bad_windows(con: Any) -> None:
    with pytest.raises(UsageError, match="before the event"):
        hubs(con, baseline="2019..2022")
    with pytest.raises(UsageError, match="after the event month"):
        hubs(con, baseline="2019..2020", post="2022-02..2022-04")


def reference_range(text: str) -> Any:
    from transship.periods import parse_period

    return parse_period(text)
