"""Writing the audit trail fast: the group commit (one committer thread, groups, linger,
periodic checkpoints) and auditwrite (payloads hashed in Python as the SQL writes them,
small and large appends, the head each connection wrote last). The server under load is
in tests/test_api_load.py."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest

DECL = {
    "id": "T1",
    "date": "2024-11-05",
    "exporter_name": "Anka Elektronik Ltd. Şti.",
    "exporter_country": "TR",
    "consignee_name": "OOO Romashka",
    "consignee_country": "RU",
    "origin_country": "US",
    "destination_country": "RU",
    "hs_code": "8542310010",
    "value": 12000,
    "currency": "USD",
}


def test_group_commit_batches_waiting_appends(tmp_path: Path) -> None:
    """While one commit holds the connection, later appends queue and share the next one."""
    from transship.screening.declarations import from_records
    from transship.screening.engine import screen_table
    from transship.screening.groupcommit import GroupCommit
    from transship.screening.policies import load_policy
    from transship.warehouse import Warehouse

    w = Warehouse(tmp_path / "g.duckdb")
    lock = threading.RLock()
    gc = GroupCommit(w.con, lock)
    table = from_records([DECL])
    result = screen_table(table, load_policy("tr-customs-2024"))
    out: list[tuple[int, int]] = []
    with lock:  # the connection is busy: every append queues
        threads = [
            threading.Thread(target=lambda: out.append(gc.append(result, table, "api")))
            for _ in range(8)
        ]
        for t in threads:
            t.start()
        while len(gc._queue) + (1 if gc._busy else 0) < 2 or not gc._busy:
            time.sleep(0.01)
        time.sleep(0.2)  # let the others queue behind the first
    for t in threads:
        t.join(30)
    assert sorted(out) == [(i, i) for i in range(1, 9)]
    assert gc.records == 8 and gc.groups < 8  # at least two appends shared a transaction
    from transship.screening.audit import verify

    assert verify(w.con).ok
    w.close()


def test_group_commit_lingers_for_announced_appends_only(tmp_path: Path) -> None:
    """With requests announced as on their way (`incoming`), the committer waits for them and
    commits them together; with none announced it commits at once (no linger when idle)."""
    from transship.screening.declarations import from_records
    from transship.screening.engine import screen_table
    from transship.screening.groupcommit import GroupCommit
    from transship.screening.policies import load_policy
    from transship.warehouse import Warehouse

    w = Warehouse(tmp_path / "l.duckdb")
    coming = [1]
    gc = GroupCommit(w.con, threading.RLock(), incoming=lambda: coming[0], linger_s=30)
    table = from_records([DECL])
    result = screen_table(table, load_policy("tr-customs-2024"))
    out: list[tuple[int, int]] = []
    first = threading.Thread(target=lambda: out.append(gc.append(result, table, "api")))
    first.start()
    while not gc._busy:  # the first caller commits, and lingers for the announced one
        time.sleep(0.01)
    coming[0] = 0
    out.append(gc.append(result, table, "api"))
    first.join(30)
    assert sorted(out) == [(1, 1), (2, 2)] and gc.groups == 1
    # Nothing announced and no recent appends (an idle server): committed alone, at once.
    idle = GroupCommit(w.con, threading.RLock(), incoming=lambda: 0, linger_s=30)
    assert idle.append(result, table, "api") == (3, 3) and idle.groups == 1
    w.close()


def test_group_commit_checkpoints_a_running_server_every_n_records(tmp_path: Path) -> None:
    from transship.screening.audit import verify
    from transship.screening.declarations import from_records
    from transship.screening.engine import screen_table
    from transship.screening.groupcommit import GroupCommit
    from transship.screening.policies import load_policy
    from transship.warehouse import Warehouse

    w = Warehouse(tmp_path / "c.duckdb")
    gc = GroupCommit(w.con, threading.RLock(), checkpoint_every=5)
    table = from_records([{**DECL, "id": f"C{i}"} for i in range(3)])
    result = screen_table(table, load_policy("tr-customs-2024"))
    for _ in range(2):  # 6 records: one checkpoint after the second group
        gc.append(result, table, "api")
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(tmp_path / "c.duckdb", copy)  # while the connection is still open
    w.close()
    with Warehouse(copy) as c:
        assert verify(c.con).records == 6


def test_a_bulk_append_is_checkpointed_into_the_database_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An append of CHECKPOINT_RECORDS or more (a large batch file) moves the WAL into the
    .duckdb at once: a copy of the file alone, taken while the connection is still open,
    holds every record (DuckDB by itself checkpoints only past 16 MB of WAL)."""
    from transship.screening import auditwrite
    from transship.screening.audit import verify
    from transship.screening.declarations import from_records
    from transship.screening.engine import screen_table
    from transship.screening.policies import load_policy
    from transship.warehouse import Warehouse

    monkeypatch.setattr(auditwrite, "CHECKPOINT_RECORDS", 6)
    w = Warehouse(tmp_path / "b.duckdb")
    policy = load_policy("tr-customs-2024")
    for n in (2, 6):  # below the bulk size, then at it
        table = from_records([{**DECL, "id": f"B{i}"} for i in range(n)])
        auditwrite.append(w.con, screen_table(table, policy), table, "batch:b.csv")
        copy = tmp_path / f"copy{n}.duckdb"
        shutil.copyfile(tmp_path / "b.duckdb", copy)
    w.close()
    with Warehouse(tmp_path / "copy2.duckdb") as c:  # the small append is still in the WAL
        assert verify(c.con).records == 0
    with Warehouse(tmp_path / "copy6.duckdb") as c:
        v = verify(c.con)
        assert v.ok and v.records == 8, v.problems


