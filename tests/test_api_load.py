"""The screening API under load: shedding (503 + Retry-After), no work for callers that left,
group commit of audit records, the WAL checkpoint on shutdown, the bounded list-index cache.

A real uvicorn server runs on a free loopback port in a thread; no wall-clock assertions.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._serve import serve
from tests.conftest import write
from transship.screening import load_lists, verify_audit
from transship.settings import Settings

TOKEN = "load-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DECL = {
    "id": "T1",
    "date": "2024-11-05",
    "exporter_name": "Anka Elektronik Ltd. Şti.",
    "exporter_country": "TR",
    "consignee_name": "ООО Ромашка",  # noqa: RUF001
    "consignee_country": "RU",
    "origin_country": "US",
    "destination_country": "RU",
    "hs_code": "8542310010",
    "value": 12000,
    "currency": "USD",
}


def _warehouse(tmp_path: Path) -> Path:
    wh = tmp_path / "w.duckdb"
    lst = write(tmp_path / "l.csv", "id,name,country\ne1,Romashka LLC,RU\ne2,Tekhnosfera,RU\n")
    load_lists(wh, "hand", [lst])
    return wh


def _settings(wh: Path, **kw: Any) -> Settings:
    return Settings(warehouse=wh, api_tokens=TOKEN, **kw)


def _decl(i: int, **kw: Any) -> dict[str, Any]:
    return {"declaration": {**DECL, "id": f"T{i}", **kw}}


@pytest.mark.slow
def test_concurrent_requests_all_audited_in_shared_commits(tmp_path: Path) -> None:
    wh = _warehouse(tmp_path)
    # A generous queue timeout: this machine may be busy, and shedding is tested below.
    with serve(_settings(wh, api_queue_timeout_s=120)) as (url, app):
        with httpx.Client(base_url=url, headers=AUTH, timeout=60) as c:
            assert c.post("/v1/screen", json=_decl(0)).status_code == 200  # builds the index
            with ThreadPoolExecutor(16) as pool:
                rs = list(pool.map(lambda i: c.post("/v1/screen", json=_decl(i)), range(1, 61)))
        assert [r.status_code for r in rs] == [200] * 60
        seqs = sorted(s for r in rs for s in r.json()["audit_seq"][:1])
        assert seqs == list(range(2, 62))  # one record each, none lost or shared
        assert all(r.json()["decisions"][0]["decision"] == "BLOCK" for r in rs)
        committer = app.state.screening.audit
        assert committer.records == 61
    v = verify_audit(wh)
    assert v.ok and v.records == 61


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


@pytest.mark.slow(reason="a server, held workers and a 3 s Retry-After (2.5-3.6 s)")
def test_tiny_queue_sheds_with_503_and_retry_after(tmp_path: Path) -> None:
    wh = _warehouse(tmp_path)
    release = threading.Event()
    with serve(
        _settings(wh, api_max_pending=2, api_workers=1, api_retry_after_s=3, api_queue_timeout_s=60)
    ) as (url, app):
        svc = app.state.screening
        original = svc.decide

        def slow(req: Any) -> Any:
            release.wait(30)
            return original(req)

        svc.decide = slow
        with httpx.Client(base_url=url, headers=AUTH, timeout=60) as c:
            with ThreadPoolExecutor(2) as pool:
                first = [pool.submit(c.post, "/v1/screen", json=_decl(i)) for i in range(2)]
                while _shedder(app).pending < 2:
                    time.sleep(0.01)
                shed = c.post("/v1/screen", json=_decl(9))
                assert shed.status_code == 503 and shed.headers["retry-after"] == "3"
                assert "busy" in shed.json()["error"]
                assert c.get("/v1/health").status_code == 200  # only screening is shed
                release.set()
                assert [f.result().status_code for f in first] == [200, 200]
            assert c.post("/v1/screen", json=_decl(10)).status_code == 200
        assert _shedder(app).shed == 1
    v = verify_audit(wh)
    assert v.ok and v.records == 3  # the shed request wrote nothing


@pytest.mark.slow(reason="a server and a held worker past the queue timeout (1.3-1.7 s)")
def test_waiting_too_long_for_a_worker_is_503(tmp_path: Path) -> None:
    wh = _warehouse(tmp_path)
    release = threading.Event()
    with serve(_settings(wh, api_workers=1, api_queue_timeout_s=0.2)) as (url, app):
        svc = app.state.screening
        original = svc.decide
        working = threading.Event()

        def slow(req: Any) -> Any:
            working.set()
            release.wait(30)
            return original(req)

        svc.decide = slow
        c = httpx.Client(base_url=url, headers=AUTH, timeout=60)
        with ThreadPoolExecutor(1) as pool:
            busy = pool.submit(c.post, "/v1/screen", json=_decl(1))
            assert working.wait(30)  # the only worker is taken
            late = c.post("/v1/screen", json=_decl(2))
            assert late.status_code == 503 and late.headers["retry-after"] == "1"
            release.set()
            assert busy.result().status_code == 200
        c.close()
        assert app.state.workers.timed_out == 1


@pytest.mark.slow(reason="a server and a client that disconnects (1.1-1.4 s)")
def test_a_client_that_left_is_not_screened(tmp_path: Path) -> None:
    wh = _warehouse(tmp_path)
    release = threading.Event()
    calls: list[str] = []
    with serve(_settings(wh, api_workers=1, api_queue_timeout_s=60)) as (url, app):
        svc = app.state.screening
        original = svc.decide

        def counted(req: Any) -> Any:
            calls.append(req.declaration.id)
            release.wait(30)
            return original(req)

        svc.decide = counted
        host, port = url.removeprefix("http://").split(":")
        with httpx.Client(base_url=url, headers=AUTH, timeout=60) as c:
            with ThreadPoolExecutor(1) as pool:
                busy = pool.submit(c.post, "/v1/screen", json=_decl(1))
                while not calls:
                    time.sleep(0.01)
                # A raw request that hangs up while waiting for the only worker.
                body = json.dumps(_decl(2)).encode()
                with socket.create_connection((host, int(port))) as s:
                    s.sendall(
                        b"POST /v1/screen HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + f"Authorization: Bearer {TOKEN}\r\n".encode()
                        + f"Content-Length: {len(body)}\r\n\r\n".encode()
                        + body
                    )
                    while _shedder(app).pending < 2:
                        time.sleep(0.01)
                time.sleep(0.3)  # the server notices the hang-up
                release.set()
                assert busy.result().status_code == 200
            for _ in range(500):
                if _shedder(app).pending == 0:
                    break
                time.sleep(0.01)
        assert calls == ["T1"] and app.state.workers.gone == 1
    v = verify_audit(wh)
    assert v.ok and v.records == 1


def test_shutdown_checkpoints_so_the_database_file_alone_holds_every_record(
    tmp_path: Path,
) -> None:
    wh = _warehouse(tmp_path)
    with serve(_settings(wh)) as (url, _):
        c = httpx.Client(base_url=url, headers=AUTH, timeout=60)
        body = {"declarations": [{**DECL, "id": f"B{i}"} for i in range(50)]}
        assert c.post("/v1/screen", json=body).status_code == 200
        for i in range(5):
            assert c.post("/v1/screen", json=_decl(i)).status_code == 200
        c.close()
    assert not Path(f"{wh}.wal").exists()
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(wh, copy)  # the file alone, as a backup would take it
    v = verify_audit(copy)
    assert v.ok and v.records == 55 and v.head_seq == 55


@pytest.mark.slow(reason="loads lists and rebuilds indexes past the cache bound (1.7-2.7 s)")
def test_list_index_cache_is_bounded_and_follows_reloads(tmp_path: Path) -> None:
    from transship.screening.lists import load_list

    wh = _warehouse(tmp_path)
    for name in ("a", "b", "c"):
        load_lists(wh, name, [write(tmp_path / f"{name}.csv", f"id,name\n{name}1,Nobody {name}\n")])
    settings = _settings(wh, api_matcher_cache=2, api_lists_refresh_s=0)
    with serve(settings) as (url, app):
        svc = app.state.screening
        with httpx.Client(base_url=url, headers=AUTH, timeout=60) as c:

            def screen(lists: list[str]) -> dict[str, Any]:
                r = c.post("/v1/screen", json={**_decl(1), "lists": lists})
                assert r.status_code == 200, r.text
                return dict(r.json()["decisions"][0])

            for lists in (["a"], ["b"], ["c"], ["a", "b"], ["b", "a"], ["hand"]):
                screen(lists)
                assert len(svc._matchers) <= 2
            assert screen(["hand"])["decision"] == "BLOCK"
            builds = svc._matchers.builds
            # Reload "hand" without Romashka: the next request uses the new version.
            new = write(tmp_path / "l2.csv", "id,name,country\ne9,Someone Else,RU\n")
            with svc._db:
                load_list(svc._warehouse().con, "hand", [new])
            d = screen(["hand"])
            assert svc._matchers.builds == builds + 1
            assert not d["hits"] and all("e1" not in r for r in d["reasons"])


def _shedder(app: Any) -> Any:
    """The Shedder instance in the built middleware stack."""
    layer = app.middleware_stack
    from transship.web.load import Shedder

    while layer is not None and not isinstance(layer, Shedder):
        layer = getattr(layer, "app", None)
    assert layer is not None
    return layer


@pytest.fixture(autouse=True)
def _no_env_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRANSSHIP_API_TOKENS", raising=False)


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
