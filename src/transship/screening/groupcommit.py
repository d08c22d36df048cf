"""Group commit of audit records: concurrent screenings share one transaction.

Appends are queued for one committer thread, which writes everything queued in one
transaction (`audit.append_many`: records in queue order, each chained to the one before),
then tells each caller its seq range once the records are durable. While a commit runs, new
appends queue up, so under load one transaction carries many requests' records and an idle
server still commits each request at once. `append` waits in the calling thread; `submit`
takes a callback instead, so an event loop can await a commit without a thread parked per
request (with a thread per waiting request, every commit woke them all: ~1 ms of CPU a
request at 200 requests/s).

Linger: a commit costs ~2-4 ms of CPU however few records it carries (five DuckDB
statements, auditwrite.py, and ~4 ms of wall time for the WAL's fsync). The committer
therefore waits for more appends, at most until `linger_s` after the oldest record it holds
was queued (maybe during the commit before), but only while more are likely: the caller
says some are on their way (`incoming()`: requests admitted and not yet screened), or
appends have been arriving less than `linger_s` apart (a moving average of the gaps) and the
last one came within two such gaps (a stream that stopped is not waited for). An idle server
commits at once.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from transship.screening import audit

_clock = time.monotonic  # tests replace it
IDLE_EXIT_S = 5.0  # the committer thread ends after this long without appends
Done = Callable[[tuple[int, int], BaseException | None], None]


class _Job:
    __slots__ = ("at", "done", "item")

    def __init__(self, item: tuple[Any, Any, str], done: Done, at: float) -> None:
        self.item = item
        self.done = done
        self.at = at  # when it was queued (the linger counts from the oldest queued)


class GroupCommit:
    """Serialises audit appends on one connection, batching those that arrive together.

    `db_lock` guards the connection (the service uses it for other queries too); it is held
    only while a group is written. `con` is the connection, or `connect` a callable that
    returns it (called with `db_lock` held, for a server whose file may have been reopened).
    """

    def __init__(
        self,
        con: Any,
        db_lock: threading.RLock | threading.Lock,
        max_group: int = 512,
        checkpoint_every: int = audit.CHECKPOINT_RECORDS,
        incoming: Callable[[], int] | None = None,
        linger_s: float = 0.0,
        connect: Callable[[], Any] | None = None,
    ):
        self.con = con
        self.connect = connect
        self.incoming = incoming
        self.linger_s = linger_s
        self.db_lock = db_lock
        self.max_group = max_group
        # A long-running server checkpoints every this many records, so a copy of the
        # .duckdb file taken while it runs misses at most the last few.
        self.checkpoint_every = checkpoint_every
        self._since_checkpoint = 0
        self._cond = threading.Condition()  # a job was queued, or the committer may stop
        self._queue: list[_Job] = []
        self._busy = False  # the committer holds a group (lingering or writing it)
        self._thread: threading.Thread | None = None
        self._closed = False
        self._gap = float("inf")  # moving average of the time between appends
        self._arrival: float | None = None  # the last append's time (None: no append yet)
        self.groups = 0  # transactions committed (for tests and the health page)
        self.records = 0

    def submit(self, result: Any, declarations: Any, channel: str, done: Done) -> None:
        """Queue one screening's records; `done(seqs, error)` is called on the committer
        thread once they are committed (error None) or their transaction failed."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the audit committer is closed")
            now = _clock()
            if self._arrival is not None:  # the first append has no gap before it
                gap = now - self._arrival
                self._gap = gap if self._gap == float("inf") else 0.8 * self._gap + 0.2 * gap
            self._arrival = now
            self._queue.append(_Job((result, declarations, channel), done, now))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="transship-audit", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def append(self, result: Any, declarations: Any, channel: str) -> tuple[int, int]:
        """Append and wait until the records are committed; returns their seq range."""
        finished = threading.Event()
        out: list[Any] = []

        def done(seqs: tuple[int, int], error: BaseException | None) -> None:
            out.append((seqs, error))
            finished.set()

        self.submit(result, declarations, channel, done)
        finished.wait()
        seqs, error = out[0]
        if error is not None:
            raise error
        return seqs  # type: ignore[no-any-return]

    def close(self) -> None:
        """Commit what is queued, then stop the committer thread."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    # Idle for a while: the thread ends (and holds no reference to this
                    # object); the next append starts another.
                    if not self._cond.wait(IDLE_EXIT_S) and not self._queue:
                        self._thread = None
                        return
                if not self._queue:  # closed and drained
                    self._thread = None
                    return
                self._busy = True
                # A linger that failed (`incoming` raising) only commits sooner.
                with contextlib.suppress(Exception):
                    self._linger()
                group = self._queue[: self.max_group]
                del self._queue[: self.max_group]
            try:
                told = self._write(group)
            finally:
                with self._cond:
                    self._busy = False
            for job, seqs, error in told:
                with contextlib.suppress(Exception):  # a callback must not stop the committer
                    job.done(seqs, error)

    def _write(self, group: list[_Job]) -> list[tuple[_Job, tuple[int, int], BaseException | None]]:
        """Commit one group; returns what to tell each of its callers."""
        n = sum(j.item[0].table.num_rows for j in group)
        try:
            with self.db_lock:
                con = self.connect() if self.connect is not None else self.con
                ranges = audit.append_many(con, [j.item for j in group])
                self._since_checkpoint += n
                if self._since_checkpoint >= self.checkpoint_every:
                    audit.checkpoint(con)
                    self._since_checkpoint = 0
        except BaseException as e:  # the transaction rolled back: every job in it failed
            self.groups += 1
            return [(j, (0, 0), e) for j in group]
        self.groups += 1
        self.records += n
        return [(j, r, None) for j, r in zip(group, ranges, strict=True)]

    def _linger(self) -> None:
        """Wait (the condition held) for more appends while more are likely, until linger_s
        after the oldest queued one arrived: records that queued behind a commit already
        waited (counting from the linger's start, they waited a commit + linger_s)."""
        if self.linger_s <= 0 or not self._queue:
            return
        deadline = self._queue[0].at + self.linger_s
        while len(self._queue) < self.max_group and not self._closed:
            now = _clock()
            left = deadline - now
            if left <= 0:
                return
            if self.incoming is not None and self.incoming() > 0:
                self._cond.wait(left)
                continue
            # A stream of appends: the next one is due within about a gap of the last.
            last = self._arrival if self._arrival is not None else now
            wait_to = last + 2 * self._gap
            if self._gap >= self.linger_s or wait_to <= now:
                return
            self._cond.wait(min(left, wait_to - now))
