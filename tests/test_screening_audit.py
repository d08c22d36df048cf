"""Audit trail: every decision recorded, chain verifies, tampering is detected; CLI end to end."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import copy_warehouse, write
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


@pytest.fixture(scope="module")
def screened_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A list loaded and DECLS screened by the CLI, once for the module (tests tamper with
    their own copy: `screened`)."""
    tmp = tmp_path_factory.mktemp("audit")
    wh = tmp / "w.duckdb"
    r = runner.invoke(
        app, ["-w", str(wh), "lists", "load", "hand", str(write(tmp / "l.csv", LIST))]
    )
    assert r.exit_code == 0, r.output
    decls = write(tmp / "d.csv", DECLS)
    out = tmp / "dec.csv"
    r = runner.invoke(
        app, ["-w", str(wh), "screen", str(decls), "--lists", "hand", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("row,id,decision,rules,hits,reasons,error")
    return wh


@pytest.fixture
def screened(screened_once: Path, tmp_path: Path) -> Path:
    return copy_warehouse(screened_once, tmp_path / "w.duckdb")


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


# -- issue 12: what decided, the anchored head, dropped tables --------------------------------
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_records_store_policy_hash_and_list_versions(screened: Path, tmp_path: Path) -> None:
    from transship.screening.policies import POLICY_DIR

    own = tmp_path / "own.yaml"
    own.write_bytes((POLICY_DIR / "us-bis-chpl.yaml").read_bytes() + b"\n# local copy\n")
    decls = write(tmp_path / "d2.csv", DECLS)
    r = runner.invoke(app, ["-w", str(screened), "screen", str(decls), "--policy", str(own)])
    assert r.exit_code == 0, r.output
    with _con(screened) as w:
        rows = w.con.execute(
            "SELECT seq, policy, policy_sha256, list_versions FROM screening_audit ORDER BY seq"
        ).fetchall()
    assert rows[0][1] == "tr-customs-2024"
    assert rows[0][2] == _sha256(POLICY_DIR / "tr-customs-2024.yaml")
    assert rows[-1][1] == "us-bis-chpl" and rows[-1][2] == _sha256(own)
    (version,) = json.loads(rows[0][3])
    assert (
        version["list"] == "hand" and version["sha256"] == hashlib.sha256(LIST.encode()).hexdigest()
    )
    assert version["loaded_at"].startswith("20")
    assert verify_audit(screened).ok  # the new fields are under the hash too
    with _con(screened) as w:
        w.con.execute("UPDATE screening_audit SET policy_sha256 = 'x' WHERE seq = 2")
    assert any("seq 2: contents" in p for p in verify_audit(screened).problems)


def test_audit_head_text_and_json(screened: Path) -> None:
    v = verify_audit(screened)
    r = runner.invoke(app, ["-w", str(screened), "audit", "head"])
    assert r.exit_code == 0 and f"seq {v.head_seq}" in r.output and v.head_hash in r.output
    r = runner.invoke(app, ["-w", str(screened), "audit", "head", "--format", "json"])
    assert r.exit_code == 0
    assert json.loads(r.output) == {"seq": 4, "hash": v.head_hash}


def _truncate_tail(wh: Path, keep: int, *, meta_too: bool) -> None:
    with _con(wh) as w:
        w.con.execute("DELETE FROM screening_audit WHERE seq > ?", [keep])
        w.con.execute("DELETE FROM screening_audit_head")
        w.con.execute(
            "INSERT INTO screening_audit_head SELECT seq, hash FROM screening_audit WHERE seq = ?",
            [keep],
        )
        if meta_too:  # an attacker who knows where the copy is
            w.con.execute(
                "UPDATE transship_meta SET value = (SELECT CAST(seq AS VARCHAR) || ':' || hash "
                "FROM screening_audit WHERE seq = ?) WHERE key = 'audit_head'",
                [keep],
            )


def test_deleted_tail_with_rewritten_head_fails(screened: Path) -> None:
    anchored = verify_audit(screened).head_hash
    ok = runner.invoke(app, ["-w", str(screened), "audit", "verify", "--expect-head", anchored])
    assert ok.exit_code == 0, ok.output
    _truncate_tail(screened, 2, meta_too=False)
    v = verify_audit(screened)
    assert not v.ok and any("head" in p and "seq 4" in p for p in v.problems), v.problems
    r = runner.invoke(app, ["-w", str(screened), "audit", "verify", "--expect-head", anchored])
    assert r.exit_code == 1 and anchored[:12] in r.output


def test_expect_head_catches_a_consistent_rewrite(screened: Path) -> None:
    anchored = verify_audit(screened).head_hash
    _truncate_tail(screened, 3, meta_too=True)
    assert verify_audit(screened).ok  # consistent: only the outside anchor can tell
    r = runner.invoke(app, ["-w", str(screened), "audit", "verify", "--expect-head", anchored])
    assert r.exit_code == 1, r.output
    assert "no longer reaches" in r.output and anchored in r.output
    v = verify_audit(screened, expect_head=anchored)
    assert not v.ok
    # an anchor from earlier in a chain that grew since still verifies
    with _con(screened) as w:
        (h2,) = w.con.execute("SELECT hash FROM screening_audit WHERE seq = 2").fetchone()
    assert verify_audit(screened, expect_head=h2).ok


def test_dropped_audit_tables_are_a_failure(screened: Path) -> None:
    with _con(screened) as w:
        w.con.execute("DROP TABLE screening_audit")
        w.con.execute("DROP TABLE screening_audit_head")
    v = verify_audit(screened)
    assert not v.ok and v.records == 0
    assert any("4 records" in p and "gone" in p for p in v.problems), v.problems
    r = runner.invoke(app, ["-w", str(screened), "audit", "verify"])
    assert r.exit_code == 1 and "intact" not in r.output


def test_a_new_warehouse_without_records_verifies(tmp_path: Path) -> None:
    wh = tmp_path / "new.duckdb"
    Warehouse(wh).close()
    v = verify_audit(wh)
    assert v.ok and v.records == 0
    assert not verify_audit(wh, expect_head="ab" * 32).ok


@pytest.mark.slow  # two fresh interpreters, ~1 s
def test_audit_modules_import_in_either_order() -> None:
    """audit.py re-exports auditwrite's names and auditwrite uses audit's: importing
    auditwrite first in a fresh process failed with a circular ImportError."""
    import subprocess
    import sys

    for first in ("auditwrite", "audit", "groupcommit"):
        code = (
            f"import transship.screening.{first}\n"
            "from transship.screening.auditwrite import append_many, json_doc\n"
            "from transship.screening.audit import append, chain\n"
        )
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert r.returncode == 0, (first, r.stderr[-500:])


def test_group_commit_survives_a_failing_linger(tmp_path: Path) -> None:
    """A linger whose `incoming` raised left the committer marked busy: that append failed
    and every later one waited forever."""
    import threading

    from transship.screening.declarations import from_records
    from transship.screening.engine import screen_table
    from transship.screening.groupcommit import GroupCommit
    from transship.screening.policies import load_policy

    def boom() -> int:
        raise RuntimeError("incoming failed")

    rec = {"id": "G1", "date": "2024-11-05", "origin_country": "USA",
           "destination_country": "RUS", "hs_code": "854231"}  # fmt: skip
    table = from_records([rec])
    result = screen_table(table, load_policy("tr-customs-2024"))
    with Warehouse(tmp_path / "g.duckdb") as w:
        gc = GroupCommit(w.con, threading.RLock(), incoming=boom, linger_s=0.05)
        out: list[object] = []

        def two() -> None:
            for _ in range(2):
                try:
                    out.append(gc.append(result, table, "api"))
                except Exception as e:  # recorded for the assert
                    out.append(e)

        t = threading.Thread(target=two, daemon=True)
        t.start()
        t.join(30)
        assert not t.is_alive(), "the second append hung behind a committer left busy"
        assert out == [(1, 1), (2, 2)] and not gc._busy
        from transship.screening.audit import verify

        v = verify(w.con)
        assert v.ok and v.records == 2, v.problems
