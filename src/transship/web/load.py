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
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
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
    """The screening threads' limiter, made in the running event loop (a test client may
    run each request in a loop of its own; `transship serve` has one)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loop: Any = None
        self._limiter: anyio.CapacityLimiter | None = None
        # The default thread limiter (40 tokens) is shared with the dashboard's pages; ours
        # already bounds the screening threads, so they run under one that never waits.
        self._threads: anyio.CapacityLimiter | None = None
        # Threads waiting for the audit commit use no CPU; many may wait at once.
        self._committers: anyio.CapacityLimiter | None = None
        self.timed_out = 0
        self.gone = 0

    def limiters(self) -> tuple[anyio.CapacityLimiter, anyio.CapacityLimiter]:
        self._check_loop()
        assert self._limiter is not None and self._threads is not None
        return self._limiter, self._threads

    def committers(self) -> anyio.CapacityLimiter:
        self._check_loop()
        assert self._committers is not None
        return self._committers

    def _check_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._limiter = anyio.CapacityLimiter(self.settings.api_workers)
            self._threads = anyio.CapacityLimiter(self.settings.api_workers + 1)
            self._committers = anyio.CapacityLimiter(self.settings.api_max_pending)


async def in_worker(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` on a screening worker thread, unless the wait was too long or the client left."""
    workers: Workers = request.app.state.workers
    s = workers.settings
    limiter, threads = workers.limiters()
    try:
        with anyio.fail_after(s.api_queue_timeout_s):
            await limiter.acquire()
    except TimeoutError:
        workers.timed_out += 1
        raise HTTPException(
            503,
            f"server busy: no screening worker free within {s.api_queue_timeout_s:g} s; "
            f"retry in {s.api_retry_after_s} s",
            headers={"Retry-After": str(s.api_retry_after_s)},
        ) from None
    try:
        if await request.is_disconnected():
            workers.gone += 1
            raise HTTPException(CLIENT_GONE, "client disconnected before screening began")
        return await anyio.to_thread.run_sync(fn, *args, limiter=threads)
    finally:
        limiter.release()


async def in_committer(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` on a thread that may wait for the audit commit (no screening worker held).
    Admitted requests are bounded by the Shedder, so at most `api_max_pending` wait here."""
    workers: Workers = request.app.state.workers
    return await anyio.to_thread.run_sync(fn, *args, limiter=workers.committers())
