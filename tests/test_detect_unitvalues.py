"""The unit-value detector's pieces on hand-made SYNTHETIC numbers: the step scan's closed
form against least squares, the months two codes share, and its tests on a small warehouse
whose rows are split in two (a second source) or not, which must give the same tests."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from transship.analysis.detect.unitvalues import _co_months, _step_scan

PARAMS = {"min_post_months": 4, "min_base_months": 12, "min_spread": 0.05}


def test_step_scan_solves_the_trend_and_step_regression() -> None:
    """One series: 24 baseline months, then 12 with its log unit value 0.3 higher, on a
    trend of 0.1 a year, plus noise; columns 0 (before the splits) and 4 buckets of 3."""
    rng = np.random.default_rng(3)
    t = np.arange(36) / 12.0
    y = 2.0 + 0.1 * t + 0.3 * (np.arange(36) >= 24) + rng.normal(0, 0.02, 36)
    col = np.where(np.arange(36) < 24, 0, (np.arange(36) - 24) // 3 + 1)
    sums = {"n": np.ones(36), "st": t, "stt": t * t, "sy": y, "sty": t * y, "syy": y * y,
            "sv": np.full(36, 1e5)}  # fmt: skip
    cube = {k: np.bincount(col, weights=v, minlength=5)[None, :] for k, v in sums.items()}
    z, d, v_post, n_post = _step_scan(cube, PARAMS)
    assert n_post[0].tolist() == [12, 9, 6, 3] and v_post[0, 0] == pytest.approx(1.2e6)
    for k in range(3):  # the last split leaves 3 months, fewer than min_post_months
        x = np.column_stack([np.ones(36), t, np.arange(36) >= 24 + 3 * k])
        beta, rss, *_ = np.linalg.lstsq(x, y, rcond=None)
        se = math.sqrt(max(rss[0] / 33, 0.05**2) * np.linalg.inv(x.T @ x)[2, 2])
        assert d[0, k] == pytest.approx(beta[2], rel=1e-9)
        assert z[0, k] == pytest.approx(beta[2] / se, rel=1e-9)
    # the residual spread is below min_spread: z = 0.30 / (0.05 x its standard factor)
    assert d[0, 0] == pytest.approx(0.3, abs=0.01) and 9 < z[0, 0] < 10.5
    assert z[0, 3] == 0.0 and d[0, 3] == 0.0


def test_co_months_counts_the_months_both_codes_traded() -> None:
    """Buckets of 3 months from 2022-03: the neighbour traded months 0, 1 and 4, the CHPL
    code months 1, 4 and 5: two in common, the first 2022-04."""
    bk = {"row": np.array([0, 0, 0, 1, 1]), "b": np.array([-1, 0, 1, 0, 1]),
          "mask": np.array([0b111, 0b011, 0b010, 0b010, 0b110])}  # fmt: skip
    co, first = _co_months(bk, np.array([0]), np.array([1]), 3, date(2022, 3, 1))
    assert co.tolist() == [2] and first == [date(2022, 4, 1)]


CODES = {"848210": ("chpl", 40.0), "848299": ("control", 10.0)}  # USD/kg


def _rows(split: bool) -> object:
    """Exports of 848210 and 848299 from 5 countries to 4, monthly 2019-2024 (2019-2021
    HS2017 rows, the same codes), unit values with noise; DEU->POL's 848299 from 2023-01
    at 1.8x its unit value (the CHPL goods under it). `split`: every row as two half rows of
    two sources (each under min_month_usd when the row is under twice it)."""
    import pandas as pd

    rng = np.random.default_rng(11)
    rows = []
    for rep in ("DEU", "FRA", "ITA", "ESP", "NLD"):
        for par in ("POL", "CZE", "AUT", "BEL"):
            for hs, (_, uv0) in CODES.items():
                level = rng.uniform(2e4, 6e4)
                for m in range(72):
                    period = date(2019 + m // 12, m % 12 + 1, 1)
                    v = level * math.exp(rng.normal(0, 0.2))
                    uv = uv0 * math.exp(rng.normal(0, 0.08))
                    if (rep, par, hs) == ("DEU", "POL", "848299") and m >= 48:
                        uv *= 1.8
                    rev = "HS2017" if period.year < 2022 else "HS2022"
                    parts = [("a", 0.5), ("b", 0.5)] if split else [("a", 1.0)]
                    for src, w in parts:
                        rows.append((src, rep, par, "export", hs, rev, period, "M", v * w,
                                     v * w / uv))  # fmt: skip
    cols = ["source", "reporter", "partner", "flow", "hs", "hs_rev", "period", "freq",
            "value_usd", "net_kg"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def _tests(split: bool) -> tuple[object, int]:
    import duckdb
    import ibis

    from transship.analysis.detect.base import Context
    from transship.analysis.detect.unitvalues import UnitValueDetector

    raw = duckdb.connect()
    raw.register("rows", _rows(split))
    raw.execute("CREATE TABLE trade_flows AS SELECT * FROM rows")
    con = ibis.duckdb.from_connection(raw)
    tests = UnitValueDetector().candidates(Context(con))
    assert tests is not None
    recs, _, n = tests
    return recs, n


def test_unit_values_step_and_the_same_tests_from_split_rows() -> None:
    """DEU->POL's 848299 stepped toward 848210 from 2023-01: the step test finds it at the
    split of 2023-01 (p < 1e-6); the other 19 pairs' steps stay unremarkable. Rows split in
    two sources (half of them under min_month_usd alone) give the same tests: the months are
    summed before any test."""
    recs, n = _tests(split=False)
    assert n == 20 and len(recs) == 20  # one neighbour series a pair, one CHPL code
    hit = recs[(recs.reporter == "DEU") & (recs.partner == "POL")].iloc[0]
    assert hit.p_step < 1e-6 and hit.k_step == 3  # splits every 3 months from 2022-03
    assert (recs.pv > 1e-3).sum() >= 18
    again, n2 = _tests(split=True)
    assert n2 == n
    a = recs.sort_values(["reporter", "partner"]).reset_index(drop=True)
    b = again.sort_values(["reporter", "partner"]).reset_index(drop=True)
    for c in ("nn", "m1", "v1", "lu0", "lc", "lm1", "p_step", "k_step", "pv"):
        assert np.allclose(a[c].to_numpy(float), b[c].to_numpy(float), rtol=1e-9), c
