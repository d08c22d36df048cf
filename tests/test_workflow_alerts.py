"""Alerts and review: screening -> alert -> first review -> second review -> suppression;
re-screening raises exactly the new alerts; the alerts API with per-token reviewers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import copy_warehouse, write
from transship.cli import app
from transship.errors import UsageError
from transship.screening import alerts, load_lists, review, screen_file, verify_audit
from transship.screening.rescreen import rescreen
from transship.screening.review import ReviewError
from transship.settings import Settings
from transship.warehouse import Warehouse

runner = CliRunner()
HEADER = (
    "id,date,exporter_name,exporter_country,consignee_name,consignee_country,"
    "origin_country,destination_country,hs_code,value,currency\n"
)
# 940540 (lamps) is in no rule: only the parties decide.
DECLS = (
    HEADER + "d1,2024-03-01,Anka Elektronik,TR,Romashka OOO,RU,CN,RU,940540,10,USD\n"
    "d2,2024-03-01,Anka Elektronik,TR,Vostok Trade LLC,RU,CN,RU,940540,10,USD\n"
    "d3,2024-03-01,Anka Elektronik,TR,Other Co,KZ,CN,KZ,940540,10,USD\n"
)
V1 = "id,name,aliases,country\ne1,ООО Ромашка,,RU\ne2,Sever Holding,,RU\n"
V2 = V1 + "e4,Vostok Trade,,RU\n"  # one entity added
V3 = "id,name,aliases,country\ne1,ООО Ромашка,Romashka Trading,RU\ne2,Sever Holding,,RU\n"


@pytest.fixture(scope="module")
def screened_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """List version 1 loaded and DECLS screened, once; each test gets a copy (`screened`)."""
    tmp_path = tmp_path_factory.mktemp("alerts")
    wh = tmp_path / "w.duckdb"
    load_lists(wh, "hand", [write(tmp_path / "v1.csv", V1)], as_of=date(2024, 1, 1))
    screen_file(write(tmp_path / "d.csv", DECLS), "tr-customs-2024", ["hand"], wh)
    return wh


@pytest.fixture
def screened(screened_once: Path, tmp_path: Path) -> Path:
    return copy_warehouse(screened_once, tmp_path / "w.duckdb")


def _queue(wh: Path, status: str | None = "pending") -> list[dict[str, object]]:
    with Warehouse(wh) as w:
        return alerts.queue(w.con, status=status)


def _review(wh: Path, alert_id: int, action: str, who: str, note: str = "checked") -> str:
    with Warehouse(wh) as w:
        return str(review.review(w.con, alert_id, action, who, note)["status"])


@pytest.mark.slow(reason="whole compliance workflow end to end (2.8 s)")
def test_declaration_from_screening_to_suppression(screened: Path, tmp_path: Path) -> None:
    (a,) = _queue(screened)
    assert (a["declaration_id"], a["severity"], a["status"]) == ("d1", "BLOCK", "open")
    assert a["list_versions"] == "hand@1" and a["consignee_name"] == "Romashka OOO"
    # first review: a BLOCK cleared once waits for a second, different reviewer
    assert _review(screened, 1, "clear", "alice", "different INN") == "clearing"
    with pytest.raises(ReviewError, match="four eyes"):
        _review(screened, 1, "clear", "alice")
    with pytest.raises(UsageError, match="note"):
        _review(screened, 1, "clear", "bob", " ")
    assert _review(screened, 1, "clear", "bob", "agree: a bakery in Tver") == "cleared"
    with pytest.raises(ReviewError, match="cleared"):
        _review(screened, 1, "confirm", "carol")
    with Warehouse(screened) as w:
        shown = alerts.show(w.con, 1)
        (s,) = review.suppressions(w.con)
        rec = w.con.execute(
            "SELECT channel, decision, declaration FROM screening_audit "
            "WHERE starts_with(channel, 'review') ORDER BY seq"
        ).fetchall()
    assert [(r["reviewer"], r["status_to"]) for r in shown["reviews"]] == [
        ("alice", "clearing"),
        ("bob", "cleared"),
    ]
    assert (s["party_name"], s["entity_id"], s["reviewers"], s["active"]) == (
        "Romashka OOO", "e1", "alice,bob", True,
    )  # fmt: skip
    assert (s["expires_at"] - s["created_at"]).days == Settings().suppression_days
    # each transition is a record in the hash chain, and the chain verifies
    assert [(c, d) for c, d, _ in rec] == [
        ("review:alice", "REVIEW:clearing"),
        ("review:bob", "REVIEW:cleared"),
    ]
    assert '"note":"agree: a bakery in Tver"' in rec[1][2]
    assert verify_audit(screened).ok
    # the same hit on the same name again: shown as suppressed, not re-alerted
    decls = write(tmp_path / "d.csv", DECLS)
    screen_file(decls, "tr-customs-2024", ["hand"], screened)
    assert _queue(screened) == []
    (sup,) = _queue(screened, "suppressed")
    assert sup["declaration_id"] == "d1" and sup["suppression_id"] == s["suppression_id"]
    # ... until the suppression expires
    with Warehouse(screened) as w:
        w.con.execute("UPDATE screening_suppressions SET expires_at = TIMESTAMP '2000-01-01'")
    screen_file(decls, "tr-customs-2024", ["hand"], screened)
    assert [a["declaration_id"] for a in _queue(screened)] == ["d1"]
    _review(screened, 3, "clear", "alice")
    _review(screened, 3, "clear", "bob")
    screen_file(decls, "tr-customs-2024", ["hand"], screened)
    assert _queue(screened) == []
    # ... or the entity changes in a new list version
    load_lists(screened, "hand", [write(tmp_path / "v3.csv", V3)], as_of=date(2024, 6, 1))
    screen_file(decls, "tr-customs-2024", ["hand"], screened)
    assert [(a["declaration_id"], a["list_versions"]) for a in _queue(screened)] == [
        ("d1", "hand@2")
    ]


def test_confirm_escalate_and_flag_transitions() -> None:
    flag = {"alert_id": 9, "status": "open", "severity": "FLAG", "first_reviewer": None}
    assert review._next_status(flag, "clear", "alice") == "cleared"  # one reviewer for a FLAG
    assert review._next_status(flag, "escalate", "alice") == "escalated"
    assert review._next_status({**flag, "status": "escalated"}, "confirm", "bob") == "confirmed"
    with pytest.raises(ReviewError, match="already escalated"):
        review._next_status({**flag, "status": "escalated"}, "escalate", "bob")
    block = {**flag, "severity": "BLOCK", "status": "escalated"}
    assert review._next_status(block, "clear", "alice") == "clearing"


def test_new_list_version_raises_exactly_the_new_alerts(screened: Path, tmp_path: Path) -> None:
    with Warehouse(screened) as w:
        first = rescreen(w.con)  # nothing newer than version 1
    assert first.lists == [] and "nothing new" in first.notes[0]
    load_lists(screened, "hand", [write(tmp_path / "v2.csv", V2)], as_of=date(2024, 6, 1))
    with Warehouse(screened) as w:
        r = rescreen(w.con)
        again = rescreen(w.con)
    (x,) = r.lists
    assert (x.from_version, x.to_version, x.entities, x.parties) == (1, 2, 1, 4)
    assert x.candidates < x.parties  # blocked: only parties meeting a changed name
    assert (x.hits, x.alerts) == (1, 1)
    assert again.lists == []
    pending = _queue(screened)
    assert [(a["declaration_id"], a["origin"]) for a in pending] == [
        ("d1", "screening"),
        ("d2", "rescreen"),
    ]
    shown = _queue(screened)[1]
    assert shown["list_versions"] == "hand@2" and "hand:e4" in str(shown["hits"])
    assert verify_audit(screened).ok
    # the CLI
    out = runner.invoke(app, ["-w", str(screened), "alerts", "list", "-f", "csv"])
    assert out.exit_code == 0 and out.output.count("\n") == 3, out.output
    out = runner.invoke(app, ["-w", str(screened), "rescreen", "--from-version", "1"])
    assert out.exit_code == 0 and "hand" in out.output  # asked again: no new alert
    assert len(_queue(screened, None)) == 2


@pytest.mark.slow
def test_rescreen_finds_what_screening_every_party_finds(shared_data: Path, tmp_path: Path) -> None:
    """On the real OFAC SDN 2021 -> 2024 change, the blocked re-screen finds the same new hits
    as screening every past party against the changed entities one by one."""
    from transship.screening import listdiff, thresholds_from_settings, versions
    from transship.screening.matcher import Matcher

    sdn = shared_data / "sanctions-lists" / "ofac-sdn"
    wh = tmp_path / "w.duckdb"
    load_lists(wh, "ofac-sdn", [sdn / "2021-07-07" / "sdn.csv"], as_of=date(2021, 7, 7))
    with Warehouse(wh) as w:
        names2021 = [r[0] for r in w.con.execute("SELECT caption FROM screening_names").fetchall()]
    import csv

    rows2024 = list(csv.reader((sdn / "2024-05-03" / "sdn.csv").open(encoding="latin-1")))
    new = [r[1] for r in rows2024 if len(r) > 3 and "RUSSIA-EO14024" in r[3]][:150]
    parties = [n.title() for n in new] + [f"{n.split(',')[0]} Trading" for n in new[:50]]
    parties += names2021[:100] + [f"Anka Elektronik {i}" for i in range(100)]
    lines = [
        f'p{i},2024-05-10,"{p.replace(chr(34), "")}",TR,Buyer Co,KZ,CN,KZ,940540,1,USD'
        for i, p in enumerate(parties)
    ]
    screen_file(write(tmp_path / "d.csv", HEADER + "\n".join(lines) + "\n"), "tr-customs-2024",
                ["ofac-sdn"], wh)  # fmt: skip
    load_lists(wh, "ofac-sdn", [sdn / "2024-05-03" / "sdn.csv"], as_of=date(2024, 5, 3))
    with Warehouse(wh) as w:
        before = {a["alert_id"] for a in alerts.queue(w.con, status=None)}
        r = rescreen(w.con)
        got = {
            (h["party_name"], h["entity_id"])
            for a in alerts.queue(w.con, status=None)
            if a["alert_id"] not in before
            for h in alerts.show(w.con, int(a["alert_id"]))["hit_pairs"]
        }
        cur = versions.current(w.con, ["ofac-sdn"])["ofac-sdn"]
        ids = listdiff.changed_ids(w.con, "ofac-sdn", 1, 2)
        delta = set(ids["added"] + ids["changed"])
        rows = [x for x in versions.matcher_rows(w.con, [cur]) if x[1] in delta]
    m = Matcher.from_rows(rows, thresholds_from_settings())
    brute = {
        (p, h.entity_id)
        for p in {" ".join(p.replace('"', "").split()) for p in parties}
        for h in m.screen(p, "TUR")
    }  # every hit on a changed entity is new: its fingerprint differs from any earlier alert
    (x,) = r.lists
    assert x.candidates < x.parties
    assert len(brute) > 50  # the Russia designations of 2022-2024 are found
    assert got == brute


TOKENS = "alice:tok-a,bob:tok-b,plain-token"


def _client(wh: Path) -> TestClient:
    from transship.web.app import create_app

    return TestClient(create_app(Settings(warehouse=wh, api_tokens=TOKENS)))


def test_alerts_api_with_per_token_reviewers(screened: Path) -> None:
    c = _client(screened)
    a, b, plain = ({"Authorization": f"Bearer {t}"} for t in ("tok-a", "tok-b", "plain-token"))
    assert c.get("/v1/alerts").status_code == 401
    r = c.get("/v1/alerts", headers=plain)
    assert r.status_code == 200 and [x["declaration_id"] for x in r.json()] == ["d1"]
    aid = r.json()[0]["alert_id"]
    # a token without a reviewer name may read but not review
    r = c.post(f"/v1/alerts/{aid}/clear", json={"note": "x"}, headers=plain)
    assert r.status_code == 403
    r = c.post(f"/v1/alerts/{aid}/clear", json={"note": "not them"}, headers=a)
    assert r.status_code == 200 and r.json()["status"] == "clearing"
    r = c.post(f"/v1/alerts/{aid}/clear", json={"note": "again"}, headers=a)
    assert r.status_code == 409 and "four eyes" in r.json()["detail"]
    r = c.post(f"/v1/alerts/{aid}/clear", json={"note": "agree"}, headers=b)
    assert r.status_code == 200 and r.json()["status"] == "cleared"
    assert [x["reviewer"] for x in r.json()["reviews"]] == ["alice", "bob"]
    assert c.get("/v1/alerts/999", headers=a).status_code == 400
    r = c.post("/v1/rescreen", json={}, headers=a)
    assert r.status_code == 200 and r.json()["lists"] == []
    page = c.get("/alerts?status=all")
    assert page.status_code == 200 and 'id="alert-1"' in page.text and "cleared" in page.text
    entry = c.get("/alerts/entry?list=hand&id=e1")
    assert entry.status_code == 200 and "ООО Ромашка" in entry.text
    assert c.get("/alerts/entry?list=hand&id=nope").status_code == 404


@pytest.mark.slow  # screens and exports, ~1 s
def test_audit_export_for_examiners(screened: Path, tmp_path: Path) -> None:
    import json

    from openpyxl import load_workbook

    # a name a spreadsheet would run (an = formula is a row ERROR before it gets this far)
    evil = write(tmp_path / "e.csv", HEADER + 'd9,2024-03-01,"@HYPERLINK ""x""",TR,Romashka '
                 "OOO,RU,CN,RU,940540,1,USD\n")  # fmt: skip
    screen_file(evil, "tr-customs-2024", ["hand"], screened)
    _review(screened, 1, "clear", "alice", "=cmd|' /C calc'!A0")
    _review(screened, 1, "clear", "bob", "agree")
    base = ["-w", str(screened), "audit", "export"]
    r = runner.invoke(app, [*base, "--out", str(tmp_path / "x.json"), "--from", "2000-01-01"])
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "x.json").read_text(encoding="utf-8"))
    assert [d["declaration_id"] for d in doc["decisions"]] == ["d1", "d2", "d3", "d9"]
    assert {d["list_versions"] for d in doc["decisions"]} == {"hand@1"}
    assert [(x["reviewer"], x["status_to"]) for x in doc["reviews"]] == [
        ("alice", "clearing"), ("bob", "cleared"),
    ]  # fmt: skip
    assert [v["label"] for v in doc["list_versions"]] == ["hand@1"]
    (pol,) = doc["policies"]
    assert pol["policy"] == "tr-customs-2024" and len(pol["policy_sha256"]) == 64
    assert doc["audit_head"]["seq"] == 6  # 4 decisions + 2 reviews
    # a period with nothing in it
    r = runner.invoke(app, [*base, "--out", str(tmp_path / "y.json"), "--to", "2001-01-01"])
    assert r.exit_code == 0 and json.loads((tmp_path / "y.json").read_text())["decisions"] == []
    # CSV: one file per section, formulas neutralised; xlsx: one sheet per section
    assert runner.invoke(app, [*base, "--out", str(tmp_path / "x.csv")]).exit_code == 0
    reviews = (tmp_path / "x-reviews.csv").read_text(encoding="utf-8")
    assert "'=cmd" in reviews and "\n=cmd" not in reviews and ",=cmd" not in reviews
    assert runner.invoke(app, [*base, "--out", str(tmp_path / "x.xlsx")]).exit_code == 0
    wb = load_workbook(tmp_path / "x.xlsx")
    assert wb.sheetnames == ["export", "decisions", "alerts", "reviews", "list_versions",
                             "policies"]  # fmt: skip
    names = [c.value for c in wb["alerts"]["J"]]  # exporter_name
    assert '\'@HYPERLINK "x"' in names
    # never over the warehouse
    r = runner.invoke(app, [*base, "--out", str(screened), "--format", "json"])
    assert r.exit_code != 0 and "refusing to write there" in r.output
