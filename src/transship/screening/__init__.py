"""Screening of customs declarations against policy rules and sanctions lists.

The Python API (the CLI and HTTP API call these):
  load_lists(warehouse, name, files, fmt)  parse list files and store them in the warehouse
  lists_in(warehouse)                      loaded lists with provenance
  screen_file(file, policy, lists, warehouse)  batch screening with audit records
  verify_audit(warehouse, expect_head=)    recompute the audit hash chain (and reach an anchor)
  audit_head(warehouse)                    the last record's seq and hash, to anchor elsewhere
and the building blocks: load_policy / all_policies (policies.py), read_declarations
(declarations.py), Matcher (matcher.py), screen_table (engine.py), audit (audit.py).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transship.errors import UsageError
from transship.screening.matcher import Thresholds
from transship.screening.policies import Policy, all_policies, load_policy, policy_names

if TYPE_CHECKING:
    from transship.screening.audit import Verification
    from transship.screening.engine import Progress, ScreenResult
    from transship.screening.listdiff import ListDiff
    from transship.screening.lists import ListFormat, LoadResult
    from transship.screening.versions import ListVersion


def thresholds_from_settings() -> Thresholds:
    from transship.settings import get_settings

    s = get_settings()
    return Thresholds(s.block_threshold, s.flag_threshold, s.country_bonus, s.country_penalty)


def load_lists(
    warehouse: Path,
    name: str,
    files: list[Path],
    fmt: ListFormat = "auto",
    *,
    as_of: date | None = None,
    source: str | None = None,
) -> LoadResult:
    """Parse `files` completely, then replace list `name` in the warehouse atomically; the
    load is kept as the list's next version, dated `as_of` when the file carries no date."""
    from transship.screening.lists import load_list
    from transship.warehouse import open_warehouse

    with open_warehouse(warehouse) as wh:
        return load_list(wh.con, name, files, fmt, as_of=as_of, source=source)


def lists_in(warehouse: Path) -> list[dict[str, Any]]:
    from transship.screening.lists import loaded_lists
    from transship.warehouse import open_warehouse

    if not warehouse.exists():
        return []
    with open_warehouse(warehouse, read_only=True) as wh:
        return loaded_lists(wh.con)


def list_versions(warehouse: Path, name: str | None = None) -> list[ListVersion]:
    """Every version of every loaded list (or of list `name`), oldest first."""
    from transship.screening import versions
    from transship.warehouse import open_warehouse

    if not warehouse.exists():
        return []
    with open_warehouse(warehouse) as wh:
        versions.backfill(wh.con)
        return versions.all_versions(wh.con, name)


def diff_lists(
    warehouse: Path, name: str, old: int | None = None, new: int | None = None
) -> ListDiff:
    """Entities added, removed and changed between two versions of list `name` (default: the
    current version against the one before)."""
    from transship.screening import listdiff, versions
    from transship.warehouse import open_warehouse

    with open_warehouse(warehouse) as wh:
        versions.backfill(wh.con)
        return listdiff.diff(wh.con, name, old, new)


def _declarations(file: Any) -> tuple[Any, str]:
    """Declarations and the audit channel from a path (str or Path) or a DataFrame / Arrow
    table (the notebook habit); a frame gets the same column checks as a file."""
    from transship.screening.declarations import conform, read_declarations

    if isinstance(file, str | Path):
        path = Path(file)
        return read_declarations(path), f"batch:{path.name}"
    import pyarrow as pa

    if isinstance(file, pa.Table):
        table = file
    elif hasattr(file, "to_dict") and hasattr(file, "columns"):  # a pandas DataFrame
        table = pa.Table.from_pandas(file, preserve_index=False)
    else:
        raise UsageError(f"declarations: a file path or a DataFrame, not {type(file).__name__}")
    return conform(table, "<DataFrame>"), "batch:<DataFrame>"


