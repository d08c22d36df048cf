"""The screening service behind the API and the dashboard's upload: list indexes, policies,
screening and the audit group commit, over a lease on the warehouse."""

from __future__ import annotations

import threading
import time
from typing import Any

from fastapi import HTTPException

from transship import __version__
from transship.screening.engine import SEP
from transship.settings import Settings
from transship.web.schemas import ScreenRequest


class ScreeningService:
    """Holds the list indexes and the audit group commit of the API process, over a lease on
    the warehouse (warehouse/lease.py): the file is open only while requests use it, so CLI
    commands (flows, ingests, `lists load`) run beside the server. Requests screen
    concurrently (the matcher and policies are read-only); the warehouse connection is used
    by one thread at a time (`_db`), and the lease never closes the file while `_db` is held.
    """

    def __init__(self, settings: Settings, lease: Any = None) -> None:
        from transship.screening.cache import LRUCache
        from transship.screening.groupcommit import GroupCommit

        self.settings = settings
        self._db = threading.RLock()
        self.lease = lease or make_lease(settings, busy=self._db)
        # Requests on their way to the audit (admitted, waiting for a worker or screened
        # now): the group commit lingers for them. Changed on the event loop only.
        self.coming = 0
        # One committer thread writes every group, on the file as the lease has it open
        # (`connect` runs with `_db` held, so the lease does not close it meanwhile).
        self.audit = GroupCommit(
            None,
            self._db,
            incoming=lambda: self.coming,
            linger_s=settings.api_audit_linger_s,
            connect=lambda: self.lease.current().con,
        )
        self._matchers: LRUCache[Any] = LRUCache(settings.api_matcher_cache)
        self._lists_seen: tuple[float, list[dict[str, Any]]] | None = None
        self._policies_seen: tuple[float, dict[str, Any]] | None = None

    def _warehouse(self) -> Any:
        """The leased Warehouse, opened if the lease had let it go. Use it while holding
        `_db` (or inside `lease.warehouse()`): then the lease keeps it open."""
        with self._db:
            return self.lease.current()

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
            built = CachedMatcher(m, s.api_party_cache) if s.api_party_cache else m
            freeze_heap()
            return built

        return self._matchers.get((names, versions), build)

    def screen_table(
        self, table: Any, policy: Any, lists: list[str] | None, channel: str
    ) -> tuple[Any, tuple[int, int]]:
        """Screen conformed declarations and append the decisions to the audit trail under
        `channel`; the API and the dashboard's upload page share this (one audit chain).
        Returns once the records are committed."""
        result = self._screen(table, policy, lists)
        return result, self.audit.append(result, table, channel)

    def _screen(self, table: Any, policy: Any, lists: list[str] | None) -> Any:
        """The Python path up to `api_fast_max` declarations, the vectorised engine above."""
        from transship.screening import engine, single

        matcher = self.matcher(self._lists(lists))
        fast = table.num_rows <= self.settings.api_fast_max
        return (single if fast else engine).screen_table(table, policy, matcher)

    def close(self) -> None:
        """Commit what is queued, checkpoint the WAL into the database file and close (on
        `serve` shutdown), so a copy of the .duckdb alone holds every audit record."""
        from transship.screening.audit import checkpoint

        self.audit.close()
        with self._db:
            if self.lease.is_open:
                checkpoint(self._warehouse().con)
            self.lease.close()

    def decide(self, req: ScreenRequest) -> tuple[Any, Any, dict[str, Any]]:
        """Screen a request, without auditing it yet: (result, declarations, response). The
        API runs this on a screening worker, then queues the records for the audit commit
        (`self.audit`) and sends the response, `audit_seq` filled in, once they are committed."""
        from transship.screening.declarations import from_records

        items = req.declarations if req.declarations is not None else [req.declaration]
        if len(items) > self.settings.api_max_batch:
            raise HTTPException(
                413, f"{len(items)} declarations; at most {self.settings.api_max_batch} a request"
            )
        policy = self.policy(req.policy)
        records = [d.model_dump(mode="json", exclude_none=True) for d in items if d is not None]
        table = from_records(records)
        result = self._screen(table, policy, req.lists)
        return result, table, response(result, policy)

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
                "commits": self.audit.groups,
                "records": self.audit.records,
            },
            "auth": "configured" if self.settings.tokens() else "no tokens configured",
        }


def response(result: Any, policy: Any) -> dict[str, Any]:
    """The answer to a screening request, ScreenResponse's fields as plain JSON values, with
    `audit_seq` still to fill in (pydantic models built per hit cost more than the rest of
    the answer, and FastAPI validated them again against the response model)."""
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
        "audit_seq": [0, 0],
        "decisions": decisions,
    }


def freeze_heap() -> None:
    """Take every object alive now out of the cyclic garbage collector's view (gc.freeze),
    after a garbage collection. The list index holds millions of long-lived objects: each
    full collection walked them all, ~80 ms with every thread stopped, once every few
    seconds at 200 requests/s, and that was the p99 tail (benchmarks/load.py: p99 64-89 ms
    with it, 28-30 ms without). Frozen objects are still freed by reference counting; an
    index replaced later (new list version) is unfrozen and collected by the next call.

    The young generation's threshold is raised too (700 -> YOUNG_GC allocations): the
    matcher's caches (party results, candidates, parsed names) keep growing after the
    freeze, and at 700 a batch of 1,000 ran ~30 young collections and every ~4 batches a
    full one over those caches (~25-30 ms with every thread stopped); at 20,000 about one
    young collection a batch and no full one (in-process, load 8: GC ~12 -> ~4 ms a batch).
    Garbage without cycles is freed by reference counting whatever the threshold."""
    import gc

    gc.unfreeze()
    gc.collect()
    gc.freeze()
    young, *older = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_GC), *older)


YOUNG_GC = 20_000


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
