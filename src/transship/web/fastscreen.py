"""POST /v1/screen without FastAPI's per-request machinery, for the requests that need none.

FastAPI's routing, dependency solving (auth, the service) and body handling cost ~1 ms of CPU
on the event loop per request (measured at 50 requests/s with the matching stubbed out: ~2 ms
on the loop thread a request, FastAPI and Starlette about half of it), as much as screening a
party. `FastScreen` (ASGI middleware, inside the body guard, so the body is whole and strict
JSON already) answers a screening request itself when it is the ordinary case: a valid bearer
token, a JSON body that validates as `ScreenRequest`. It then does what the route does
(api.screen_request: the same workers, shedding and audit) and answers the same bytes.

Anything else goes to the FastAPI route unchanged, with the body replayed: a missing or
refused token (401/403 as `require_token` words them), a body that is not JSON or does not
validate (FastAPI's 422), another content type. So every error keeps the one implementation
it has; tests/test_api.py runs the same requests both ways.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from transship.errors import TransshipError
from transship.web.body import first_header, is_json, replay_receive

PATH = "/v1/screen"


class FastScreen:
    """ASGI middleware: the happy path of POST /v1/screen (see the module docstring)."""

    def __init__(self, app: Any, enabled: bool = True) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            not self.enabled
            or scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != PATH
        ):
            await self.app(scope, receive, send)
            return
        body, more = await _read(receive)
        req = self._request(scope, body) if not more else None
        if req is None:  # not the ordinary case: the route decides, with its own errors
            await self.app(scope, replay_receive(body, more, receive), send)
            return
        from starlette.requests import Request

        from transship.web.api import screen_request

        request = Request(scope, receive)
        try:
            out = await screen_request(request, req)
            response = JSONResponse(out)
        except TransshipError as e:  # as the app's TransshipError handler answers
            response = JSONResponse({"error": str(e)}, status_code=e.http_status)
        except HTTPException as e:  # as FastAPI's HTTPException handler answers
            response = JSONResponse(
                {"detail": e.detail}, status_code=e.status_code, headers=e.headers
            )
        await response(scope, receive, send)

    def _request(self, scope: Any, body: bytes) -> Any:
        """The validated ScreenRequest, or None to leave the request to the route."""
        from transship.web.auth import token_accepted
        from transship.web.schemas import ScreenRequest

        ctype = first_header(scope, b"content-type")  # the copy the route would read
        if ctype is not None and not is_json(ctype.decode("latin-1")):
            return None
        # HTTPBearer's reading of the header, then require_token's check.
        auth = first_header(scope, b"authorization") or b""
        scheme, _, token = auth.decode("latin-1").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        tokens: frozenset[str] = scope["app"].state.settings.tokens()
        if not token_accepted(token, tokens):
            return None
        try:
            # As FastAPI parses a JSON body: json.loads, then the model in Python mode.
            return ScreenRequest.model_validate(json.loads(body))
        except (ValueError, ValidationError):  # JSONDecodeError is a ValueError
            return None


async def _read(receive: Any) -> tuple[bytes, bool]:
    """The request body, and whether the client left before its end."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), True
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False