def screen_file(
    file: str | Path | Any,
    policy: str | Path,
    lists: list[str] | None,
    warehouse: Path,
    *,
    no_lists: bool = False,
    thresholds: Thresholds | None = None,
    progress: Progress | None = None,
    lists_as_of: date | None = None,
) -> ScreenResult:
    """Screen a declarations file; every decision is appended to the audit trail.

    `policy`: a policy id or a YAML file (the caller is trusted: the CLI operator).
    `lists`: sanctions lists by name; None means the configured set (TRANSSHIP_SCREENING_LISTS,
    default every loaded list). An empty or unknown list, or no list loaded at all, is refused
    (selection.resolve_lists) unless `no_lists` says to screen by the rules alone.
    With `lists_as_of`, parties are screened against the list versions in force on that day
    (versions.in_force) instead of the current ones: last March's file, last March's answer.
    """
    from transship.screening import audit
    from transship.screening.engine import screen_table
    from transship.screening.lists import loaded_lists
    from transship.screening.matcher import Matcher
    from transship.screening.selection import resolve_lists
    from transship.settings import get_settings
    from transship.warehouse import open_warehouse

    if no_lists and lists is not None:
        raise UsageError("lists and no_lists exclude each other")
    pol = load_policy(policy)
    declarations, channel = _declarations(file)
    with open_warehouse(warehouse) as wh:
        wh.con.execute("SET enable_progress_bar = false")  # stdout may carry the decisions
        loaded = [r["list"] for r in loaded_lists(wh.con)]
        if no_lists:
            chosen: list[str] = []
        elif lists is not None:  # the operator may name any loaded list
            chosen = resolve_lists(loaded, lists)
        else:
            chosen = resolve_lists(loaded, None, get_settings().list_names())
        t = thresholds or thresholds_from_settings()
        if lists_as_of is None:
            matcher = Matcher.from_warehouse(wh.con, chosen, t)
        else:
            from transship.screening import versions

            in_force = list(versions.in_force(wh.con, chosen, lists_as_of).values())
            matcher = Matcher.from_rows(versions.matcher_rows(wh.con, in_force), t)
            matcher.versions = versions.audit_entries(in_force)
        result = screen_table(declarations, pol, matcher, progress=progress)
        audit.append(wh.con, result, declarations, channel)
        from transship.screening import alerts

        alerts.sync(wh.con)  # every FLAG/BLOCK just audited opens an alert
    return result


def _matcher_of(con: Any, lists: list[str]) -> Any:
    from transship.screening.lists import loaded_lists
    from transship.screening.matcher import Matcher

    names = lists or [r["list"] for r in loaded_lists(con)]
    return Matcher.from_warehouse(con, names, thresholds_from_settings())


def evaluate_pairs_file(pairs: Path, warehouse: Path, lists: list[str]) -> dict[str, Any]:
    """Precision/recall/F1 of the matcher on a labelled pairs file (screening.evaluate).

    Part rarity comes from `lists` (default: every loaded list) when the warehouse exists.
    """
    from transship.screening.evaluate import evaluate_pairs
    from transship.screening.matcher import Matcher
    from transship.warehouse import open_warehouse

    if not warehouse.exists():
        return evaluate_pairs(Matcher([], thresholds_from_settings()), pairs)
    with open_warehouse(warehouse, read_only=True) as wh:
        return evaluate_pairs(_matcher_of(wh.con, lists), pairs)


def search_name(
    name: str, warehouse: Path, lists: list[str], *, country: str | None = None, limit: int = 10
) -> list[Any]:
    """The list entries most like `name` (Hits, best first, also below the FLAG threshold)."""
    from transship.screening.listformats import iso3
    from transship.warehouse import open_warehouse

    iso = None
    if country:
        iso = iso3(country)
        if iso is None:
            raise UsageError(f"unknown country {country!r}: use an ISO code or a country name")
    if not warehouse.exists():
        raise UsageError(f"no warehouse at {warehouse}: load a list with `transship lists load`")
    with open_warehouse(warehouse, read_only=True) as wh:
        hits: list[Any] = _matcher_of(wh.con, lists).search(name, iso, limit=limit, min_score=50.0)
        return hits


def verify_audit(warehouse: Path, *, expect_head: str | None = None) -> Verification:
    """Recompute the audit chain; with `expect_head` (a hash anchored elsewhere, from
    `audit_head`), also check that the chain still reaches it."""
    from transship.screening.audit import verify
    from transship.warehouse import open_warehouse

    with open_warehouse(warehouse) as wh:
        return verify(wh.con, expect_head=expect_head)


def audit_head(warehouse: Path) -> tuple[int, str]:
    """(seq, hash) of the last audit record, to anchor outside the warehouse."""
    from transship.screening.audit import head
    from transship.warehouse import open_warehouse

    with open_warehouse(warehouse) as wh:
        return head(wh.con)


__all__ = [
    "Policy",
    "Thresholds",
    "all_policies",
    "audit_head",
    "diff_lists",
    "evaluate_pairs_file",
    "list_versions",
    "lists_in",
    "load_lists",
    "load_policy",
    "policy_names",
    "screen_file",
    "search_name",
    "thresholds_from_settings",
    "verify_audit",
]
