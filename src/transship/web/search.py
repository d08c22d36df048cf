"""GET /v1/search: ad-hoc look-up of a name in the server's lists (bearer-token auth).

The same lists a screening request would use by default (screening.selection), the same
matcher and thresholds; entries scoring at least 50 are returned, best first, each with its
level (BLOCK / FLAG / "-" below FLAG) and the features behind its score.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from transship.web.auth import require_token

router = APIRouter(prefix="/v1")


@router.get("/search", dependencies=[Depends(require_token)])
def search(
    request: Request,
    name: Annotated[str, Query(min_length=1, max_length=300, description="A party name.")],
    country: Annotated[
        str | None, Query(max_length=60, description="The party's country (ISO code or name).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=50, description="Most entries returned.")] = 10,
) -> dict[str, Any]:
    """The list entries most like `name`, with scores and the features that made them."""
    from transship.screening.listformats import iso3

    iso = None
    if country:
        iso = iso3(country)
        if iso is None:
            raise HTTPException(422, f"unknown country {country!r}: use an ISO code or a name")
    svc = request.app.state.screening
    lists = svc._lists(None)  # the server's default list set, as for /v1/screen
    hits = svc.matcher(lists).search(name, iso, limit=limit, min_score=50.0)
    return {"name": name, "country": iso, "lists": lists, "hits": [h.as_dict() for h in hits]}
