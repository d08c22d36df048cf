"""UN Comtrade connector, offline: recorded responses through httpx.MockTransport, no sleeping."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests._comtrade import (
    FT_PARTNERS,
    KEY,
    Api,
    Clock,
    combos,
    fixture,
    normal_route,
)
from transship import reference
from transship.cli import app
from transship.errors import InputError, UsageError
from transship.sources import comtrade as ct
from transship.sources.comtrade import rows_from_body
from transship.sources.comtrade_plan import (
    Plan,
    Request,
    plan_comtrade,
    product_codes,
)


# -- planning --------------------------------------------------------------------------------
def test_ft_data_set_plan_with_a_key() -> None:
    plan = plan_comtrade(
        reporters="TUR",
        partners="russia+ft_five",
        products="chpl",
        period="2015-01..2024-12",
        freq="M",
        flows=["export", "import"],
        mirror=True,
        tier="free",
    )
    cmds = product_codes("chpl")
    assert len(cmds) >= 50  # the 50 HS2022 codes plus older equivalents
    # Per group: 1 x 6 x len(cmds) x 2 flows x 12 months fits 100k, so one call per year.
    assert 1 * 6 * len(cmds) * 2 * 12 <= 100_000
    assert [len(g.requests) for g in plan.groups] == [10, 10]
    assert plan.groups[1].reporters == FT_PARTNERS and plan.groups[1].partners == ("TUR",)
    assert plan.groups[1].flows == ("import", "export")
    for r in plan.requests:
        assert len(r.periods) <= 12
        assert len(r.url("free")) <= 4096
    tur = reference.country("TUR").comtrade
    months = {f"{y}{m:02d}" for y in range(2015, 2025) for m in range(1, 13)}
    partners = {reference.country(p).comtrade for p in FT_PARTNERS}
    expected = {c for c in itertools.product([tur], partners, cmds, ["X", "M"], months)}
    got = combos(plan.groups[0].requests)
    assert set(got) == expected and max(got.values()) == 1
    premium = plan_comtrade(
        reporters="TUR",
        partners="russia+ft_five",
        period="2015-01..2024-12",
        mirror=True,
        tier="premium",
    )
    assert len(premium.requests) == 20  # the 12-period limit binds before the record cap


def test_preview_plan_splits_to_500_records_and_covers_everything_once() -> None:
    free = plan_comtrade(reporters="TUR", partners="russia+ft_five", period="2023", tier="free")
    preview = plan_comtrade(
        reporters="TUR", partners="russia+ft_five", period="2023", tier="preview"
    )
    assert all(r.estimate <= 500 for r in preview.requests)
    assert len(preview.requests) > len(free.requests) == 1
    assert combos(preview.requests) == combos(free.requests)
    assert all(
        r.url("preview").startswith("https://comtradeapi.un.org/public/v1/preview/C/M/HS?")
        for r in preview.requests
    )


def test_long_code_lists_are_split_under_the_url_limit() -> None:
    plan = plan_comtrade(reporters="TUR", partners="RUS", products="84,85", period="2023-01")
    whole = Request(("792",), ("643",), plan.cmds, ("X", "M"), ("202301",), "M")
    assert len(whole.url("free")) > 4096  # ~1,000 codes do not fit one URL
    assert len(plan.requests) > 1
    assert all(len(r.url("free")) <= 4096 for r in plan.requests)
    assert combos(plan.requests) == combos([whole])


def test_plan_rejects_bad_options() -> None:
    with pytest.raises(UsageError, match="freq"):
        plan_comtrade(reporters="TUR", partners="RUS", period="2023", freq="Q")
    with pytest.raises(UsageError, match="flows"):
        plan_comtrade(reporters="TUR", partners="RUS", period="2023", flows=["transit"])


# -- mapping ---------------------------------------------------------------------------------
def test_real_recorded_response_maps_fields(shared_data: Path) -> None:
    d = shared_data / "comtrade-api-v1-fixtures"
    pretty = json.loads((d / "data_v1_get_C_A_HS__chn_arg_deu_2010_TOTAL.json").read_text())
    compact = json.loads(
        (d / "data_v1_get_C_A_HS__chn_arg_deu_2010_TOTAL.compact_body.json").read_text()
    )
    skipped: Counter[str] = Counter()
    assert rows_from_body(pretty, label="pretty", skipped=skipped) == []  # TOTAL is not HS6
    assert skipped == {"non-HS6 rows (TOTAL)": 4}
    rows = rows_from_body(pretty, label="pretty", all_levels=True)
    assert len(rows) == 4
    by = {(r["partner"], r["flow"]): r for r in rows}
    assert set(by) == {("ARG", "import"), ("ARG", "export"), ("DEU", "import"), ("DEU", "export")}
    for rec in pretty["data"]:
        r = by[(rec["partnerISO"], "import" if rec["flowCode"] == "M" else "export")]
        assert r["value_usd"] == rec["primaryValue"]  # USD, not thousands
        expected_valuation = "CIF" if rec["flowCode"] == "M" else "FOB"
        assert r["valuation"] == expected_valuation
        assert (rec["cifvalue"] if rec["flowCode"] == "M" else rec["fobvalue"]) == r["value_usd"]
    assert {r["reporter"] for r in rows} == {"CHN"}
    assert {(r["period"], r["freq"], r["hs_rev"], r["hs"]) for r in rows} == {
        (date(2010, 1, 1), "A", "HS2007", "TOTAL")  # refMonth 52 = annual; H3 = HS2007
    }
    key = lambda r: (r["partner"], r["flow"])  # noqa: E731
    assert sorted(rows_from_body(compact, label="c", all_levels=True), key=key) == sorted(
        rows, key=key
    )
    empty = json.loads((d / "data_v1_get_S_A_EB__empty_result.json").read_text())
    assert rows_from_body(empty, label="empty") == []


def test_written_responses_map_and_skip() -> None:
    skipped: Counter[str] = Counter()
    rows = rows_from_body(fixture("normal.json")["body"], label="n", skipped=skipped)
    assert skipped == {"breakdown rows (not totals)": 1, "non-HS6 rows (4-digit)": 1}
    assert [(r["partner"], r["flow"], r["hs"], r["value_usd"], r["valuation"]) for r in rows] == [
        ("RUS", "export", "854231", 1250000.0, "FOB"),
        ("KAZ", "export", "854231", 310000.0, "FOB"),
        ("RUS", "import", "847130", 42000.0, "CIF"),
    ]
    assert (rows[0]["net_kg"], rows[0]["qty"], rows[0]["qty_unit"]) == (120.5, 3000.0, "u")
    assert (rows[1]["net_kg"], rows[1]["qty"], rows[1]["qty_unit"]) == (None, None, None)
    annual = rows_from_body(fixture("annual_h5.json")["body"], label="a")
    assert [(r["period"], r["freq"], r["hs_rev"], r["value_usd"]) for r in annual] == [
        (date(2019, 1, 1), "A", "HS2017", 5300000.5)
    ]


def test_unknown_country_code_names_the_record() -> None:
    body = fixture("normal.json")["body"]
    body["data"][1]["partnerCode"] = 99999
    with pytest.raises(InputError, match=r"resp.json, column .partnerCode.: record 1: .*99999"):
        rows_from_body(body, label="resp.json")


# -- CLI -------------------------------------------------------------------------------------
def test_cli_dry_run_counts_requests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from transship.settings import get_settings

    monkeypatch.setenv("TRANSSHIP_COMTRADE_KEY", KEY)
    monkeypatch.setenv("TRANSSHIP_CACHE_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        res = CliRunner().invoke(
            app,
            [
                "fetch",
                "comtrade",
                "--reporters",
                "TUR",
                "--partners",
                "russia+ft_five",
                "--products",
                "chpl",
                "--period",
                "2015-01..2024-12",
                "--freq",
                "M",
                "--flows",
                "export,import",
                "--mirror",
                "--dry-run",
                "--format",
                "csv",
            ],
        )
    finally:
        get_settings.cache_clear()
    assert res.exit_code == 0, res.output
    lines = [line for line in res.stdout.splitlines() if line.startswith(("reported,", "mirror,"))]
    assert len(lines) == 20
    assert "20 requests for this free run" in res.output
    assert KEY not in res.output


def test_cli_error_is_one_line(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app,
        [
            "fetch",
            "comtrade",
            "--reporters",
            "TUR",
            "--partners",
            "RUS",
            "--period",
            "2023",
            "--flows",
            "transit",
            "--dry-run",
        ],
    )
    assert res.exit_code == 2
    assert "error:" in res.output and "--flow " in res.output


def test_cli_fetch_runs_the_plan_and_prints_no_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transship.settings import get_settings

    api = Api(normal_route)
    clock = Clock()
    real = ct.fetch_comtrade

    def offline(plan: Plan, wh: Any, **kw: Any) -> ct.FetchResult:
        kw.update(transport=api.transport, sleep=clock.sleep, clock=clock)
        return real(plan, wh, **kw)

    monkeypatch.setattr(ct, "fetch_comtrade", offline)
    monkeypatch.setenv("COMTRADE_PRIMARY", KEY)
    monkeypatch.setenv("TRANSSHIP_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()
    w = tmp_path / "w.duckdb"
    args = [
        "-w",
        str(w),
        "fetch",
        "comtrade",
        "--reporters",
        "TUR",
        "--partners",
        "RUS+KAZ",
        "--products",
        "854231,847130",
        "--period",
        "2023-01",
        "--mirror",
    ]
    try:
        res = CliRunner().invoke(app, [*args, "--format", "json"])
        again = CliRunner().invoke(app, [*args, "--format", "json"])
        listed = CliRunner().invoke(app, ["-w", str(w), "sources", "--format", "json"])
    finally:
        get_settings.cache_clear()
    assert res.exit_code == 0, res.output
    groups = json.loads(res.stdout)
    assert [(g["group"], g["calls"], g["rows_written"]) for g in groups] == [
        ("reported", 1, 3),
        ("mirror", 1, 2),
    ]
    assert [g["from_cache"] for g in json.loads(again.stdout)] == [1, 1]
    assert len(api.calls) == 2  # the second run was answered from the cache
    assert clock.sleeps == [6.0]  # default throttle between the two calls
    src = {r["source"]: r for r in json.loads(listed.stdout)}
    assert src["comtrade"]["rows"] == 5 and src["comtrade"]["key set"] == "yes"
    assert src["comtrade"]["cached"].startswith("2 responses")
    for out in (res.output, again.output, listed.output):
        assert KEY not in out
