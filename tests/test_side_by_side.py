"""`transship serve` and the CLI on one warehouse at the same time (warehouse/lease.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from tests.conftest import REPO, write
from transship.cli import app
from transship.errors import WarehouseError
from transship.screening import load_lists
from transship.sources.csvfile import csv_file
from transship.warehouse import Warehouse

TOKEN = "side-by-side-token"
MAP = ["rep=reporter", "par=partner", "hs=hs", "month=period", "usd=value_usd"]
ROWS = "rep,par,hs,month,usd\nTUR,RUS,854231,2023-01,100\nTUR,KAZ,854231,2023-02,50\n"
DECL = {
    "id": "S1",
    "date": "2024-11-05",
    "origin_country": "DEU",
    "destination_country": "KAZ",
    "hs_code": "0303890000",
    "consignee_name": "Frobozz Trading LLP",
    "consignee_country": "KAZ",
}


def _env(db: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", ""),
        TRANSSHIP_API_TOKENS=TOKEN,
        TRANSSHIP_WAREHOUSE=str(db),
    )
    return env


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    db = tmp_path / "w.duckdb"
    with Warehouse(db) as wh:
        f = write(tmp_path / "rows.csv", ROWS)
        wh.ingest(csv_file(f, source="hand", mapping=MAP, constants=["flow=export"]))
    load_lists(db, "first", [write(tmp_path / "a.csv", "id,name,country\ne1,Romashka LLC,RU\n")])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = "from transship.cli import main; main()"
    server = subprocess.Popen(
        [sys.executable, "-c", code, "-w", str(db), "serve", "--port", str(port)],
        env=_env(db),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                err = server.stderr.read().decode() if server.stderr else ""
                pytest.fail(f"transship serve did not start: {err[-2000:]}")
            time.sleep(0.2)
        yield db, url
    finally:
        server.terminate()
        server.wait(20)


@pytest.mark.slow  # a server process and its start-up
def test_cli_queries_and_loads_lists_while_serve_runs(
    served: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transship.settings import get_settings

    db, url = served
    # the CLI waits while the server works (its start-up warming computes every page); on a
    # loaded test machine that can take a while, so wait long enough not to flake
    monkeypatch.setenv("TRANSSHIP_LOCK_WAIT_S", "120")
    get_settings.cache_clear()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    # the server has used the warehouse (health reads it) and still runs
    r = httpx.post(f"{url}/v1/screen", json={"declaration": DECL}, headers=auth, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["decisions"][0]["hits"] == []  # Frobozz is on no list yet
    runner = CliRunner()
    result = runner.invoke(
        app, ["-w", str(db), "flows", "--reporter", "TUR", "--by", "partner", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["partner"]: r["value_usd"] for r in rows} == {"RUS": 100.0, "KAZ": 50.0}
    second = write(tmp_path / "b.csv", "id,name,country\nf1,Frobozz Trading LLP,KZ\n")
    result = runner.invoke(app, ["-w", str(db), "lists", "load", "second", str(second)])
    assert result.exit_code == 0, result.output
    # the running server sees the new list without a restart
    health = httpx.get(f"{url}/v1/health", timeout=30).json()
    assert {x["list"] for x in health["lists"]} == {"first", "second"}
    body = {"lists": ["second"], "declaration": DECL}

    def screened(until: Any) -> dict[str, Any]:
        # the server trusts its view of the lists for TRANSSHIP_API_LISTS_REFRESH_S (2 s)
        deadline = time.monotonic() + 30
        while True:
            r = httpx.post(f"{url}/v1/screen", json=body, headers=auth, timeout=30)
            if r.status_code == 200 and until(r.json()["decisions"][0]):
                return dict(r.json()["decisions"][0])
            assert time.monotonic() < deadline, r.text
            time.sleep(0.5)

    d = screened(lambda d: d["hits"])
    assert [h["entity_id"] for h in d["hits"]] == ["f1"] and d["decision"] != "ALLOW"
    # and reloading a list under the same name replaces what the server matches against
    third = write(tmp_path / "c.csv", "id,name,country\ng1,Zorkmid Holdings LLP,KZ\n")
    result = runner.invoke(app, ["-w", str(db), "lists", "load", "second", str(third)])
    assert result.exit_code == 0, result.output
    assert screened(lambda d: not d["hits"])["decision"] == "ALLOW"
    get_settings.cache_clear()


@pytest.mark.slow  # two processes start
def test_lock_conflict_names_the_holder_and_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transship.settings import get_settings

    db = tmp_path / "held.duckdb"
    Warehouse(db).close()
    hold = (
        "import sys, time; from transship.warehouse import Warehouse; "
        "w = Warehouse(sys.argv[1]); print('held', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(db)], env=_env(db), stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        start = time.monotonic()
        with pytest.raises(WarehouseError) as err:
            Warehouse(db, read_only=True, lock_wait=0.5)
        assert time.monotonic() - start >= 0.5  # it waited before giving up
        text = str(err.value)
        assert f"pid {holder.pid} (python" in text  # pid and command line, from /proc
        assert "-c import sys, time; from transship.warehouse import Warehouse" in text
        assert "let that command finish, or stop it" in text and "TRANSSHIP_LOCK_WAIT_S" in text
        result = CliRunner().invoke(
            app, ["-w", str(db), "flows"], env={"TRANSSHIP_LOCK_WAIT_S": "0"}
        )
        assert result.exit_code == 3 and f"pid {holder.pid}" in result.output
    finally:
        holder.kill()
        holder.wait()
        get_settings.cache_clear()


def test_lease_closes_after_idle_with_one_reaper_thread() -> None:
    """The file closes `idle` s after the last use, by one reaper thread (not a timer thread
    per use), never while the `busy` lock is held, and reopens on the next use."""
    import threading
    import time

    from transship.warehouse.lease import Lease

    class Fake:
        closed = 0

        def close(self) -> None:
            Fake.closed += 1

    busy = threading.RLock()
    lease = Lease(Fake, idle=0.05, busy=busy)
    before = threading.active_count()
    for _ in range(50):
        with lease.warehouse():
            pass
    assert threading.active_count() <= before + 1  # the reaper, not a thread per use
    with busy:
        lease.current()
        time.sleep(0.3)
        assert lease.is_open  # its holder still uses the file
    deadline = time.monotonic() + 10
    while lease.is_open and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not lease.is_open and Fake.closed == 1
    with lease.warehouse():
        assert lease.is_open and lease.opens == 2
    lease.close()
    assert not lease.is_open and Fake.closed == 2
