"""Authentication for every screening entry point, and no tokens in URLs or logs.

- `require_token` (a FastAPI dependency): `Authorization: Bearer <token>`, one of
  TRANSSHIP_API_TOKENS; 401 without one, 403 with one not configured. With no tokens configured
  the API refuses every call but /v1/health.
- `check_token`: the same rule for the dashboard's upload form (POST /screening), which a
  browser cannot send with a header: it takes the token from the form's password field
  `token` (sent in the POST body, never in the URL) or from the Authorization header. When no
  tokens are configured the dashboard upload stays open (a local, single-user `serve`).
- `QueryTokenGuard` (ASGI middleware): a request whose query string carries a token-like
  parameter (`token`, `access_token`, `api_key`, `auth`, `password` ...) or any configured
  token as a value is refused with 400 before it reaches a route; the response never echoes
  the value. A token in a URL ends up in browser history, proxy and server logs.
- `RedactQueryTokens` (a logging filter on `uvicorn.access`): the access log line of such a
  request (refused or not) has its query string replaced by `[redacted]`.

The CLI does not take tokens: it runs as a local user who can open the warehouse file anyway,
so a token would protect nothing that file permissions do not.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from transship.errors import TransshipError

bearer = HTTPBearer(auto_error=False, description="A token from TRANSSHIP_API_TOKENS.")

# Parameter names that carry credentials in the wild (OAuth's access_token, api_key, ...).
_TOKEN_PARAM = re.compile(
    r"(?:^|[_\-.])(?:access[_\-]?token|id[_\-]?token|token|api[_\-]?key|apikey|key|auth|"
    r"authorization|bearer|secret|password|passwd|pwd|jwt|session|sig|signature|"
    r"credentials?)$",
    re.IGNORECASE,
)


class AuthError(TransshipError):
    """Missing (401) or unaccepted (403) token."""

    http_status = 401
    exit_code = 2

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.http_status = status


def token_accepted(token: str, tokens: frozenset[str]) -> bool:
    # compare_digest against every configured token: no early exit that times the match.
    ok = False
    for t in tokens:
        ok |= secrets.compare_digest(token.encode(), t.encode())
    return ok


def check_token(tokens: frozenset[str], presented: str | None) -> None:
    """Raise AuthError unless `presented` is one of `tokens` (no tokens: 403 for all)."""
    if not presented:
        raise AuthError("missing token: send Authorization: Bearer <token>", 401)
    if not token_accepted(presented, tokens):
        raise AuthError("token not accepted", 403)


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any."""
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


async def require_token(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """401 without a bearer token, 403 with one that is not configured. `async` only so
    FastAPI calls it on the event loop: a plain `def` dependency runs on a worker thread,
    a thread hop per request for a few comparisons."""
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    tokens: frozenset[str] = request.app.state.settings.tokens()
    if not token_accepted(creds.credentials, tokens):
        raise HTTPException(403, "token not accepted")


def token_like(query: str, tokens: frozenset[str]) -> bool:
    """Whether a raw query string carries a credential: a token-like parameter name, a
    `Bearer ...` value, or a configured token as any value."""
    if not query:
        return False
    for name, value in parse_qsl(query, keep_blank_values=True):
        if _TOKEN_PARAM.search(name.strip()):
            return True
        v = value.strip()
        if v.lower().startswith("bearer ") or (v and tokens and token_accepted(v, tokens)):
            return True
    return False


class QueryTokenGuard:
    """ASGI middleware: 400 for a request with a token in its query string (see module doc)."""

    def __init__(self, app: Any, tokens: frozenset[str]) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            raw = scope.get("query_string", b"").decode("latin-1")
            if token_like(raw, self.tokens):
                response = JSONResponse(
                    {
                        "error": "credentials are not accepted in the URL's query string; "
                        "send them as an Authorization: Bearer <token> header (or, in the "
                        "dashboard's upload form, in its token field)"
                    },
                    status_code=400,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class RedactQueryTokens(logging.Filter):
    """Replace the query string of uvicorn access-log lines that carry a credential."""

    def __init__(self, tokens: frozenset[str]) -> None:
        super().__init__()
        self.tokens = tokens

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, sep, query = args[2].partition("?")
            if sep and token_like(query, self.tokens):
                record.args = (*args[:2], f"{path}?[redacted]", *args[3:])
        return True


def install_log_filter(tokens: frozenset[str]) -> None:
    """Add (or refresh) the redacting filter on uvicorn's access logger; idempotent."""
    log = logging.getLogger("uvicorn.access")
    for f in list(log.filters):
        if isinstance(f, RedactQueryTokens):
            log.removeFilter(f)
    log.addFilter(RedactQueryTokens(tokens))
