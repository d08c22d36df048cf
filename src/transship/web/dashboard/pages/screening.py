"""Screening (/screening): upload a declarations file, screen it through the API's screening
service (same audit chain), and view or download the decisions."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from transship.errors import TransshipError, UsageError
from transship.web.dashboard.base import Page, PageData, Table, render

router = APIRouter()
PAGE = Page("screening", "/screening", order=60, router=router)


def upload_form(dash: Any) -> dict[str, Any]:
    """What the upload form offers: the server's policies and lists (screening.selection)."""
    from transship.screening.selection import configured_policies

    s = dash.settings
    policies = sorted(configured_policies(s.policy_paths()))
    return {
        "policies": policies,
        "lists": s.list_names() or dash.lists(),
        "token_required": bool(s.tokens()),  # web/auth.py: the form's token field
        "without_lists": s.screen_without_lists,
    }


def upload_name(filename: str | None) -> str:
    """The upload's base name, usable as a file in the temporary directory: "..", "." and "/"
    name a directory and a NUL byte no file at all (each was a 500)."""
    name = Path((filename or "").replace("\0", "")).name
    return name if name not in ("", ".", "..") else "declarations.csv"


def screen_upload(dash: Any, service: Any, upload: Any, policy: str, lists: list[str]) -> str:
    """Screen an uploaded declarations file through the screening service (so the
    decisions join the same audit chain as the API's) and keep the result for viewing.
    Returns the result's token."""
    import tempfile

    from transship.screening.declarations import read_declarations

    name = upload_name(upload.filename)
    pol = service.policy(policy)  # a name the server offers, never a path
    with tempfile.TemporaryDirectory(prefix="transship-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(upload.file.read())
        table = read_declarations(path)
    result, (first, last) = service.screen_table(table, pol, lists or None, f"dashboard:{name}")
    counts = ", ".join(f"{n} {d}" for d, n in result.counts.items())
    rows = result.table.to_pylist()
    data = PageData(
        title=f"Screening: {name}",
        headlines=[
            f"{len(rows)} declarations screened against policy {result.policy}"
            + (f" and lists {', '.join(result.lists)}" if result.lists else " (no lists)")
            + f": {counts}.",
            f"Decisions written to the audit trail as records {first}-{last}.",
        ],
        tables={
            "summary": Table(result.summary(), "Decisions"),
            "decisions": Table(rows, "Every declaration, with its rules and reasons"),
        },
    )
    token = uuid.uuid4().hex
    dash.keep(token, data)
    return token


@router.get("/screening", response_class=HTMLResponse, summary="Screen declarations")
def screening(request: Request) -> Response:
    dash = request.app.state.dashboard
    token = request.query_params.get("result")

    def compute(_: dict[str, str]) -> PageData:
        if not token:
            return PageData(title="Screening: upload declarations")
        found = dash.kept(token)
        if found is None:
            raise UsageError("that screening result has expired; upload the file again")
        return found  # type: ignore[no-any-return]

    return render(request, PAGE, compute, upload=upload_form(dash))


@router.post("/screening", response_class=HTMLResponse, include_in_schema=False)
def screening_upload(
    request: Request,
    file: Annotated[UploadFile, File(description="Declarations: CSV, JSON or Parquet")],
    policy: Annotated[str, Form()],
    lists: Annotated[list[str] | None, Form()] = None,
    token: Annotated[str | None, Form()] = None,
) -> Response:
    from transship.web.auth import bearer_token, check_token

    dash = request.app.state.dashboard
    try:
        tokens = request.app.state.settings.tokens()
        if tokens:  # the same tokens as /v1/screen: the upload screens and audits too
            check_token(tokens, token or bearer_token(request))
        # No list ticked: the server's list set (the form cannot mean "no lists").
        result = screen_upload(dash, request.app.state.screening, file, policy, lists or [])
    except TransshipError as e:
        error = e

        def fail(_: dict[str, str]) -> PageData:
            raise error

        return render(request, PAGE, fail, upload=upload_form(dash))
    return RedirectResponse(f"/screening?result={result}", status_code=303)
