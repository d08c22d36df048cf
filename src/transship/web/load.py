"""Load shedding for the screening entry points: a bounded number of requests in the server,
a bounded number worked on at once, and no work for callers that are gone.

- `Shedder` (ASGI middleware) admits at most `api_max_pending` screening requests at a time,
  counted from arrival to response; one more gets 503 with Retry-After before its body is
  read, so an overload costs the server almost nothing instead of growing a backlog it
  would work through long after the callers gave up.
- `in_worker` runs the screening on one of `api_workers` threads; a request that waited
  `api_queue_timeout_s` for one gets 503 too, and a request whose client disconnected while
  it waited is dropped unworked.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse

from transship.settings import Settings

T = TypeVar("T")
SCREENING = frozenset({("POST", "/v1/screen"), ("POST", "/screening")})
CLIENT_GONE = 499  # nginx's code for "client closed request"; the response goes nowhere


class Shedder:
    """ASGI middleware: 503 + Retry-After past `api_max_pending` screening requests."""

    def __init__(
        self, app: Any, settings: Settings, routes: frozenset[tuple[str, str]] = SCREENING
    ):
        self.app = app
        self.limit = settings.api_max_pending
        self.retry_after = settings.api_retry_after_s
        self.routes = routes
        self.pending = 0  # one event loop: no lock needed
        self.shed = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) not in self.routes:
            await self.app(scope, receive, send)
            return
        if self.pending >= self.limit:
            self.shed += 1
            await overloaded(self.retry_after, f"{self.pending} screening requests in progress")(
                scope, receive, send
            )
            return
        self.pending += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.pending -= 1


def overloaded(retry_after: int, why: str) -> JSONResponse:
    return JSONResponse(
        {"error": f"server busy ({why}); retry in {retry_after} s"},
        status_code=503,
        headers={"Retry-After": str(retry_after)},
    )


class Workers:
    """The screening threads and their limit, bound to the running event loop (a test client
    may run each request in a loop of its own; `transship serve` has one).

    Plain asyncio: a semaphore of `api_workers` and a pool of as many threads that screen
    (the audit commit is awaited on the loop: `audited`). anyio's CapacityLimiter,
    fail_after and to_thread cost ~0.3 ms of event-loop CPU a request, more than the rest of
    the hand-offs together.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loop: Any = None
        self._slots: asyncio.Semaphore | None = None
        self._screeners = ThreadPoolExecutor(settings.api_workers, "transship-screen")
        self.timed_out = 0
        self.gone = 0

    def slots(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._slots is None:
            self._loop = loop
            self._slots = asyncio.Semaphore(self.settings.api_workers)
        return self._slots

    def close(self) -> None:
        self._screeners.shutdown(wait=False)


async def in_worker(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` on a screening worker thread, unless the wait was too long or the client left."""
    workers: Workers = request.app.state.workers
    s = workers.settings
    slots = workers.slots()
    # A free worker is taken at once: no timeout task, and no disconnect check (the client
    # cannot have left in the microseconds since its body was read; starlette's check costs
    # ~0.2 ms of event-loop CPU).
    waited = slots.locked()
    try:
        if waited:
            await asyncio.wait_for(slots.acquire(), s.api_queue_timeout_s)
        else:
            await slots.acquire()
    except TimeoutError:
        workers.timed_out += 1
        raise HTTPException(
            503,
            f"server busy: no screening worker free within {s.api_queue_timeout_s:g} s; "
            f"retry in {s.api_retry_after_s} s",
            headers={"Retry-After": str(s.api_retry_after_s)},
        ) from None
    try:
        if waited and await request.is_disconnected():
            workers.gone += 1
            raise HTTPException(CLIENT_GONE, "client disconnected before screening began")
        future = workers._screeners.submit(fn, *args)
    except BaseException:
        slots.release()
        raise
    # The slot is freed when the thread is done, not when this task is: a cancelled request
    # must not let one more screening run than there are workers.
    loop = asyncio.get_running_loop()

    def free(_: Any) -> None:
        # RuntimeError: that loop is closed (a test client's), and its semaphore with it.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(slots.release)

    future.add_done_callback(free)
    return await asyncio.wrap_future(future)


async def audited(audit: Any, result: Any, declarations: Any, channel: str) -> tuple[int, int]:
    """The seq range of a screening's records once the group commit (`audit`, a
    screening.groupcommit.GroupCommit) has committed them. The event loop waits on a future
    the committer thread settles: no thread is parked per request."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[tuple[int, int]] = loop.create_future()

    def settle(seqs: tuple[int, int], error: BaseException | None) -> None:
        if future.done():  # the request was cancelled meanwhile; its records are committed
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(seqs)

    def done(seqs: tuple[int, int], error: BaseException | None) -> None:  # committer thread
        with contextlib.suppress(RuntimeError):  # that loop is closed (a test client's)
            loop.call_soon_threadsafe(settle, seqs, error)

    audit.submit(result, declarations, channel, done)
    return await future
