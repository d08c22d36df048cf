"""Hub story, charts and the HTML report over a hand-made warehouse: every number derived
here by hand from the rows below."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import write
from transship.cli import app
from transship.errors import UsageError
from transship.periods import parse_period
from transship.report import build_report, headlines, hub_story, money
from transship.report.charts import STORY_KINDS, hubs_chart, make_chart, save_chart, story_charts
from transship.report.html import period_label
from transship.sources.csvfile import csv_file
from transship.warehouse import Warehouse

# 854231 (CHPL tier 1) is reported in HS2017 before 2022 and HS2022 from 2022;
# 880730 (tier 3.B) only in HS2022. Values in units of U dollars, so that the KAZ mirror gap
# passes the mirror analysis' default $1M threshold.
U = 100_000
ROWS = """rep,par,flow,hs,rev,period,units
TUR,RUS,export,854231,HS2017,2019-01,10
TUR,RUS,export,854231,HS2017,2019-02,20
TUR,RUS,export,854231,HS2017,2020-01,30
TUR,RUS,export,854231,HS2022,2022-01,40
TUR,RUS,export,854231,HS2022,2022-02,60
TUR,KAZ,export,880730,HS2022,2022-02,25
TUR,RUS,export,854231,HS2022,2023-01,100
TUR,RUS,export,854231,HS2022,2023-02,200
TUR,KAZ,export,880730,HS2022,2023-01,50
TUR,ARM,export,880730,HS2022,2023-01,999
TUR,RUS,export,030389,HS2022,2023-01,777
KAZ,TUR,import,880730,HS2022,2023-01,10.6
KAZ,TUR,import,030389,HS2022,2023-02,1
DEU,TUR,export,854231,HS2022,2022-01,100
DEU,TUR,export,854231,HS2022,2023-02,160
"""
MAP = ["rep=reporter", "par=partner", "flow=flow", "hs=hs", "rev=hs_rev", "period=period",
       "usd=value_usd"]  # fmt: skip


def in_dollars(rows: str) -> str:
    lines = rows.strip().splitlines()
    out = [lines[0].replace("units", "usd")]
    for line in lines[1:]:
        *head, units = line.split(",")
        out.append(",".join([*head, str(round(float(units) * U))]))
    return "\n".join(out) + "\n"


ARGS: dict[str, Any] = {"hub": "TUR", "target": "russia+ft_five", "period": "2023-01..2023-02",
                        "baseline": "2019..2020"}  # fmt: skip


@pytest.fixture
def hand(wh: Warehouse, tmp_path: Path) -> Warehouse:
    wh.ingest(csv_file(write(tmp_path / "hand.csv", in_dollars(ROWS)), source="hand", mapping=MAP))
    return wh


def test_story_numbers(hand: Warehouse) -> None:
    s = hub_story(hand.ibis(), **ARGS)
    # Jan-Feb 2023 to RUS+KAZ: 100 + 200 + 50 (ARM is not a target, 030389 is not CHPL)
    assert s.total_usd == pytest.approx(350 * U)
    # Jan-Feb 2022: 40 + 60 + 25
    assert s.prior_usd == pytest.approx(125 * U)
    assert s.prior_multiple == pytest.approx(350 / 125)
    # baseline: 2019 Jan-Feb = 10 + 20, 2020 Jan-Feb = 30 -> mean 30
    assert s.baseline_usd == pytest.approx(30 * U)
    assert s.baseline_multiple == pytest.approx(350 / 30)
    got = [(r["partner"], r["value_usd"] / U, r["compare_usd"] / U) for r in s.by_partner]
    assert got == [("RUS", pytest.approx(300), pytest.approx(100)),
                   ("KAZ", pytest.approx(50), pytest.approx(25))]  # fmt: skip
    kaz = s.by_partner[1]
    assert not kaz["baseline_usd"] and kaz["baseline_multiple"] is None  # no base: no ratio
    assert {t["tier"]: t["value_usd"] / U for t in s.by_tier} == {"1": 300, "3.B": 50}
    assert [r["hs2022"] for r in s.top_hs] == ["854231", "880730"]
    # monthly window 2021-01..2023-02: Feb 2023 (200) is the largest month
    assert s.peak == {"period": "2023-02-01", "value_usd": 200 * U}
    # band: January of 2019 and 2020 (10, 30), February of 2019 only (20)
    jan = next(b for b in s.band if b["period"] == "2022-01-01")
    assert (jan["low"] / U, jan["mean"] / U, jan["high"] / U) == (10, 20, 30)
    feb = next(b for b in s.band if b["period"] == "2023-02-01")
    assert (feb["low"] / U, feb["mean"] / U, feb["high"] / U) == (20, 20, 20)
    assert [e["id"] for e in s.events] == ["invasion"]
    # mirror: KAZ records 10.6 CIF = 10 FOB against TUR's 50: a gap of 40 (4M > 1M) and a
    # ratio of 5 (> 2): a breach. KAZ reported imports in both months (030389 in February),
    # so its side is complete; RUS reported no imports at all: missing, not zero.
    mirror = {m["partner"]: m for m in s.mirror}
    assert mirror["KAZ"]["m_fob_usd"] == pytest.approx(10 * U)
    assert mirror["KAZ"]["gap_usd"] == pytest.approx(40 * U)
    assert mirror["KAZ"]["x_over_m"] == pytest.approx(5.0)
    assert mirror["KAZ"]["breach"]
    assert mirror["RUS"]["m_missing"] and mirror["RUS"]["x_over_m"] is None
    assert not mirror["RUS"]["breach"]
    # coalition (DEU) to TUR: 100 in Jan-Feb 2022, 160 in Jan-Feb 2023 -> +60%
    assert s.coalition["growth"] == pytest.approx(0.6)
    assert not s.synthetic


@pytest.mark.slow(reason="a second hub story, 1.3 s (test_story_numbers checks the numbers)")
def test_headlines_say_the_numbers(hand: Warehouse) -> None:
    lines = headlines(hub_story(hand.ibis(), **ARGS))
    assert lines[0] == (
        "Türkiye exported $35M of CHPL goods to Azerbaijan, Georgia, Kazakhstan, Kyrgyzstan, "
        "Russian Federation and Uzbekistan in Jan\u2013Feb 2023, 2.8 times the same months of "
        "2022 and 11.7 times the 2019\u20132020 average of $3M."
    )
    assert "The largest destination was Russian Federation: $30M (86% of the total)." in lines
    assert "The monthly peak was February 2023 ($20M)." in lines
    assert (
        "Türkiye reported $5M of these exports to Kazakhstan, while Kazakhstan recorded $1.06M "
        "of imports from Türkiye ($1M at FOB, a gap of $4M)." in lines
    )
    assert any("rose 60% over the same months ($10M to $16M)" in h for h in lines)


def test_money_and_period_labels() -> None:
    assert [money(v) for v in (158e6, 37.6e6, 6_600_000, 999_600, 12.4, None, -2.5e9)] == [
        "$158M", "$37.6M", "$6.6M", "$1M", "$12.4", "n/a", "-$2.5B"]  # fmt: skip
    assert period_label(parse_period("2023-01..2023-09")) == "Jan\u2013Sep 2023"
    assert period_label(parse_period("2022-10..2023-09")) == "Oct 2022\u2013Sep 2023"
    assert period_label(parse_period("2023-03")) == "Mar 2023"


def test_bad_arguments(hand: Warehouse) -> None:
    con = hand.ibis()
    with pytest.raises(UsageError, match="name one country"):
        hub_story(con, **{**ARGS, "hub": "TUR+KAZ"})
    with pytest.raises(UsageError, match="at most 12 months"):
        hub_story(con, **{**ARGS, "period": "2022-01..2023-06"})
    with pytest.raises(UsageError, match="no chpl exports from GEO"):
        hub_story(con, **{**ARGS, "hub": "GEO"})
    with pytest.raises(UsageError, match="kinds are"):
        make_chart(con, "pie", **ARGS)


@pytest.mark.slow(reason="renders every chart of a full report (3 s)")
def test_report_is_self_contained(hand: Warehouse, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    r = build_report(hand.ibis(), out=out, **ARGS)
    html = out.read_text(encoding="utf-8")
    assert r.headlines[0] in html.replace("&#39;", "'")
    # no external resources: every script is inline, nothing is fetched
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=", html)
    assert "window.vegaEmbed" in html  # the bundle is inlined
    for kind in STORY_KINDS:
        assert f'id="chart-{kind}"' in html
    assert "SYNTHETIC" not in html  # real (hand-made) input: no watermark
    # provenance names the batch and its input; methods state the CIF/FOB factor
    batch = hand.batches()[0]
    assert batch["batch_id"] in html and "hand.csv" in html
    assert "dividing by 1.06" in html
    assert not (tmp_path / "r.html.tmp").exists()
    with pytest.raises(UsageError, match=r"name it \.html"):
        build_report(hand.ibis(), out=tmp_path / "r.pdf", **ARGS)


def test_synthetic_report_is_watermarked(small_synthetic: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.html"
    with Warehouse(small_synthetic, read_only=True) as wh:
        r = build_report(wh.ibis(), hub="TUR", period="2023-01..2023-09", baseline="2021..2021",
                         out=out)  # fmt: skip
    assert r.story.synthetic
    html = out.read_text(encoding="utf-8")
    assert '<div class="watermark" aria-hidden="true">SYNTHETIC</div>' in html
    assert "<title>SYNTHETIC" in html
    for chart in story_charts(r.story).values():
        assert chart.to_dict()["title"]["text"].startswith("SYNTHETIC DATA")


@pytest.mark.slow(reason="renders each chart format through vl-convert (1.8 s)")
def test_chart_files(hand: Warehouse, tmp_path: Path) -> None:
    c = make_chart(hand.ibis(), "monthly", **ARGS)
    png = save_chart(c, tmp_path / "m.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    svg = save_chart(c, tmp_path / "m.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and "invasion" in svg  # the event rule is labelled
    with pytest.raises(UsageError, match=r"use \.png"):
        save_chart(c, tmp_path / "m.gif")


def test_hubs_chart_from_rows() -> None:
    rows = [
        {"hub": "TUR", "leg": "exports_to_target", "did": 1.2, "ci_low": 0.8, "ci_high": 1.6,
         "rank": 1},
        {"hub": "ARE", "leg": "exports_to_target", "did": 0.3, "ci_low": -0.1, "ci_high": 0.7,
         "rank": 2},
    ]  # fmt: skip
    spec = hubs_chart(rows, synthetic=True).to_dict()
    assert spec["title"]["text"].startswith("SYNTHETIC")
    assert spec["layer"][2]["encoding"]["y"]["sort"] == ["TUR", "ARE"]


@pytest.mark.slow
def test_cli_report_and_chart(hand: Warehouse, tmp_path: Path) -> None:
    db = str(hand.path)
    hand.close()
    runner = CliRunner()
    out = tmp_path / "cli.html"
    opts = ["--period", "2023-01..2023-02", "--baseline", "2019..2020"]
    res = runner.invoke(app, ["-w", db, "report", "--out", str(out), *opts])
    assert res.exit_code == 0, res.output
    assert "2.8 times the same months of 2022" in res.output
    assert out.exists()
    res = runner.invoke(app, ["-w", db, "chart", "tiers", "--out", str(tmp_path / "t.svg"), *opts])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "t.svg").read_text(encoding="utf-8").startswith("<svg")
    res = runner.invoke(app, ["-w", db, "report", "--hub", "TUR+KAZ", "--out", str(out)])
    assert res.exit_code == 2 and "name one country" in res.output


@pytest.mark.slow
def test_dashboard_pages_and_csv(hand: Warehouse) -> None:
    from fastapi.testclient import TestClient

    from transship.settings import get_settings
    from transship.web.app import create_app

    settings = get_settings().model_copy(update={"warehouse": hand.path})
    hand.close()
    with TestClient(create_app(settings)) as client:
        q = "?period=2023-01..2023-02&baseline=2019..2020"
        for page in ("/", "/hub", "/product", "/mirror"):
            r = client.get(page + q)
            assert r.status_code == 200, (page, r.text[:500])
            assert '<script src="/static/vega.js">' in r.text and "SYNTHETIC" not in r.text
        csv_text = client.get("/hub" + q + "&download=partners").text
        lines = csv_text.splitlines()
        assert lines[0].startswith("partner,name,value_usd,compare_usd")
        assert lines[1].startswith(f"RUS,Russian Federation,{300 * U}")
        mirror_csv = client.get("/mirror" + q + "&download=pairs").text
        kaz = next(line for line in mirror_csv.splitlines() if ",KAZ," in line)
        assert kaz.endswith(",False,False,True,True")  # x, m reported; breach and flag
        assert client.get("/hub" + q + "&download=nope").status_code == 404
        bad = client.get("/hub?hub=NARNIA")
        assert bad.status_code == 400 and "NARNIA" in bad.text
        js = client.get("/static/vega.js")
        assert js.status_code == 200 and "vegaEmbed" in js.text
        assert client.get("/v1/health").json()["status"] == "ok"


DECLARATIONS = """id,date,origin_country,destination_country,hs_code,exporter_name,consignee_name
D1,2024-11-05,USA,RUS,8542310010,Acme Elektronik,OOO Romashka
D2,2024-11-05,TUR,DEU,030389,Balik AS,Fisch GmbH
D3,bad,USA,RUS,85,X,Y
"""


@pytest.mark.slow
def test_screening_page_upload(hand: Warehouse, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from transship.screening import verify_audit
    from transship.screening.lists import load_list
    from transship.settings import get_settings
    from transship.web.app import create_app

    # Screening refuses to run without a sanctions list (issue 12): load a small one.
    load_list(hand.con, "hand", [write(tmp_path / "l.csv", "id,name,country\ne1,Nobody AG,DE\n")])
    settings = get_settings().model_copy(update={"warehouse": hand.path})
    hand.close()
    with TestClient(create_app(settings)) as client:
        form = client.get("/screening")
        assert form.status_code == 200 and 'name="policy"' in form.text
        r = client.post(
            "/screening",
            files={"file": ("decl.csv", DECLARATIONS.encode(), "text/csv")},
            data={"policy": "tr-customs-2024"},
        )
        assert r.status_code == 200 and "/screening?result=" in str(r.url)
        # US-origin CHPL (854231) to Russia is blocked under Turkey's 2024 rule; fish to
        # Germany is allowed; a bad date and a 2-digit code are a per-row error
        assert "3 declarations screened against policy tr-customs-2024" in r.text
        assert "1 BLOCK" in r.text and "1 ALLOW" in r.text and "1 ERROR" in r.text
        # the BLOCK declaration and the BLOCK line of the summary stand out, nothing else
        assert r.text.count('<tr class="flagged">') == 2
        decisions = client.get(f"{r.url}&download=decisions").text.splitlines()
        by_id = {line.split(",")[1]: line.split(",")[2] for line in decisions[1:]}
        assert by_id == {"D1": "BLOCK", "D2": "ALLOW", "D3": "ERROR"}
        bad = client.post(
            "/screening",
            files={"file": ("decl.csv", DECLARATIONS.encode(), "text/csv")},
            data={"policy": "no-such-policy"},
        )
        assert bad.status_code >= 400 and "no-such-policy" in bad.text
        assert client.get("/screening?result=nope").status_code == 400
    v = verify_audit(hand.path)
    assert v.ok and v.records == 3  # the three decisions joined the audit chain
