"""Audit trail: every decision recorded, chain verifies, tampering is detected; CLI end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import write
from transship.cli import app
from transship.screening import screen_file, verify_audit
from transship.warehouse import Warehouse

runner = CliRunner()
DECLS = (
    "id,date,exporter_name,exporter_country,consignee_name,consignee_country,"
    "origin_country,destination_country,hs_code,value,currency\n"
    "a,2024-11-05,Acme,TR,Romashka OOO,RU,US,RU,8542310010,10,USD\n"
    "b,2024-11-05,Acme,TR,Other Co,KZ,US,KZ,854231,10,USD\n"
    "c,2024-11-05,Acme,TR,Other Co,KZ,US,KZ,85x,10,USD\n"
    "d,2024-11-05,Acme,TR,ООО Ромашка,RU,CN,RU,940540,10,USD\n"
)
LIST = "id,name,aliases,country\ne1,ООО Ромашка,,RU\n"


@pytest.fixture
def screened(tmp_path: Path) -> Path:
    wh = tmp_path / "w.duckdb"
    r = runner.invoke(
        app, ["-w", str(wh), "lists", "load", "hand", str(write(tmp_path / "l.csv", LIST))]
    )
    assert r.exit_code == 0, r.output
    decls = write(tmp_path / "d.csv", DECLS)
    out = tmp_path / "dec.csv"
    r = runner.invoke(
        app, ["-w", str(wh), "screen", str(decls), "--lists", "hand", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("row,id,decision,rules,hits,reasons,error")
    return wh


def _con(wh: Path) -> Warehouse:
    return Warehouse(wh)


def test_every_decision_is_audited_and_verifies(screened: Path, tmp_path: Path) -> None:
    with _con(screened) as w:
        rows = w.con.execute(
            "SELECT seq, declaration_id, decision, channel, declaration FROM screening_audit "
            "ORDER BY seq"
        ).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (1, "a", "BLOCK"),
        (2, "b", "ALLOW"),
        (3, "c", "ERROR"),
        (4, "d", "BLOCK"),  # not a CHPL good, but the consignee is listed
    ]
    assert rows[0][3] == "batch:d.csv"
    assert json.loads(rows[3][4])["consignee_name"] == "ООО Ромашка"
    v = verify_audit(screened)
    assert v.ok and v.records == 4 and v.head_seq == 4
    # a second batch continues the chain
    screen_file(write(tmp_path / "d2.csv", DECLS), "us-bis-chpl", ["hand"], screened)
    v = verify_audit(screened)
    assert v.ok and v.records == 8
    r = runner.invoke(app, ["-w", str(screened), "audit", "verify"])
    assert r.exit_code == 0 and "intact: 8 records" in r.output


@pytest.mark.parametrize(
    ("sql", "expect"),
    [
        ("UPDATE screening_audit SET decision = 'ALLOW' WHERE seq = 1", "seq 1: contents"),
        ("UPDATE screening_audit SET declaration = '{}' WHERE seq = 3", "seq 3: contents"),
        ("DELETE FROM screening_audit WHERE seq = 2", "seq 2: record missing"),
        ("DELETE FROM screening_audit WHERE seq = 4", "the chain ends at seq 3"),
        (
            "INSERT INTO screening_audit SELECT * REPLACE (seq + 1 AS seq) FROM screening_audit "
            "WHERE seq = 4",
            "the chain ends at seq 5",
        ),
        (
            "UPDATE screening_audit SET seq = seq + 1 WHERE seq >= 3; "
            "INSERT INTO screening_audit SELECT * REPLACE (3 AS seq, 'x' AS declaration_id) "
            "FROM screening_audit WHERE seq = 2",
            "seq 3: contents",
        ),
    ],
)
def test_tampering_is_detected(screened: Path, sql: str, expect: str) -> None:
    with _con(screened) as w:
        w.con.execute(sql)
    v = verify_audit(screened)
    assert not v.ok
    assert any(expect in p for p in v.problems), v.problems
    r = runner.invoke(app, ["-w", str(screened), "audit", "verify"])
    assert r.exit_code == 1 and "broken" in r.output


def test_screen_unknown_list_and_policy_are_usage_errors(screened: Path, tmp_path: Path) -> None:
    decls = write(tmp_path / "d.csv", DECLS)
    r = runner.invoke(app, ["-w", str(screened), "screen", str(decls), "--lists", "hnad"])
    assert r.exit_code == 2 and "hand" in r.output
    r = runner.invoke(app, ["-w", str(screened), "screen", str(decls), "--policy", "tr-customs"])
    assert r.exit_code == 2 and "tr-customs-2024" in r.output
