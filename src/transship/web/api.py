"""Screening API: POST /v1/screen, GET /v1/policies, GET /v1/health (bearer-token auth).

The models are in web/schemas.py, the service behind the routes in web/service.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from transship.web.auth import require_token
from transship.web.schemas import ScreenRequest, ScreenResponse
from transship.web.service import ScreeningService

router = APIRouter(prefix="/v1")


async def _service(request: Request) -> ScreeningService:  # async: no thread hop (auth.py)
    return _service_of(request)


def _service_of(request: Request) -> ScreeningService:
    svc: ScreeningService = request.app.state.screening
    return svc


@router.post(
    "/screen",
    response_model=ScreenResponse,
    dependencies=[Depends(require_token)],
    responses={401: {}, 403: {}, 413: {}, 422: {}, 503: {}},
)
async def screen(request: Request, body: ScreenRequest) -> JSONResponse:
    """Screen one declaration or a batch: decision, rule ids, list hits and reasons each.

    Every decision is appended to the hash-chained audit trail. Errors (the app's
    TransshipError handler): 422 for an unknown policy or list or an empty list set, 503 when
    no sanctions list is loaded, or when the server is busy (with Retry-After: too many
    requests in progress, or no worker free in time; see web/load.py).
    """
    # Returned as a response: FastAPI then skips validating it against ScreenResponse again
    # (answer builds exactly its fields; tests/test_api.py checks them against the model).
    # The ordinary request does not come here: web/fastscreen.py answers it the same way.
    return JSONResponse(await screen_request(request, body))


async def screen_request(request: Request, body: ScreenRequest) -> dict[str, Any]:
    """What POST /v1/screen does once the caller is authenticated and the body validated:
    screen on a worker, then wait (on the event loop, no thread held) for the audit commit."""
    from transship.web.load import audited, in_worker

    svc = _service_of(request)
    with svc.lease.hold():  # the commit at the end will need the file: keep it open
        svc.coming += 1
        try:
            result, table, out = await in_worker(request, svc.decide, body)
        finally:
            svc.coming -= 1
        out["audit_seq"] = list(await audited(svc.audit, result, table, "api"))
    return out


@router.get("/policies", dependencies=[Depends(require_token)])
def policies(request: Request) -> list[dict[str, Any]]:
    """The policies this server can apply (packaged and TRANSSHIP_POLICY_FILES), with their
    rules, legal sources and file sha256."""
    from transship.screening.selection import configured_policies

    paths = request.app.state.settings.policy_paths()
    return [p.summary() for p in configured_policies(paths).values()]


@router.get("/health")
def health(svc: Annotated[ScreeningService, Depends(_service)]) -> dict[str, Any]:
    """Liveness, version, loaded lists and the audit head (no token needed)."""
    return svc.health()
