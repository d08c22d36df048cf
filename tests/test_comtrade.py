"""UN Comtrade connector, offline: recorded responses through httpx.MockTransport, no sleeping."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from typer.testing import CliRunner

from transship import reference
from transship.cli import app
from transship.errors import InputError, UsageError
from transship.periods import parse_period
from transship.sources import comtrade as ct
from transship.sources.comtrade import ComtradeError, fetch_comtrade, rows_from_body
from transship.sources.comtrade_http import _retry_after
from transship.sources.comtrade_plan import (
    RECORD_CAP,
    Group,
    Plan,
    Request,
    Tier,
    plan_comtrade,
    product_codes,
)
from transship.warehouse import Warehouse

FIX = Path(__file__).parent / "fixtures" / "comtrade"
KEY = "k3y-never-to-be-seen-0123456789"
FT_PARTNERS = ("AZE", "GEO", "KAZ", "KGZ", "RUS", "UZB")


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIX / name).read_text(encoding="utf-8"))
    return data


def respond(name: str) -> httpx.Response:
    f = fixture(name)
    return httpx.Response(f["status"], json=f["body"], headers=f["headers"])


class Api:
    """A MockTransport handler: answers by the request's query, records every call."""

    def __init__(self, route: Any) -> None:
        self.route = route
        self.calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        q = {k: v[0] for k, v in parse_qs(urlparse(str(request.url)).query).items()}
        return self.route(q, request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


class Clock:
    """Fake monotonic clock; sleeping advances it and is recorded."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s


def run(plan: Plan, wh: Warehouse, api: Api, tmp_path: Path, **kw: Any) -> ct.FetchResult:
    clock = Clock()
    kw.setdefault("key", KEY)
    return fetch_comtrade(
        plan,
        wh,
        cache_dir=tmp_path / "cache",
        transport=api.transport,
        sleep=clock.sleep,
        clock=clock,
        **kw,
    )


def one_month_plan(mirror: bool = False, tier: Tier = "free") -> Plan:
    return plan_comtrade(
        reporters="TUR",
        partners="RUS+KAZ",
        products="854231,847130",
        period="2023-01",
        mirror=mirror,
        tier=tier,
    )


def combos(requests: list[Request]) -> Counter[tuple[str, ...]]:
    return Counter(
        c
        for r in requests
        for c in itertools.product(r.reporters, r.partners, r.cmds, r.flows, r.periods)
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


# -- fetching --------------------------------------------------------------------------------
def normal_route(q: dict[str, str], _: httpx.Request) -> httpx.Response:
    """normal.json / mirror.json, dated in the first period asked (they are recorded 2023-01)."""
    f = fixture("mirror.json" if q["reporterCode"] != "792" else "normal.json")
    period = q["period"].split(",")[0]
    for rec in f["body"]["data"]:
        rec["period"], rec["refYear"] = period, int(period[:4])
        rec["refMonth"] = int(period[4:]) if len(period) == 6 else 52
    return httpx.Response(f["status"], json=f["body"], headers=f["headers"])


def test_fetch_ingests_one_batch_per_group_with_provenance(wh: Warehouse, tmp_path: Path) -> None:
    api = Api(normal_route)
    result = run(one_month_plan(mirror=True), wh, api, tmp_path)
    assert [(g.group, g.calls, g.rows_written) for g in result.groups] == [
        ("reported", 1, 3),
        ("mirror", 1, 2),
    ]
    for call in api.calls:
        assert call.headers["Ocp-Apim-Subscription-Key"] == KEY
        assert call.url.path == "/data/v1/get/C/M/HS"
        q = parse_qs(call.url.query.decode())
        assert q["maxRecords"] == ["100000"] and q["motCode"] == ["0"]
    assert KEY not in str(api.calls[0].url)
    value = wh.con.execute(
        "SELECT value_usd, valuation FROM trade_flows WHERE reporter='KAZ' AND partner='TUR' "
        "AND flow='import' AND hs='854231' AND period='2023-01-01'"
    ).fetchall()
    assert value == [(95000.0, "CIF")]
    batches = wh.batches()
    assert len(batches) == 2 and {b["status"] for b in batches} == {"ok"}
    params = json.loads(next(b for b in batches if '"mirror"' in b["parameters"])["parameters"])
    assert params["endpoint"] == "https://comtradeapi.un.org/data/v1/get/C/M/HS"
    assert params["reporters"] == ["KAZ", "RUS"] and params["partners"] == ["TUR"]
    assert params["requests"] == 1 and len(params["retrieved"]) == 2
    assert "2 breakdown rows (not totals) not stored" not in result.notes
    assert "1 breakdown rows (not totals) not stored" in result.notes


def test_rerun_costs_no_call_and_refresh_asks_again(wh: Warehouse, tmp_path: Path) -> None:
    run(one_month_plan(), wh, Api(normal_route), tmp_path)

    def fail(q: dict[str, str], _: httpx.Request) -> httpx.Response:
        raise AssertionError("the cache should have answered")

    again = run(one_month_plan(), wh, Api(fail), tmp_path)
    assert [(g.calls, g.from_cache, g.rows_written, g.rows_replaced) for g in again.groups] == [
        (0, 1, 3, 3)
    ]
    assert wh.count() == 3  # replaced, not duplicated
    api = Api(normal_route)
    refreshed = run(one_month_plan(), wh, api, tmp_path, refresh=True)
    assert len(api.calls) == 1 and refreshed.groups[0].from_cache == 0


def test_key_is_never_stored_or_shown(wh: Warehouse, tmp_path: Path) -> None:
    run(one_month_plan(mirror=True), wh, Api(normal_route), tmp_path)
    for f in (tmp_path / "cache").rglob("*"):
        if f.is_file():
            assert KEY not in f.read_text(encoding="utf-8")
    dump = json.dumps(wh.batches(), default=str)
    assert KEY not in dump
    raw = wh.con.execute("SELECT string_agg(parameters::VARCHAR, ' ') FROM ingest_batches")
    assert KEY not in str(raw.fetchone())


def test_preview_without_key_sends_no_header(wh: Warehouse, tmp_path: Path) -> None:
    api = Api(normal_route)
    result = run(one_month_plan(tier="preview"), wh, api, tmp_path, key=None)
    assert api.calls[0].url.path == "/public/v1/preview/C/M/HS"
    assert "ocp-apim-subscription-key" not in {k.lower() for k in api.calls[0].headers}
    assert parse_qs(api.calls[0].url.query.decode())["maxRecords"] == ["500"]
    assert any("public preview" in n for n in result.notes)
    with pytest.raises(UsageError, match="TRANSSHIP_COMTRADE_KEY"):
        run(one_month_plan(tier="free"), wh, api, tmp_path, key=None)


def test_throttle_spaces_calls(wh: Warehouse, tmp_path: Path) -> None:
    plan = plan_comtrade(reporters="TUR", partners="RUS", products="854231", period="2022..2023")
    assert len(plan.requests) == 2
    clock = Clock()
    fetch_comtrade(
        plan,
        wh,
        key=KEY,
        cache_dir=tmp_path / "c",
        transport=Api(normal_route).transport,
        sleep=clock.sleep,
        clock=clock,
        throttle_s=6.0,
    )
    assert clock.sleeps == [6.0]  # the second call waits out the 6 s since the first


def test_429_retry_after_is_honoured(wh: Warehouse, tmp_path: Path) -> None:
    answers = iter(["rate_limited_429.json", "server_error_503.json", "normal.json"])
    api = Api(lambda q, r: respond(next(answers)))
    clock = Clock()
    result = fetch_comtrade(
        one_month_plan(),
        wh,
        key=KEY,
        cache_dir=tmp_path / "c",
        transport=api.transport,
        sleep=clock.sleep,
        clock=clock,
        throttle_s=0.0,
    )
    assert len(api.calls) == 3 and result.groups[0].rows_written == 3
    assert clock.sleeps[0] == 7.0  # Retry-After: 7
    assert clock.sleeps[1] == 4.0  # no Retry-After: exponential backoff (2 ** attempt)


def test_retry_after_http_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)
    assert _retry_after("Mon, 23 Nov 2026 09:00:30 GMT", now) == 30.0
    assert _retry_after("12", now) == 12.0
    assert _retry_after("garbage", now) is None


def test_persistent_failure_is_one_line_and_writes_nothing(wh: Warehouse, tmp_path: Path) -> None:
    api = Api(lambda q, r: respond("server_error_503.json"))
    with pytest.raises(ComtradeError) as e:
        run(one_month_plan(), wh, api, tmp_path)
    msg = str(e.value)
    assert "\n" not in msg and "after 5 attempts" in msg and "run the same command again" in msg
    assert len(api.calls) == 5 and wh.count() == 0 and wh.batches() == []


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("error_object.json", "UN Comtrade reported an error: Invalid cmdCode: 99999"),
        ("error_400.json", "HTTP 400: Invalid period parameter: 202313"),
    ],
)
def test_api_errors(wh: Warehouse, tmp_path: Path, name: str, pattern: str) -> None:
    api = Api(lambda q, r: respond(name))
    with pytest.raises(ComtradeError, match=pattern):
        run(one_month_plan(), wh, api, tmp_path)
    assert len(api.calls) == 1  # not retried
    assert not list((tmp_path / "cache").glob("*.json"))


def test_real_401_body_says_what_to_do(wh: Warehouse, tmp_path: Path, shared_data: Path) -> None:
    body = json.loads(
        (
            shared_data
            / "comtrade-api-v1-fixtures"
            / "data_v1_get_C_A_HS__error_401_missing_subscription_key.json"
        ).read_text()
    )
    api = Api(lambda q, r: httpx.Response(401, json=body))
    with pytest.raises(ComtradeError, match=r"missing subscription key.*TRANSSHIP_COMTRADE_KEY"):
        run(one_month_plan(), wh, api, tmp_path)


def test_empty_answer_is_an_empty_batch(wh: Warehouse, tmp_path: Path) -> None:
    result = run(one_month_plan(), wh, Api(lambda q, r: respond("empty.json")), tmp_path)
    assert result.groups[0].rows_written == 0 and wh.batches()[0]["status"] == "ok"


def test_capped_answer_is_split_and_re_asked(
    wh: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(RECORD_CAP, "free", 4)
    req = Request(("792",), ("643",), ("847130", "854231"), ("X",), ("202301",), "M")
    plan = Plan(
        "free",
        "M",
        parse_period("2023-01"),
        req.cmds,
        [Group("reported", ("TUR",), ("RUS",), ("export",), [req])],
    )

    def route(q: dict[str, str], _: httpx.Request) -> httpx.Response:
        return respond(
            {
                "847130,854231": "capped.json",
                "854231": "half_854231.json",
                "847130": "half_847130.json",
            }[q["cmdCode"]]
        )

    api = Api(route)
    result = run(plan, wh, api, tmp_path)
    assert [q.url.params["cmdCode"] for q in api.calls] == ["847130,854231", "847130", "854231"]
    g = result.groups[0]
    assert (g.splits, g.requests, g.rows_written) == (1, 2, 2)
    got = dict(wh.con.execute("SELECT hs, value_usd FROM trade_flows").fetchall())
    assert got == {
        "847130": 61000.0,
        "854231": 1250000.0,
    }  # the capped answer's values are not kept
    assert not (tmp_path / "cache" / f"{req.cache_key('free')}.json").exists()


def test_interrupted_run_resumes_from_cache(wh: Warehouse, tmp_path: Path) -> None:
    plan = plan_comtrade(
        reporters="TUR", partners="RUS", products="854231", period="2022..2023", mirror=True
    )
    assert [len(g.requests) for g in plan.groups] == [2, 2]
    n = 0

    def flaky(q: dict[str, str], r: httpx.Request) -> httpx.Response:
        nonlocal n
        n += 1
        if n == 4:  # the second mirror request: the connection dies for good
            raise KeyboardInterrupt
        return normal_route(q, r)

    with pytest.raises(KeyboardInterrupt):
        run(plan, wh, Api(flaky), tmp_path)
    batches = wh.batches()
    assert [json.loads(b["parameters"])["group"] for b in batches] == ["reported"]
    mirror_rows = wh.count("reporter <> 'TUR'")
    assert mirror_rows == 0  # no half batch of the mirror group
    api = Api(normal_route)
    result = run(plan, wh, api, tmp_path)
    assert len(api.calls) == 1  # only the request never answered
    assert [(g.calls, g.from_cache) for g in result.groups] == [(0, 2), (1, 1)]


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


def test_fetched_sides_feed_the_mirror_analysis(wh: Warehouse, tmp_path: Path) -> None:
    from transship.analysis.mirror import mirror

    run(one_month_plan(mirror=True), wh, Api(normal_route), tmp_path)
    rows = (
        mirror(wh.ibis(), exporters="TUR", importers="KAZ", products="854231", window=None)
        .to_pyarrow()
        .to_pylist()
    )
    assert len(rows) == 1
    row = rows[0]
    # TUR reported 310,000 USD exported to KAZ (FOB); KAZ reported 95,000 imported (CIF).
    assert (row["exporter"], row["importer"]) == ("TUR", "KAZ")
    assert (row["x_usd"], row["m_usd"]) == (310000.0, 95000.0)
    assert row["m_fob_usd"] == pytest.approx(95000.0 / 1.06)
    assert row["gap_usd"] == pytest.approx(310000.0 - 95000.0 / 1.06)
