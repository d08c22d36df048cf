"""Alert commands: alerts list/show/clear/confirm/escalate/suppressions, and rescreen."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from transship.cli._app import FormatOpt, OutFormat, app, handle_errors, warehouse_path

alerts_app = typer.Typer(help="Alerts opened by FLAG/BLOCK decisions, and their review.")
app.add_typer(alerts_app, name="alerts")


class StatusOpt(StrEnum):
    pending = "pending"
    open = "open"
    clearing = "clearing"
    escalated = "escalated"
    cleared = "cleared"
    confirmed = "confirmed"
    suppressed = "suppressed"
    all = "all"


def _with_con(ctx: typer.Context, fn: Any) -> Any:
    from transship.warehouse import open_warehouse

    with open_warehouse(warehouse_path(ctx)) as wh:
        wh.con.execute("SET enable_progress_bar = false")
        return fn(wh.con)


@alerts_app.command("list")
@handle_errors
def alerts_list(
    ctx: typer.Context,
    status: Annotated[
        StatusOpt, typer.Option(help="pending = open, clearing (one of two) and escalated.")
    ] = StatusOpt.pending,
    format: FormatOpt = OutFormat.table,
) -> None:
    """The review queue: BLOCK before FLAG, oldest first."""
    from transship.output import emit
    from transship.screening import alerts

    st = None if status is StatusOpt.all else status.value
    rows = _with_con(ctx, lambda con: alerts.queue(con, status=st))
    if format.value == "table":
        rows = [
            {
                "id": r["alert_id"],
                "severity": r["severity"],
                "status": r["status"],
                "opened_at": r["opened_at"],
                "declaration": r["declaration_id"],
                "parties": " / ".join(p for p in (r["exporter_name"], r["consignee_name"]) if p),
            }
            for r in rows
        ]
    emit(rows, format.value, title=f"alerts ({status.value})", empty=f"no {status.value} alerts")


@alerts_app.command("show")
@handle_errors
def alerts_show(
    ctx: typer.Context,
    alert_id: Annotated[int, typer.Argument(help="Alert id (from `alerts list`).")],
    format: FormatOpt = OutFormat.table,
) -> None:
    """One alert: the decision, its hits (party and list entry) and every review."""
    from transship.output import emit
    from transship.screening import alerts

    a = _with_con(ctx, lambda con: alerts.show(con, alert_id))
    if format.value != "table":
        emit([a], format.value)
        return
    head = {k: v for k, v in a.items() if k not in ("hit_pairs", "reviews", "hits")}
    emit([{"field": k, "value": v} for k, v in head.items()], "table", title=f"alert {alert_id}")
    emit(a["hit_pairs"], "table", title="hits", empty="no list hit (decided by the rules)")
    emit(a["reviews"], "table", title="reviews", empty="not reviewed yet")


def _review(ctx: typer.Context, alert_id: int, action: str, reviewer: str, note: str) -> None:
    from rich.console import Console

    from transship.screening import review

    a = _with_con(ctx, lambda con: review.review(con, alert_id, action, reviewer, note))
    extra = ""
    if a["status"] == "clearing":
        extra = " (BLOCK: a second, different reviewer must clear it too)"
    Console().print(f"alert {alert_id}: {a['status']}{extra}", highlight=False)


ReviewerOpt = Annotated[str, typer.Option(help="Your name (kept in the audit trail).")]
NoteOpt = Annotated[str, typer.Option(help="Why (kept in the audit trail).")]
IdArg = Annotated[int, typer.Argument(help="Alert id.")]


@alerts_app.command("clear")
@handle_errors
def alerts_clear(ctx: typer.Context, alert_id: IdArg, reviewer: ReviewerOpt, note: NoteOpt) -> None:
    """Clear as a false positive (a BLOCK needs two different reviewers); the (party, entry)
    pairs become good-guy suppressions until TRANSSHIP_SUPPRESSION_DAYS pass."""
    _review(ctx, alert_id, "clear", reviewer, note)


@alerts_app.command("confirm")
@handle_errors
def alerts_confirm(
    ctx: typer.Context, alert_id: IdArg, reviewer: ReviewerOpt, note: NoteOpt
) -> None:
    """Confirm the match: the party is the listed entity."""
    _review(ctx, alert_id, "confirm", reviewer, note)


@alerts_app.command("escalate")
@handle_errors
def alerts_escalate(
    ctx: typer.Context, alert_id: IdArg, reviewer: ReviewerOpt, note: NoteOpt
) -> None:
    """Escalate to a senior reviewer or the compliance officer."""
    _review(ctx, alert_id, "escalate", reviewer, note)


@alerts_app.command("suppressions")
@handle_errors
def alerts_suppressions(ctx: typer.Context, format: FormatOpt = OutFormat.table) -> None:
    """Good-guy suppressions: cleared (party name, list entry) pairs and their expiry."""
    from transship.output import emit
    from transship.screening import review

    emit(
        _with_con(ctx, review.suppressions),
        format.value,
        title="suppressions",
        empty="no suppression (clear an alert to make one)",
    )


@app.command()
@handle_errors
def rescreen(
    ctx: typer.Context,
    lists: Annotated[
        list[str] | None, typer.Option(help="Lists to re-screen (default: every list).")
    ] = None,
    from_version: Annotated[
        int | None,
        typer.Option(
            help="Compare the current version with this one (default: the version "
            "last re-screened against, else the one before the current)."
        ),
    ] = None,
    format: FormatOpt = OutFormat.table,
) -> None:
    """Screen past declarations' parties against what changed in the lists' new versions;
    every new hit is audited and opens an alert."""
    from transship.output import emit
    from transship.screening import rescreen as rs

    names = [v.strip() for item in lists or [] for v in item.split(",") if v.strip()] or None
    r = _with_con(ctx, lambda con: rs.rescreen(con, lists=names, from_version=from_version))
    emit(
        [
            {
                "list": x.list,
                "from": x.from_version,
                "to": x.to_version,
                "changed_entities": x.entities,
                "parties": x.parties,
                "screened": x.candidates,
                "new_hits": x.hits,
                "new_alerts": x.alerts,
            }
            for x in r.lists
        ],
        format.value,
        title=f"rescreen ({r.seconds:.2f} s)",
        empty="nothing to re-screen: no list has a version newer than the last re-screen",
    )
    from transship.cli._app import print_notes

    print_notes(r.notes, synthetic=False)
