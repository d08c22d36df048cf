"""Request bodies: a byte limit that holds for streamed bodies, and JSON that is strictly JSON.

`RequestBodyGuard` (ASGI middleware) reads a request's whole body before the application sees
it (it is at most `limit` bytes, TRANSSHIP_API_MAX_REQUEST_BYTES):

- more than `limit` bytes, declared by Content-Length or streamed in chunks without one: 413,
  and the application never runs (before, a chunked body over the limit failed inside
  FastAPI's body parsing and came back as a generic 400);
- a JSON body (what FastAPI would parse as JSON: no Content-Type, application/json,
  application/*+json) must be strict RFC 8259 JSON, else 422 naming the problem:
  UTF-8 only; no `NaN`, `Infinity`, `-Infinity` and no number that overflows to infinity
  (`1e400`): Python's json module accepts all of these and a NaN value compares false with every
  threshold, so a rule with a value condition silently did not apply; no lone UTF-16
  surrogates (`"\\ud800"`: they cannot be encoded and crashed the screening with a 500);
  nesting at most `max_depth` levels (deeper input exhausted the parser's recursion: 500).

The checked body is then handed to the application unchanged.
"""

from __future__ import annotations

import json
import math
import re
from email.message import Message
from typing import Any

from fastapi.responses import JSONResponse

MAX_DEPTH = 32  # a screening request nests 4 levels: {declarations: [{exporter: {...}}]}
# Only a \uD800-\uDFFF escape can put a surrogate into a decoded string (UTF-8 cannot carry
# one: decoding refuses it), so strings are searched only when the body holds such an escape.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadJSON(ValueError):
    """A request body that is not strict JSON (the message says why)."""


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJSON(f"number {text[:40]} is not a finite number")
    return value


def _constant(name: str) -> Any:
    raise BadJSON(f"{name} is not JSON (use a finite number, or null)")


def _walk(obj: Any, max_depth: int, strings: bool) -> None:
    """Raise BadJSON for nesting deeper than `max_depth` or, if `strings`, a lone surrogate.

    Iterative, containers only unless strings are checked: ~3 ms for 1,000 declarations.
    """
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        o, depth = stack.pop()
        if depth > max_depth:
            raise BadJSON(f"JSON nests more than {max_depth} levels deep")
        if isinstance(o, dict):
            items: Any = o.values()
            if strings:
                for k in o:
                    if _SURROGATE.search(k):
                        raise BadJSON("a key holds a lone UTF-16 surrogate (e.g. \\ud800)")
        else:
            items = o
        for v in items:
            if isinstance(v, dict | list):
                stack.append((v, depth + 1))
            elif strings and isinstance(v, str) and _SURROGATE.search(v):
                raise BadJSON("a string holds a lone UTF-16 surrogate (e.g. \\ud800)")


def check_json(body: bytes, max_depth: int = MAX_DEPTH) -> None:
    """Raise BadJSON unless `body` is strict JSON within `max_depth` (see module doc)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadJSON(f"body is not UTF-8 (byte {e.start})") from None
    try:
        obj = json.loads(text, parse_constant=_constant, parse_float=_finite)
    except BadJSON:
        raise
    except RecursionError:  # the parser's own guard, far deeper than max_depth
        raise BadJSON(f"JSON nests more than {max_depth} levels deep") from None
    except json.JSONDecodeError as e:
        raise BadJSON(f"invalid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except ValueError as e:  # e.g. an integer of more than 4300 digits
        raise BadJSON(f"invalid JSON: {e}") from None
    strings = _SURROGATE_ESCAPE.search(body) is not None
    # Fewer brackets than the limit cannot nest deeper than it: one declaration skips the walk.
    if strings or body.count(b"[") + body.count(b"{") > max_depth:
        _walk(obj, max_depth, strings)


def first_header(scope: Any, name: bytes) -> bytes | None:
    """The first value of request header `name` (lower case), as Starlette's
    `request.headers.get` reads it: FastAPI picks a body's parser and HTTPBearer its token
    from the first copy of a repeated header, so a guard must check that copy (with the last,
    `Content-Type: application/json` then `text/plain` let NaN and lone surrogates past)."""
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value)
    return None


def is_json(content_type: str | None) -> bool:
    """Whether FastAPI would parse a body with this Content-Type as JSON."""
    if not content_type:
        return True
    m = Message()
    m["content-type"] = content_type
    sub = m.get_content_subtype()
    return m.get_content_maintype() == "application" and (sub == "json" or sub.endswith("+json"))


class RequestBodyGuard:
    """ASGI middleware: 413 over `limit` bytes, 422 for JSON that is not strict JSON."""

    def __init__(self, app: Any, limit: int, max_depth: int = MAX_DEPTH) -> None:
        self.app = app
        self.limit = limit
        self.max_depth = max_depth

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = first_header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._error(scope, send, 413, f"request body larger than {self.limit} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away: nothing to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._error(scope, send, 413, f"request body larger than {self.limit} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        ctype = first_header(scope, b"content-type")
        if body and is_json(ctype.decode("latin-1") if ctype else None):
            try:
                check_json(body, self.max_depth)
            except BadJSON as e:
                await self._error(scope, send, 422, str(e))
                return
        await self.app(scope, replay_receive(body, False, receive), send)

    async def _error(self, scope: Any, send: Any, status: int, message: str) -> None:
        response = JSONResponse({"error": message}, status_code=status)
        await response(scope, _no_receive, send)


def replay_receive(body: bytes, gone: bool, receive: Any) -> Any:
    """An ASGI `receive` that gives the body already read (or the disconnect met while
    reading it) once, then waits on the real one (for the disconnect, as usual)."""
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            if gone:
                return {"type": "http.disconnect"}
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _no_receive() -> dict[str, Any]:
    return {"type": "http.disconnect"}
