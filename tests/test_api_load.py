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


def test_a_built_list_index_is_out_of_the_collectors_view(tmp_path: Path) -> None:
    """Full collections would walk the index's objects (the p99 tail: web/service.py)."""
    import gc

    from transship.web.service import YOUNG_GC, ScreeningService

    threshold = gc.get_threshold()
    svc = ScreeningService(_settings(_warehouse(tmp_path)))
    try:
        gc.unfreeze()
        m = svc.matcher(["hand"])
        assert gc.get_freeze_count() > 0
        tracked = {id(o) for o in gc.get_objects()}
        assert id(m) not in tracked and id(m.__dict__) not in tracked
        assert svc.matcher(["hand"]) is m  # cached: no second collection
        assert gc.get_threshold()[0] >= YOUNG_GC  # few young collections over the caches
    finally:
        svc.close()
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_the_file_stays_open_from_a_requests_screening_to_its_commit(tmp_path: Path) -> None:
    """With the file let go as soon as it idles, a batch still opens it once: the screening
    holds the lease until its records are committed (no reopen for the commit)."""
    settings = _settings(_warehouse(tmp_path), serve_idle_s=0, api_lists_refresh_s=0)
    batch = {"declarations": [{**DECL, "id": f"B{i}"} for i in range(300)]}
    with serve(settings) as (url, app), httpx.Client(base_url=url, headers=AUTH, timeout=60) as c:
        lease = app.state.screening.lease
        for n in (1, 2):
            # The file closed first (the reaper thread lets it go moments after the last use,
            # later on a busy machine): the request must then open it exactly once.
            deadline = time.monotonic() + 30
            while lease.is_open and time.monotonic() < deadline:
                time.sleep(0.01)
            assert not lease.is_open
            before = lease.opens
            r = c.post("/v1/screen", json=batch)
            assert r.status_code == 200, r.text
            assert r.json()["audit_seq"] == [300 * n - 299, 300 * n]
            assert lease.opens == before + 1
