"""Screening API: POST /v1/screen, GET /v1/policies, GET /v1/health (bearer-token auth)."""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from transship import __version__
from transship.screening.engine import SEP
from transship.settings import Settings
from transship.web.auth import require_token

router = APIRouter(prefix="/v1")


class Declaration(BaseModel):
    """One declaration (the file schema; extra fields are passed through)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "id": "TR-2024-000123",
                "date": "2024-11-05",
                "exporter_name": "Acme Elektronik Dış Ticaret Ltd. Şti.",
                "exporter_country": "TUR",
                "consignee_name": "ООО Ромашка",
                "consignee_country": "RUS",
                "origin_country": "USA",
                "destination_country": "RUS",
                "hs_code": "8542310010",
                "description": "microprocessors",
                "value": 12000,
                "currency": "USD",
                "quantity": 100,
            }
        },
    )

    id: str
    date: str
    origin_country: str
    destination_country: str
    hs_code: str
    exporter_name: str | None = None
    exporter_country: str | None = None
    consignee_name: str | None = None
    consignee_country: str | None = None
    description: str | None = None
    value: float | str | None = None
    currency: str | None = None
    quantity: float | str | None = None


class ScreenRequest(BaseModel):
    """One declaration or a batch; policy and lists default to the server's settings."""

    policy: str | None = Field(
        None,
        description="Policy id among GET /v1/policies (never a path); default "
        "TRANSSHIP_API_POLICY.",
    )
    lists: list[str] | None = Field(
        None,
        description="Sanctions lists among the server's (TRANSSHIP_SCREENING_LISTS, default "
        "every loaded list); leave out for all of them. An empty or unknown list is a 422.",
    )
    declaration: Declaration | None = None
    declarations: list[Declaration] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ScreenRequest:
        if (self.declaration is None) == (self.declarations is None):
            raise ValueError("give either 'declaration' or 'declarations'")
        return self


class HitOut(BaseModel):
    list: str
    entity_id: str
    caption: str
    alias: str
    score: float
    name_score: float
    country_match: bool | None
    level: str
    programs: str | None
    normalised: str | None = Field(
        None, description="What the party name was cleaned of before it matched, if anything."
    )
    role: str


class DecisionOut(BaseModel):
    id: str | None
    decision: str = Field(description="ALLOW, FLAG, BLOCK, or ERROR (declaration malformed)")
    rules: list[str]
    hits: list[HitOut]
    reasons: list[str]
    error: str | None


class ScreenResponse(BaseModel):
    policy: str
    lists: list[str]
    audit_seq: list[int] = Field(description="First and last audit record written")
    decisions: list[DecisionOut]


