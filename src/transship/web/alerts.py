"""Alerts: the review queue page (/alerts, /alerts/entry) and the alerts API under /v1.

API (bearer token; reviews need a token given a reviewer name, `name:token` in
TRANSSHIP_API_TOKENS, and the reviewer recorded is that name, never one the client sends):
  GET  /v1/alerts?status=pending|open|clearing|cleared|confirmed|escalated|suppressed|all
  GET  /v1/alerts/{id}
  POST /v1/alerts/{id}/clear|confirm|escalate   {"note": "..."}
  POST /v1/rescreen                              {"lists": [...]} (optional)
The page is read-only: it shows the queue (BLOCK first, then FLAG, oldest first) and links
each hit to its list entry; reviewing happens through the API or `transship alerts`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from transship import __version__
from transship.errors import TransshipError
from transship.web.auth import require_token

router = APIRouter()
HERE = Path(__file__).parent
Status = Literal[
    "pending", "open", "clearing", "cleared", "confirmed", "escalated", "suppressed", "all"
]


class ReviewRequest(BaseModel):
    note: str = Field(min_length=1, max_length=4000, description="Why (kept in the audit).")


class RescreenRequest(BaseModel):
    lists: list[str] | None = Field(None, description="Lists to re-screen (default: all).")


def _con(request: Request) -> tuple[Any, Any]:
    svc = request.app.state.screening
    return svc, svc._db


def _run(request: Request, fn: Any) -> Any:
    svc, lock = _con(request)
    try:
        with lock:
            return fn(svc._warehouse().con)
    except TransshipError as e:
        raise HTTPException(e.http_status, str(e)) from None


def reviewer_of(request: Request) -> str:
    """The reviewer name the request's token was configured with (403 without one)."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    name = request.app.state.settings.reviewers().get(token.strip())
    if scheme.lower() != "bearer" or not name:
        raise HTTPException(
            403, "this token names no reviewer (configure it as name:token in TRANSSHIP_API_TOKENS)"
        )
    return str(name)


@router.get("/v1/alerts", dependencies=[Depends(require_token)])
def list_alerts(
    request: Request,
    status: Annotated[Status, Query(description="pending = open, clearing, escalated")] = (
        "pending"
    ),
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> list[dict[str, Any]]:
    """The alert queue: BLOCK before FLAG, oldest first."""
    from transship.screening import alerts

    st = None if status == "all" else status
    return _run(request, lambda con: alerts.queue(con, status=st, limit=limit))  # type: ignore[no-any-return]


@router.get("/v1/alerts/{alert_id}", dependencies=[Depends(require_token)])
def get_alert(request: Request, alert_id: int) -> dict[str, Any]:
    """One alert with its (party, list entry) hits and its review history."""
    from transship.screening import alerts

    return _run(request, lambda con: alerts.show(con, alert_id))  # type: ignore[no-any-return]


@router.post(
    "/v1/alerts/{alert_id}/{action}",
    dependencies=[Depends(require_token)],
    responses={403: {}, 404: {}, 409: {}},
)
def review_alert(
    request: Request,
    alert_id: int,
    action: Literal["clear", "confirm", "escalate"],
    body: ReviewRequest,
) -> dict[str, Any]:
    """Clear (false positive), confirm or escalate, as the token's reviewer; audited. A BLOCK
    is cleared only by two different reviewers (409 for the same one twice)."""
    from transship.screening import review

    who = reviewer_of(request)
    return _run(request, lambda con: review.review(con, alert_id, action, who, body.note))  # type: ignore[no-any-return]


@router.post("/v1/rescreen", dependencies=[Depends(require_token)])
def rescreen(request: Request, body: RescreenRequest | None = None) -> dict[str, Any]:
    """Screen past declarations' parties against what changed in the lists' new versions;
    new hits are audited and open alerts."""
    from transship.screening import rescreen as rs

    report = _run(request, lambda con: rs.rescreen(con, lists=body.lists if body else None))
    return report.as_dict()  # type: ignore[no-any-return]


# -- the page --------------------------------------------------------------------------------
def _templates() -> Any:
    import jinja2
    from fastapi.templating import Jinja2Templates

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    return Jinja2Templates(env=env)


def _nav() -> Any:
    from transship.web.dashboard.pages import nav

    return nav()


@router.get("/alerts", response_class=HTMLResponse, summary="Alert review queue")
def alerts_page(request: Request, status: Annotated[Status, Query()] = "pending") -> Response:
    from transship.screening import alerts

    error = None
    rows: list[dict[str, Any]] = []
    try:
        st = None if status == "all" else status
        rows = _run(request, lambda con: alerts.queue(con, status=st, limit=1000))
        for r in rows:
            r["hit_list"] = [h.strip() for h in (r["hits"] or "").split(" | ") if h.strip()]
            r["pairs"] = _run(
                request,
                lambda con, a=r["alert_id"]: alerts.show(con, a)["hit_pairs"],
            )
    except HTTPException as e:
        error = e.detail
    page: Response = _templates().TemplateResponse(
        request,
        "alerts.html.j2",
        {"rows": rows, "status": status, "nav": _nav(), "name": "alerts", "error": error,
         "version": __version__},
    )  # fmt: skip
    return page


@router.get("/alerts/entry", response_class=HTMLResponse, summary="A list entry")
def entry_page(
    request: Request,
    list: Annotated[str, Query(max_length=100)],
    id: Annotated[str, Query(max_length=200)],
    version: Annotated[int | None, Query()] = None,
) -> Response:
    def read(con: Any) -> dict[str, Any]:
        from transship.screening import versions

        vs = versions.all_versions(con, list)
        v = next((x for x in vs if x.version == version), None) if version else None
        v = v or next((x for x in vs if x.current), None)
        if v is None:
            return {"names": [], "version": None}
        rows = con.execute(
            "SELECT caption, schema, name, kind, countries, programs FROM "
            "screening_version_names WHERE list = ? AND version = ? AND entity_id = ? "
            "ORDER BY kind DESC, name",
            [list, v.version, id],
        ).fetchall()
        return {"names": rows, "version": v}

    found = _run(request, read)
    status = 200 if found["names"] else 404
    page: Response = _templates().TemplateResponse(
        request,
        "alert_entry.html.j2",
        {"list": list, "id": id, "nav": _nav(), "name": "alerts", **found,
         "version_str": __version__},
        status_code=status,
    )  # fmt: skip
    return page