def test_audit_declaration_json_is_duckdbs_to_json() -> None:
    """The audit writes each declaration as DuckDB's to_json would, without the query."""
    import duckdb
    import pyarrow as pa

    from transship.screening.audit import json_doc

    values = ['a"b', "back\\slash", "\\u001f", "\\\\u00ab", "new\nline", "tab\t", "cr\r"]
    values += ["\x00nul", "\x01\x1f", "\x7f", "é ş Ромашка", "\u2028\u2029", "/s/", "😀", ""]
    values += ["\b\f", None, "<script>", "'q'", "\\\x01"]
    t = pa.table({"id": values, "x y": values[::-1], 'k"e\\y': values})
    con = duckdb.connect()
    con.register("d", t)
    duck = [r[0] for r in con.execute("SELECT to_json(d) FROM d d").fetchall()]
    assert [json_doc(r) for r in t.to_pylist()] == duck


def test_audit_payload_in_python_is_the_sql_payload() -> None:
    """Group commit hashes payloads built in Python; verify rebuilds them with PAYLOAD_SQL.
    The two must agree on awkward text, nulls and both record forms."""
    from datetime import datetime

    import duckdb
    import pyarrow as pa

    from transship.screening.audit import PAYLOAD_SQL, payload

    values = ['a"b', "back\\slash", "\\u001f", "new\nline", "tab\t", "\x00\x01\x1f\x7f"]
    values += ["é ş Ромашка", "\u2028", "😀", "", None, '{"k":"v\\n"}', "\\\x01"]
    n = len(values)
    cols: dict[str, Any] = {
        "seq": pa.array(range(7, 7 + n), pa.int64()),
        "screened_at": pa.array([datetime(2024, 11, 5, 9, 8, 7)] * n, pa.timestamp("us")),
    }
    names = "channel policy lists declaration_id decision rules hits error declaration"
    for i, c in enumerate([*names.split(), "policy_sha256", "list_versions"]):
        cols[c] = pa.array(values[i:] + values[:i], pa.string())
    t = pa.table(cols)
    con = duckdb.connect()
    con.register("r", t)
    duck = [r[0] for r in con.execute(f"SELECT {PAYLOAD_SQL} FROM r").fetchall()]
    rows = t.to_pylist()
    assert [payload(r) for r in rows] == duck
    old = [{**r, "policy_sha256": None, "list_versions": None} for r in rows]  # pre-issue-12
    con.register("o", pa.Table.from_pylist(old, t.schema))
    duck_old = [x[0] for x in con.execute(f"SELECT {PAYLOAD_SQL} FROM o").fetchall()]
    assert [payload(r) for r in old] == duck_old


def test_records_payloads_are_payload_of_each_record() -> None:
    """The records of a screening are encoded with the fields they share written once and
    the declarations column by column: the same text as `payload` and `json_doc` of each
    record (verify recomputes it in SQL), on awkward text, nulls and extra input columns."""
    from datetime import datetime

    from transship.screening.auditwrite import _declaration_docs, _rows, json_doc, payload
    from transship.screening.declarations import from_records, is_internal
    from transship.screening.engine import screen_table
    from transship.screening.policies import load_policy

    awkward = ['a"b', "back\\slash", "new\nline", "\x01\x1f\x7f", "é ş Ромашка", "😀"]
    awkward += ["\\u00ab", "\u2028", "", "\\\x01", '{"k":"v\\n"}']
    recs = [
        {**DECL, "id": v, "description": v, f"x{i % 3}": v, "consignee_name": v or None}
        for i, v in enumerate(awkward)
    ]
    table = from_records(recs)
    result = screen_table(table, load_policy("tr-customs-2024"))
    result.lists = ['l"1', "l\\2"]
    at = datetime(2024, 11, 5, 9, 8, 7)
    rows, payloads = _rows(result, table, 'batch:a"b\n.csv', at, 41)
    assert [r["seq"] for r in rows] == list(range(41, 41 + len(recs)))
    assert payloads == [payload(r) for r in rows]
    plain = table.select([c for c in table.column_names if not is_internal(c)])
    assert _declaration_docs(table) == [json_doc(r) for r in plain.to_pylist()]
    result.policy_sha256, result.list_versions = None, []  # the form with both fields kept
    _, texts = _rows(result, table, "api", at, 1)
    assert texts == [payload(r) for r in _rows(result, table, "api", at, 1)[0]]


