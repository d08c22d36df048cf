"""Sharing one warehouse file between processes: lock waits, lock messages, leases.

DuckDB lets one process open a database file for writing, and while it does no other process
may open the file at all (not even read-only). transship therefore holds the file only while
it works:

- every `Warehouse` open waits for a held lock, up to `TRANSSHIP_LOCK_WAIT_S` seconds
  (`connect_waiting`), and then fails with a message that says which process holds the file
  (pid and command line, from DuckDB's own error and /proc) and what to do;
- a long-running process (`transship serve`) takes a `Lease`: the file is opened when a
  request needs it, shared by the requests in flight (one DuckDB cursor each) and closed
  once none has used it for `TRANSSHIP_SERVE_IDLE_S` seconds. Between bursts of requests the
  CLI can query, ingest or load lists; the server sees their changes on its next open.

The cost: a request that finds the file closed pays the open (milliseconds), and while a CLI
command holds the file (an ingest, a long query) requests wait for it, up to the lock wait.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from transship.errors import WarehouseError
from transship.schema import table_exists

_PID = re.compile(r"PID (\d+)")


def is_lock_error(e: BaseException) -> bool:
    text = str(e)
    return "Could not set lock" in text or "Conflicting lock" in text


def holder(message: str) -> str:
    """'pid 123 (transship serve --port 8000)' from DuckDB's lock error, when it names one."""
    m = _PID.search(message)
    if not m:
        return "another process"
    pid = m.group(1)
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        cmd = " ".join(part.decode("utf-8", "replace") for part in raw.split(b"\0") if part)
    except OSError:  # gone already, or not Linux
        cmd = ""
    return f"pid {pid} ({_short(cmd)})" if cmd else f"pid {pid}"


def _short(cmd: str, width: int = 100) -> str:
    cmd = re.sub(r"^\S*/(python[\d.]*)\s", r"\1 ", cmd)  # /usr/bin/python3.11 -> python3.11
    return cmd if len(cmd) <= width else cmd[: width - 3] + "..."


def lock_message(path: Path, error: BaseException, waited: float) -> str:
    return (
        f"warehouse {path} is locked by {holder(str(error))}; waited {waited:.0f}s. DuckDB lets "
        "one process use the file at a time: let that command finish, or stop it. "
        "`transship serve` lets go of the file between requests; set TRANSSHIP_LOCK_WAIT_S "
        "to wait longer."
    )


def connect_waiting(
    path: Path, *, read_only: bool, config: dict[str, Any], wait: float
) -> Any:  # duckdb.DuckDBPyConnection
    """duckdb.connect, retrying while another process holds the file (up to `wait` s)."""
    import duckdb

    start = time.monotonic()
    delay = 0.02
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as e:
            waited = time.monotonic() - start
            if not is_lock_error(e):
                raise WarehouseError(f"cannot open warehouse {path}: {e}") from e
            if waited >= wait:
                raise WarehouseError(lock_message(path, e, waited)) from None
            time.sleep(min(delay, max(wait - waited, 0.0)))
            delay = min(delay * 2, 0.1)  # poll often: a server lets go for moments only


class Lease:
    """A warehouse file held only while in use: see the module docstring.

    `open` makes the `Warehouse` (read-write for the API's audit trail); `connection()`
    yields a DuckDB cursor of it (thread-safe: one per caller); the file closes `idle`
    seconds after the last caller is done. `version()` tells callers with caches whether
    another process changed the warehouse since they last looked.
    """

    def __init__(self, open: Callable[[], Any], *, idle: float, busy: Any = None) -> None:
        self._open = open
        self.idle = idle
        self._busy = busy  # a lock whose holder still uses the file: no idle close then
        self._cond = threading.Condition()
        self._wh: Any = None
        self._users = 0
        self._last = 0.0
        self._reaper: threading.Thread | None = None
        self._closed = False
        self.opens = 0  # how often the file was opened (tests, diagnostics)

    @property
    def is_open(self) -> bool:
        return self._wh is not None

    def current(self) -> Any:
        """The open Warehouse (opened if need be) without taking a use: for a caller that
        holds the `busy` lock while it uses it; the idle close waits for that lock."""
        with self._cond:
            if self._closed:
                raise WarehouseError("the server is shutting down")
            if self._wh is None:
                self._wh = self._open()
                self.opens += 1
            self._last = time.monotonic()
            if self._users == 0:
                self._schedule()
            return self._wh

    @contextmanager
    def warehouse(self) -> Iterator[Any]:
        """The open `Warehouse` itself (its `con` is shared: hold a lock around its use)."""
        with self._cond:
            if self._closed:
                raise WarehouseError("the server is shutting down")
            if self._wh is None:
                self._wh = self._open()
                self.opens += 1
            self._users += 1
            wh = self._wh
        try:
            yield wh
        finally:
            with self._cond:
                self._users -= 1
                self._last = time.monotonic()
                if self._users == 0:
                    self._schedule()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """A use that does not open the file: for a request that needs it only at its end
        (the API's screening, whose records are committed after the matching). The file
        then stays open meanwhile instead of closing `idle` s into a long batch and being
        opened again (~50 ms, with the schema check) for its commit."""
        with self._cond:
            self._users += 1
        try:
            yield
        finally:
            with self._cond:
                self._users -= 1
                self._last = time.monotonic()
                if self._users == 0:
                    self._schedule()

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A DuckDB cursor on the warehouse, for one caller (thread)."""
        with self.warehouse() as wh:
            cur = wh.con.cursor()
            try:
                yield cur
            finally:
                cur.close()

    def _schedule(self) -> None:  # called with the condition held, when the last user left
        if self.idle <= 0 and self._busy is None:
            self._release()
            return
        # One reaper thread per lease sleeps until the file has been idle long enough; a
        # threading.Timer per request (the file idles between most requests under load)
        # cost a thread start each time.
        # It wakes by itself (no notify per request): _last only moves later.
        if self._reaper is None or not self._reaper.is_alive():
            self._reaper = threading.Thread(target=self._reap, name="lease-reaper", daemon=True)
            self._reaper.start()

    def _reap(self) -> None:
        """Close the file once no caller has used it for `idle` seconds (see _schedule)."""
        poll = max(self.idle, 0.01)
        with self._cond:
            while not self._closed and self._wh is not None:
                left = self._last + self.idle - time.monotonic()
                if self._users or left > 0:
                    self._cond.wait(poll if self._users else left)
                    continue
                # The `busy` lock's holder uses the file without taking a use: look again
                # later. Never block on it here: it is taken before the condition elsewhere.
                if self._busy is not None and not self._busy.acquire(blocking=False):
                    self._cond.wait(poll)
                    continue
                try:
                    self._release()
                finally:
                    if self._busy is not None:
                        self._busy.release()
            self._reaper = None

    def _release(self) -> None:  # called with the condition held
        if self._wh is not None and self._users == 0:
            self._wh.close()
            self._wh = None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            if self._wh is not None:
                self._wh.close()
                self._wh = None


def data_version(con: Any) -> tuple[Any, ...]:
    """What changes when another process ingests or loads lists: caches key on it."""
    row = con.execute(
        "SELECT count(*), max(finished) FROM ingest_batches WHERE status = 'ok'"
    ).fetchone()
    lists: list[Any] = []
    if table_exists(con, "screening_lists"):
        lists = con.execute(
            "SELECT list, loaded_at, input_sha256 FROM screening_lists ORDER BY list"
        ).fetchall()
    return (tuple(row or ()), tuple(lists))
