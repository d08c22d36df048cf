"""Group commit of audit records: concurrent screenings share one transaction.

Each caller of `GroupCommit.append` waits until its records are committed (durable) and gets
their seq range, as with `audit.append`. While one commit runs, callers that arrive queue up;
the next of them to wake commits the whole queue at once. So under load one transaction
carries many requests' records (commits per second stay few) and an idle server still
commits each request at once: no timer, no background thread to stop. The chain is exact:
records are appended in queue order, each linked to the one before, by `audit.append_many`.
"""

from __future__ import annotations

import threading
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
    ):
        self.con = con
        self.db_lock = db_lock
        self.max_group = max_group
        # A long-running server checkpoints every this many records, so a copy of the
        # .duckdb file taken while it runs misses at most the last few.
        self.checkpoint_every = checkpoint_every
        self._since_checkpoint = 0
        self._cond = threading.Condition()
        self._queue: list[_Job] = []
        self._busy = False
        self.groups = 0  # transactions committed (for tests and the health page)
        self.records = 0

    def append(self, result: Any, declarations: Any, channel: str) -> tuple[int, int]:
        job = _Job((result, declarations, channel))
        with self._cond:
            self._queue.append(job)
        while True:
            with self._cond:
                while not job.done and self._busy:
                    self._cond.wait()
                if job.done:
                    return self._outcome(job)
                # Nobody is committing: this caller commits what is queued (its own job
                # included, or in a later round when more than max_group wait before it).
                self._busy = True
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

    @staticmethod
    def _outcome(job: _Job) -> tuple[int, int]:
        if job.error is not None:
            raise job.error
        return job.seqs
