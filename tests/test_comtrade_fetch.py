"""UN Comtrade connector, fetching: retries, throttling, caching and resuming against
recorded responses through httpx.MockTransport, no sleeping."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from tests._comtrade import (
    KEY,
    Api,
    Clock,
    normal_route,
    one_month_plan,
    respond,
    run,
)
from transship.errors import UsageError
from transship.periods import parse_period
from transship.sources.comtrade import ComtradeError, fetch_comtrade
from transship.sources.comtrade_http import _retry_after
from transship.sources.comtrade_plan import (
    RECORD_CAP,
    Group,
    Plan,
    Request,
    plan_comtrade,
)
from transship.warehouse import Warehouse


# -- fetching --------------------------------------------------------------------------------
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