class ScreeningService:
    """Holds the list indexes and the audit group commit of the API process, over a lease on
    the warehouse (warehouse/lease.py): the file is open only while requests use it, so CLI
    commands (flows, ingests, `lists load`) run beside the server. Requests screen
    concurrently (the matcher and policies are read-only); the warehouse connection is used
    by one thread at a time (`_db`), and the lease never closes the file while `_db` is held.
    """

    def __init__(self, settings: Settings, lease: Any = None) -> None:
        from transship.screening.cache import LRUCache

        self.settings = settings
        self._db = threading.RLock()
        self.lease = lease or make_lease(settings, busy=self._db)
        self._audit: Any = None
        self._matchers: LRUCache[Any] = LRUCache(settings.api_matcher_cache)
        self._lists_seen: tuple[float, list[dict[str, Any]]] | None = None
        self._policies_seen: tuple[float, dict[str, Any]] | None = None
        # Requests on their way to the audit (admitted, waiting for a worker or screened
        # now): the group commit lingers for them. Changed on the event loop only.
        self.coming = 0

    def _warehouse(self) -> Any:
        """The leased Warehouse, opened if the lease had let it go. Use it while holding
        `_db` (or inside `lease.warehouse()`): then the lease keeps it open."""
        with self._db:
            wh = self.lease.current()
            if self._audit is None:
                from transship.screening.groupcommit import GroupCommit

                self._audit = GroupCommit(
                    wh.con,
                    self._db,
                    incoming=lambda: self.coming,
                    linger_s=self.settings.api_audit_linger_s,
                )
            elif self._audit.con is not wh.con:  # reopened: no append is pending (no user)
                self._audit.con = wh.con
            return wh

    def _committer(self, wh: Any) -> Any:
        """The group commit on `wh` (the Warehouse of a `lease.warehouse()` the caller is
        inside). Takes `_db` only when the commit is missing or on an older connection: the
        committing thread holds `_db` while it writes, and requests that waited for it here
        then reached the queue one at a time, so every group carried a single request."""
        audit = self._audit
        if audit is None or audit.con is not wh.con:
            self._warehouse()
        return self._audit

    def _loaded(self) -> list[dict[str, Any]]:
        """The loaded lists with their versions, read again after `api_lists_refresh_s`
        (two queries on the shared connection per request would queue behind the audit)."""
        from transship.screening.lists import loaded_lists

        now = time.monotonic()
        seen = self._lists_seen
        if seen is None or now - seen[0] >= self.settings.api_lists_refresh_s:
            with self._db:
                seen = (now, loaded_lists(self._warehouse().con))
            self._lists_seen = seen
        return seen[1]

    def _lists(self, requested: list[str] | None) -> list[str]:
        """The lists a request screens against: among the server's list set only
        (screening.selection; empty or unknown -> 422, nothing loaded -> 503)."""
        from transship.screening.selection import resolve_lists

        loaded = [r["list"] for r in self._loaded()]
        s = self.settings
        return resolve_lists(loaded, requested, s.list_names(), allow_none=s.screen_without_lists)

    def policy(self, name: str | None) -> Any:
        """A policy the server offers, by id (never a path): screening.selection. The
        configured policies are looked up again after `api_lists_refresh_s` (listing and
        stat-ing the policy files cost more per request than the rules themselves)."""
        from transship.screening.selection import configured_policies, pick_policy

        s = self.settings
        now = time.monotonic()
        seen = self._policies_seen
        if seen is None or now - seen[0] >= s.api_lists_refresh_s:
            seen = self._policies_seen = (now, configured_policies(s.policy_paths()))
        return pick_policy(name or s.api_policy, seen[1])

    def matcher(self, lists: list[str]) -> Any:
        """The list index for `lists` at their loaded versions (a small LRU cache)."""
        from transship.screening.cache import CachedMatcher
        from transship.screening.matcher import Matcher, Thresholds

        names = tuple(sorted(lists))
        versions = tuple(
            (r["list"], r.get("input_sha256"), str(r.get("loaded_at")))
            for r in self._loaded()
            if r["list"] in names
        )

        def build() -> Any:
            s = self.settings
            t = Thresholds(s.block_threshold, s.flag_threshold, s.country_bonus, s.country_penalty)
            with self._db:
                m = Matcher.from_warehouse(self._warehouse().con, list(names), t)
            return CachedMatcher(m, s.api_party_cache) if s.api_party_cache else m

        return self._matchers.get((names, versions), build)

    def screen_table(
        self, table: Any, policy: Any, lists: list[str] | None, channel: str
    ) -> tuple[Any, tuple[int, int]]:
        """Screen conformed declarations and append the decisions to the audit trail under
        `channel`; the API and the dashboard's upload page share this (one audit chain).
        Returns once the records are committed."""
        with self.lease.warehouse() as wh:  # the file stays open for this audit append
            result = self._screen(table, policy, lists)
            return result, self._committer(wh).append(result, table, channel)

    def _screen(self, table: Any, policy: Any, lists: list[str] | None) -> Any:
        """The Python path up to `api_fast_max` declarations, the vectorised engine above."""
        from transship.screening import engine, single

        matcher = self.matcher(self._lists(lists))
        fast = table.num_rows <= self.settings.api_fast_max
        return (single if fast else engine).screen_table(table, policy, matcher)

    def close(self) -> None:
        """Checkpoint the WAL into the database file and close (on `serve` shutdown), so a
        copy of the .duckdb alone holds every audit record."""
        from transship.screening.audit import checkpoint

        with self._db:
            if self.lease.is_open:
                checkpoint(self._warehouse().con)
            self.lease.close()

    def screen(self, req: ScreenRequest) -> dict[str, Any]:
        """Screen a request, audit it and answer (all in the calling thread)."""
        return self.answer(*self.decide(req))

    def decide(self, req: ScreenRequest) -> tuple[Any, Any, Any]:
        """Screen a request without auditing it yet: (result, declarations, policy). The API
        runs this on a screening worker and `answer` on a commit thread, so a worker is free
        again while the audit commits (groups then gather every request that finished
        meanwhile, not only the workers' few)."""
        from transship.screening.declarations import from_records

        items = req.declarations if req.declarations is not None else [req.declaration]
        if len(items) > self.settings.api_max_batch:
            raise HTTPException(
                413, f"{len(items)} declarations; at most {self.settings.api_max_batch} a request"
            )
        policy = self.policy(req.policy)
        records = [d.model_dump(mode="json", exclude_none=True) for d in items if d is not None]
        table = from_records(records)
        return self._screen(table, policy, req.lists), table, policy

    def answer(self, result: Any, table: Any, policy: Any) -> dict[str, Any]:
        """Append the decisions to the audit (group commit) and build the response, which is
        sent only once they are committed: ScreenResponse's fields as plain JSON values (the
        route returns it as is; pydantic models built per hit cost more than the rest of
        the answer, and FastAPI validated them again against the response model)."""
        with self.lease.warehouse() as wh:  # the file stays open until records are committed
            first, last = self._committer(wh).append(result, table, "api")
        cols = result.table.select(["id", "decision", "rules", "reasons", "error", "hits"])
        decisions = []
        for i, row in enumerate(cols.to_pylist()):
            found = result.hits.get(i)
            roles = _hit_roles(row) if found else {}
            decisions.append(
                {
                    "id": row["id"],
                    "decision": row["decision"],
                    "rules": row["rules"].split(";") if row["rules"] else [],
                    "hits": [_hit(h, roles) for h in found or ()],
                    "reasons": row["reasons"].split(SEP) if row["reasons"] else [],
                    "error": row["error"],
                }
            )
        return {
            "policy": policy.id,
            "lists": list(result.lists),
            "audit_seq": [first, last],
            "decisions": decisions,
        }

    def health(self) -> dict[str, Any]:
        from transship.screening.audit import ensure_tables
        from transship.screening.lists import loaded_lists

        with self._db:
            con = self._warehouse().con
            ensure_tables(con)
            head = next(
                iter(con.execute("SELECT seq, hash FROM screening_audit_head").fetchall()), None
            )
            lists = loaded_lists(con)
        return {
            "status": "ok",
            "version": __version__,
            "lists": [{"list": r["list"], "entities": r["entities"]} for r in lists],
            "audit_head": {"seq": head[0], "hash": head[1]} if head else None,
            # Since start: records per commit tell how well the group commit batches.
            "audit_commits": {
                "commits": self._audit.groups if self._audit else 0,
                "records": self._audit.records if self._audit else 0,
            },
            "auth": "configured" if self.settings.tokens() else "no tokens configured",
        }


