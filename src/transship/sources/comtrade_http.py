"""UN Comtrade over HTTP: throttled, retried (Retry-After honoured) and cached on disk."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from transship.errors import ComtradeError, UsageError
from transship.sources.comtrade_plan import RETRY_STATUS, Request, Tier


# -- cache ---------------------------------------------------------------------------------------
class ResponseCache:
    """Raw answers on disk, one JSON file per request key; written atomically."""

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)

    def path(self, key: str) -> Path:
        return self.dir / f"{key}.json"

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def get(self, key: str) -> dict[str, Any] | None:
        p = self.path(key)
        if not p.is_file():
            return None
        try:
            entry: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # a damaged entry is fetched again
        return entry if isinstance(entry.get("body"), dict) else None

    def put(self, key: str, entry: Mapping[str, Any]) -> None:
        from transship.safepath import write_text

        write_text(self.path(key), json.dumps(entry, ensure_ascii=False), parameter="cache_dir")

    def stats(self) -> dict[str, Any]:
        files = list(self.dir.glob("*.json")) if self.dir.is_dir() else []
        return {"responses": len(files), "bytes": sum(f.stat().st_size for f in files)}


# -- HTTP ----------------------------------------------------------------------------------------
class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _message(body: Any, text: str) -> str:
    if isinstance(body, dict):
        for k in ("error", "message"):
            if body.get(k):
                return str(body[k])
    return " ".join(text.split())[:200]


class ComtradeClient:
    """Throttled, retrying GETs. `sleep` and `clock` are injectable so tests never wait."""

    def __init__(
        self,
        key: str | None,
        *,
        tier: Tier,
        throttle_s: float = 6.0,
        timeout_s: float = 120.0,
        attempts: int = 5,
        transport: Any | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import httpx

        if tier != "preview" and not key:
            raise UsageError(
                "no UN Comtrade key: set TRANSSHIP_COMTRADE_KEY (or COMTRADE_PRIMARY), "
                "or use the public preview (500 records a call)"
            )
        headers = {"Ocp-Apim-Subscription-Key": key} if key and tier != "preview" else {}
        self._http = httpx.Client(
            headers=headers, timeout=timeout_s, transport=transport, follow_redirects=True
        )
        self.tier: Tier = tier
        self.throttle_s = throttle_s
        self.attempts = attempts
        self._sleep = sleep
        self._clock = clock
        self._last: float | None = None
        self.calls = 0

    def close(self) -> None:
        self._http.close()

    def _throttle(self) -> None:
        if self._last is not None:
            wait = self._last + self.throttle_s - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last = self._clock()

    def _once(self, url: str) -> dict[str, Any]:
        import httpx

        self._throttle()
        self.calls += 1
        try:
            resp = self._http.get(url)
        except httpx.TimeoutException as e:
            raise _Retryable(f"no answer within the timeout ({type(e).__name__})", None) from None
        except httpx.TransportError as e:
            raise _Retryable(f"network error ({type(e).__name__}: {e})", None) from None
        try:
            body: Any = resp.json()
        except ValueError:
            body = None
        status = resp.status_code
        if status in RETRY_STATUS:
            what = _message(body, resp.text)
            raise _Retryable(
                f"HTTP {status}: {what}", _retry_after(resp.headers.get("Retry-After"))
            )
        if status == 401:
            raise ComtradeError(
                f"UN Comtrade refused the key (HTTP 401: {_message(body, resp.text)}); check "
                "TRANSSHIP_COMTRADE_KEY / COMTRADE_PRIMARY, or unset it to use the public preview"
            )
        if status >= 400:
            raise ComtradeError(
                f"UN Comtrade answered HTTP {status}: {_message(body, resp.text)}; "
                "check the reporters, partners, products and period asked for"
            )
        if not isinstance(body, dict) or not isinstance(body.get("data", []), list):
            raise ComtradeError("UN Comtrade answered something that is not its JSON format")
        if body.get("error") or (body.get("statusCode") not in (None, 200)):
            raise ComtradeError(
                f"UN Comtrade reported an error: {_message(body, '')}; "
                "check the request (see --dry-run) and try again"
            )
        if "data" not in body:
            raise ComtradeError("UN Comtrade answered without a data list")
        return body

    def get(self, request: Request) -> dict[str, Any]:
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

        def wait(state: Any) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Retryable) and exc.retry_after is not None:
                return float(exc.retry_after)
            return float(min(60.0, 2.0**state.attempt_number))

        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(request.url(self.tier))
        except _Retryable as e:
            raise ComtradeError(
                f"UN Comtrade still failing after {self.attempts} attempts ({e}); wait "
                "(quota or service) and run the same command again: answers already "
                "received are cached"
            ) from None
        raise AssertionError("unreachable")