def test_small_and_large_appends_store_the_same_records(tmp_path: Path) -> None:
    """A few records go in as INSERT ... VALUES, more as an Arrow table: both store the same
    fields (awkward text too), chain on, verify intact, and keep the head's copy current."""
    from transship.screening import audit
    from transship.screening.declarations import from_records
    from transship.screening.engine import screen_table
    from transship.screening.policies import load_policy
    from transship.warehouse import Warehouse

    awkward = ['a"b', "back\\slash", "new\nline", "\x01\x1f", "é ş Ромашка", "😀", "\\u00ab"]
    recs = [{**DECL, "id": f"A{i}", "description": v} for i, v in enumerate(awkward)]
    n = audit.SMALL_APPEND
    small, large = from_records(recs[:n]), from_records((recs * 2)[: n + 1])
    policy = load_policy("tr-customs-2024")
    w = Warehouse(tmp_path / "s.duckdb")
    assert audit.append(w.con, screen_table(small, policy), small, "api") == (1, n)
    assert audit.append(w.con, screen_table(large, policy), large, "api") == (n + 1, 2 * n + 1)
    w.con.execute("DELETE FROM transship_meta WHERE key = ?", [audit.META_KEY])  # older file
    assert audit.append(w.con, screen_table(small, policy), small, "api")[1] == 3 * n + 1
    cols = "declaration_id, decision, rules, hits, error, declaration, policy, lists"
    rows = w.con.execute(f"SELECT {cols} FROM screening_audit ORDER BY seq").fetchall()
    assert rows[:n] == rows[n : 2 * n] == rows[2 * n + 1 :]
    v = audit.verify(w.con)
    assert v.ok and v.records == 3 * n + 1, v.problems
    assert audit._meta_head(w.con) == audit.head(w.con)
    w.close()


def test_an_append_from_another_connection_moves_the_head_and_the_chain_follows(
    tmp_path: Path,
) -> None:
    """append_many keeps the head each connection wrote last and updates it only where it is
    still that head: an append through another connection to the same file (one DuckDB
    database per process) in between is read, and the chain continues from it."""
    from transship.screening import audit
    from transship.screening.declarations import from_records
    from transship.screening.engine import screen_table
    from transship.screening.policies import load_policy
    from transship.warehouse import Warehouse

    table = from_records([DECL])
    result = screen_table(table, load_policy("tr-customs-2024"))
    w = Warehouse(tmp_path / "h.duckdb")
    other = w.con.cursor()
    assert audit.append(w.con, result, table, "api") == (1, 1)
    assert audit.append(other, result, table, "api") == (2, 2)
    assert audit.append(w.con, result, table, "api") == (3, 3)  # not (2, 2) again
    assert audit.append(w.con, result, table, "api") == (4, 4)
    v = audit.verify(w.con)
    assert v.ok and v.records == 4 and v.head_seq == 4, v.problems
    assert audit._meta_head(w.con) == audit.head(w.con)
    other.close()
    w.close()


def test_linger_counts_from_the_oldest_queued_append(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An append that queued behind a commit has already waited: once linger_s has passed
    since it was queued, it is committed without lingering, even with more announced."""
    from transship.screening import groupcommit
    from transship.screening.declarations import from_records
    from transship.screening.engine import screen_table
    from transship.screening.policies import load_policy
    from transship.warehouse import Warehouse

    now = [1000.0]
    monkeypatch.setattr(groupcommit, "_clock", lambda: now[0])
    w = Warehouse(tmp_path / "o.duckdb")
    lock = threading.RLock()
    # Announced appends forever and a linger of an hour: only the deadline ends a linger.
    gc = groupcommit.GroupCommit(w.con, lock, incoming=lambda: 1, linger_s=3600)
    table = from_records([DECL])
    result = screen_table(table, load_policy("tr-customs-2024"))
    done: list[tuple[int, int]] = []
    second = threading.Event()

    def told(seqs: tuple[int, int], error: BaseException | None) -> None:
        done.append(seqs)
        if len(done) == 2:
            second.set()

    with lock:  # the first group's commit waits for this lock
        gc.submit(result, table, "api", told)
        now[0] += 3601  # the first append's linger ends
        with gc._cond:
            gc._cond.notify()
        for _ in range(6000):  # until the committer took it and waits for the lock
            if gc._busy and not gc._queue:
                break
            time.sleep(0.01)
        else:
            pytest.fail("the first append lingered after its deadline")
        gc.submit(result, table, "api", told)  # queued behind that commit
        now[0] += 3601  # ... and waiting there longer than the linger
    assert second.wait(60), "the second append lingered after its deadline"
    assert done == [(1, 1), (2, 2)] and gc.groups == 2
    gc.close()
    w.close()
