"""Review of alerts (alerts.py opens them): the status machine with four eyes for a BLOCK, each
transition an audit record in the same hash chain, and the good-guy suppressions a clearing
leaves behind (they expire after TRANSSHIP_SUPPRESSION_DAYS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from transship.errors import UsageError
from transship.screening.alerts import FINAL, _dicts, _now, ensure_tables, show

ACTIONS = ("clear", "confirm", "escalate")


class ReviewError(UsageError):
    """A review the alert's state does not allow (four eyes, already decided)."""

    http_status = 409


@dataclass
class _Event:
    """A review as audit.append_many takes a screening: one record, its JSON the review."""

    table: Any
    policy: str
    lists: list[str]
    list_versions: list[dict[str, Any]]
    policy_sha256: str


def _next_status(alert: dict[str, Any], action: str, reviewer: str) -> str:
    status, severity = alert["status"], alert["severity"]
    if status in FINAL:
        raise ReviewError(f"alert {alert['alert_id']} is {status}; it takes no further review")
    if action == "confirm":
        return "confirmed"
    if action == "escalate":
        if status == "escalated":
            raise ReviewError(f"alert {alert['alert_id']} is already escalated")
        return "escalated"
    if severity != "BLOCK":
        return "cleared"
    if status == "clearing":
        if alert["first_reviewer"] == reviewer:
            raise ReviewError(
                f"four eyes: alert {alert['alert_id']} (BLOCK) was cleared by {reviewer} "
                "already; a second, different reviewer must clear it"
            )
        return "cleared"
    return "clearing"


def review(
    con: Any,
    alert_id: int,
    action: str,
    reviewer: str,
    note: str,
    *,
    suppression_days: int | None = None,
) -> dict[str, Any]:
    """Apply `action` (clear, confirm, escalate) by `reviewer` with `note`; audited."""
    import pyarrow as pa

    from transship.screening import audit

    if action not in ACTIONS:
        raise UsageError(f"action {action!r}: use one of {', '.join(ACTIONS)}")
    reviewer = " ".join((reviewer or "").split())
    if not reviewer:
        raise UsageError("reviewer: a review needs the reviewer's name")
    note = (note or "").strip()
    if not note:
        raise UsageError("note: say why (the note is kept in the audit trail)")
    alert = show(con, alert_id)
    new = _next_status(alert, action, reviewer)
    doc = {
        "alert": alert_id,
        "action": action,
        "reviewer": reviewer,
        "note": note,
        "status_from": alert["status"],
        "status_to": new,
        "decision_seq": alert["audit_seq"],
    }
    event = _Event(
        pa.table(
            {
                "id": pa.array([alert["declaration_id"]], pa.string()),
                "decision": pa.array([f"REVIEW:{new}"], pa.string()),
                "rules": pa.array([alert["rules"]], pa.string()),
                "hits": pa.array([alert["hits"]], pa.string()),
                "error": pa.array([None], pa.string()),
            }
        ),
        alert["policy"],
        [p.split("@")[0] for p in (alert["list_versions"] or "").split(";") if p],
        [],
        "",
    )
    record = pa.table({k: pa.array([str(v)], pa.string()) for k, v in doc.items()})
    ((seq, _),) = audit.append_many(con, [(event, record, f"review:{reviewer}")])
    at = _now()
    con.begin()
    try:
        con.execute(
            "UPDATE screening_alerts SET status = ?, updated_at = ?, first_reviewer = ? "
            "WHERE alert_id = ?",
            [new, at, reviewer if new == "clearing" else alert["first_reviewer"]
             if new == "cleared" else None, alert_id],
        )  # fmt: skip
        con.execute(
            "INSERT INTO screening_reviews VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [alert_id, at, reviewer, action, note, alert["status"], new, seq],
        )
        if new == "cleared":
            _suppress(con, alert, reviewer, at, suppression_days)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return show(con, alert_id)


def _suppress(
    con: Any, alert: dict[str, Any], reviewer: str, at: datetime, days: int | None
) -> None:
    if days is None:
        from transship.settings import get_settings

        days = get_settings().suppression_days
    reviewers = ",".join(r for r in (alert["first_reviewer"], reviewer) if r)
    (next_id,) = (
        con.execute(
            "SELECT coalesce(max(suppression_id), 0) + 1 FROM screening_suppressions"
        ).fetchall()[:1]
        or [None]
    )[0]
    for h in con.execute(
        "SELECT party_norm, party_name, list, entity_id, fingerprint FROM screening_alert_hits "
        "WHERE alert_id = ?",
        [alert["alert_id"]],
    ).fetchall():
        con.execute(
            "INSERT INTO screening_suppressions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [next_id, *h, at, at + timedelta(days=days), alert["alert_id"], reviewers],
        )
        next_id += 1


def suppressions(con: Any) -> list[dict[str, Any]]:
    ensure_tables(con)
    return _dicts(
        con.execute(
            "SELECT suppression_id, party_name, list, entity_id, created_at, expires_at, "
            "alert_id, reviewers, expires_at > ? AS active FROM screening_suppressions "
            "ORDER BY suppression_id",
            [_now()],
        )
    )
