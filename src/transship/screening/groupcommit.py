"""Group commit of audit records: concurrent screenings share one transaction.

Each caller of `GroupCommit.append` waits until its records are committed (durable) and gets
their seq range, as with `audit.append`. While one commit runs, callers that arrive queue up;
the next of them to wake commits the whole queue at once. So under load one transaction
carries many requests' records (commits per second stay few) and an idle server still
commits each request at once: no timer, no background thread to stop. The chain is exact:
records are appended in queue order, each linked to the one before, by `audit.append_many`.

Linger: a commit costs ~4 ms of CPU however few records it carries (five DuckDB statements,
auditwrite.py), and at 150-200 requests/s requests arrive 5-7 ms apart, so groups stayed at one
or two records. The committer therefore waits, at most `linger_s`, for more appends before it
commits, but only when more are likely: the caller says some are on their way (`incoming()`:
requests admitted and not yet screened), or appends have been arriving less than `linger_s`
apart (a moving average). An idle server commits at once.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from transship.screening import audit


class _Job:
    __slots__ = ("done", "error", "item", "seqs")

    def __init__(self, item: tuple[Any, Any, str]) -> None:
        self.item = item
        self.done = False
        self.seqs: tuple[int, int] = (0, 0)
        self.error: BaseException | None = None


class GroupCommit:
    """Serialises audit appends on one connection, batching those that arrive together.

    `db_lock` guards the connection (the service uses it for other queries too); it is held
    only while a group is written.
    """

    def __init__(
        self,
        con: Any,
        db_lock: threading.RLock | threading.Lock,
        max_group: int = 512,
        checkpoint_every: int = audit.CHECKPOINT_RECORDS,
        incoming: Callable[[], int] | None = None,
        linger_s: float = 0.0,
    ):
        self.con = con
        self.incoming = incoming
        self.linger_s = linger_s
        self.db_lock = db_lock
        self.max_group = max_group
        # A long-running server checkpoints every this many records, so a copy of the
        # .duckdb file taken while it runs misses at most the last few.
        self.checkpoint_every = checkpoint_every
        self._since_checkpoint = 0
        lock = threading.Lock()
        self._cond = threading.Condition(lock)  # a job is done, or the committer is free
        self._arrived = threading.Condition(lock)  # a job was queued (for the linger)
        self._queue: list[_Job] = []
        self._busy = False
        self._gap = float("inf")  # moving average of the time between appends
        self._arrival = 0.0
        self.groups = 0  # transactions committed (for tests and the health page)
        self.records = 0

    def append(self, result: Any, declarations: Any, channel: str) -> tuple[int, int]:
        job = _Job((result, declarations, channel))
        with self._cond:
            now = time.monotonic()
            gap, self._arrival = now - self._arrival, now
            self._gap = gap if self._gap == float("inf") else 0.8 * self._gap + 0.2 * gap
            self._queue.append(job)
            self._arrived.notify()  # a lingering committer counts this one
        while True:
            with self._cond:
                while not job.done and self._busy:
                    self._cond.wait()
                if job.done:
                    return self._outcome(job)
                # Nobody is committing: this caller commits what is queued (its own job
                # included, or in a later round when more than max_group wait before it).
                self._busy = True
                # Before the try below: a linger that failed (`incoming` raising) left _busy
                # set and every later append waiting; it only commits sooner instead.
                with contextlib.suppress(Exception):
                    self._linger()
                group = self._queue[: self.max_group]
                del self._queue[: self.max_group]
            try:
                with self.db_lock:
                    ranges = audit.append_many(self.con, [j.item for j in group])
                    self._since_checkpoint += sum(j.item[0].table.num_rows for j in group)
                    if self._since_checkpoint >= self.checkpoint_every:
                        audit.checkpoint(self.con)
                        self._since_checkpoint = 0
                for j, r in zip(group, ranges, strict=True):
                    j.seqs = r
            except BaseException as e:  # the transaction rolled back: every job in it failed
                for j in group:
                    j.error = e
            finally:
                with self._cond:
                    for j in group:
                        j.done = True
                    self.groups += 1
                    self.records += sum(j.item[0].table.num_rows for j in group)
                    self._busy = False
                    self._cond.notify_all()

    def _linger(self) -> None:
        """Wait (the condition held) up to linger_s for more appends, while more are likely."""
        if self.linger_s <= 0:
            return
        deadline = time.monotonic() + self.linger_s
        while len(self._queue) < self.max_group and (
            self._gap < self.linger_s or (self.incoming is not None and self.incoming() > 0)
        ):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._arrived.wait(left)

    @staticmethod
    def _outcome(job: _Job) -> tuple[int, int]:
        if job.error is not None:
            raise job.error
        return job.seqs