def make_lease(settings: Settings, busy: Any = None) -> Any:
    """The server's lease on its warehouse (read-write: the audit trail is appended); it is
    not closed while `busy` (a lock) is held."""
    from transship.warehouse import Warehouse
    from transship.warehouse.lease import Lease

    def open_() -> Any:
        s = settings
        wh = Warehouse(s.warehouse, memory_limit=s.memory_limit, threads=s.threads)
        wh.con.execute("SET enable_progress_bar = false")
        return wh

    return Lease(open_, idle=settings.serve_idle_s, busy=busy)


def _hit(h: Any, roles: dict[tuple[str, str], str]) -> dict[str, Any]:
    """One hit as HitOut writes it (its fields, in its order, as JSON types)."""
    return {
        "list": h.list,
        "entity_id": h.entity_id,
        "caption": h.caption,
        "alias": h.alias,
        "score": float(h.score),
        "name_score": float(h.name_score),
        "country_match": None if h.country_match is None else bool(h.country_match),
        "level": h.level,
        "programs": h.programs,
        "normalised": h.normalised,
        "role": roles.get((h.list, h.entity_id), "party"),
    }


def _hit_roles(row: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(list, entity id) -> exporter/consignee, read back from the hits text."""
    out: dict[tuple[str, str], str] = {}
    for part in (row.get("hits") or "").split(SEP):
        bits = part.split(" ", 3)
        if len(bits) >= 3 and ":" in bits[2]:
            lst, _, ent = bits[2].partition(":")
            out.setdefault((lst, ent), bits[0])
    return out


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
    screen on a worker, then audit (group commit) and answer on a commit thread."""
    from transship.web.load import in_committer, in_worker

    svc = _service_of(request)
    svc.coming += 1
    try:
        decided = await in_worker(request, svc.decide, body)
    finally:
        svc.coming -= 1
    out: dict[str, Any] = await in_committer(request, svc.answer, *decided)
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
