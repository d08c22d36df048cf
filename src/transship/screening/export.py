"""Exports for examiners: what was decided, by whom, against which lists and policies.

`export(con, start, end)` collects, for audit records screened from `start` to `end` (UTC
days, inclusive): every decision (with its policy, policy sha256 and list versions), every
alert opened and its reviews (reviewer, time, note, status change), the versions of every
list those records name (dates, sources, sha256 of the inputs), the policies with the file
hashes the records carry, and the audit head, so the examiner can check the chain.
`write` writes it as JSON (one document), CSV (one file per section, `<out stem>-<section>.csv`)
or xlsx (one sheet per section) through transship.safepath (atomic, never over the warehouse
or an input; text cells a spreadsheet would run as a formula are neutralised).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from transship.errors import UsageError

SECTIONS = ("decisions", "alerts", "reviews", "list_versions", "policies")


def _dicts(cur: Any) -> list[dict[str, Any]]:
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def export(con: Any, start: date | None = None, end: date | None = None) -> dict[str, Any]:
    from transship.screening import alerts, audit, versions

    if start and end and end < start:
        raise UsageError(f"to ({end}) is before from ({start})")
    audit.ensure_tables(con)
    alerts.sync(con)
    lo = datetime.combine(start or date(1970, 1, 1), datetime.min.time())
    hi = datetime.combine((end or date(9999, 12, 30)) + timedelta(days=1), datetime.min.time())
    decisions = _dicts(
        con.execute(
            "SELECT seq, screened_at, channel, policy, policy_sha256, list_versions, "
            "declaration_id, decision, rules, hits, error, hash FROM screening_audit "
            "WHERE screened_at >= ? AND screened_at < ? AND NOT starts_with(channel, 'review') "
            "ORDER BY seq",
            [lo, hi],
        )
    )
    for d in decisions:
        d["list_versions"] = ";".join(versions.labels_of(d["list_versions"]))
    alert_rows = _dicts(
        con.execute(
            "SELECT alert_id, opened_at, audit_seq, origin, declaration_id, severity, status, "
            "policy, list_versions, exporter_name, consignee_name, rules, hits, updated_at, "
            "suppression_id FROM screening_alerts WHERE opened_at >= ? AND opened_at < ? "
            "ORDER BY alert_id",
            [lo, hi],
        )
    )
    reviews = _dicts(
        con.execute(
            "SELECT r.alert_id, r.reviewed_at, r.reviewer, r.action, r.note, r.status_from, "
            "r.status_to, r.audit_seq, a.declaration_id, a.severity FROM screening_reviews r "
            "JOIN screening_alerts a USING (alert_id) WHERE r.reviewed_at >= ? "
            "AND r.reviewed_at < ? ORDER BY r.reviewed_at, r.audit_seq",
            [lo, hi],
        )
    )
    named = {lab for d in decisions for lab in d["list_versions"].split(";") if "@" in lab}
    list_versions = [
        {k: v for k, v in lv.as_dict().items()} | {"label": lv.label}
        for lv in versions.all_versions(con)
        if lv.label in named
    ]
    policies = _dicts(
        con.execute(
            "SELECT policy, policy_sha256, count(*) AS decisions, min(screened_at) AS first, "
            "max(screened_at) AS last FROM screening_audit WHERE screened_at >= ? "
            "AND screened_at < ? AND NOT starts_with(channel, 'review') "
            "GROUP BY policy, policy_sha256 ORDER BY policy, first",
            [lo, hi],
        )
    )
    seq, head = audit.head(con)
    return {
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
        "audit_head": {"seq": seq, "hash": head},
        "decisions": decisions,
        "alerts": alert_rows,
        "reviews": reviews,
        "list_versions": list_versions,
        "policies": policies,
    }


def write(doc: dict[str, Any], fmt: str, out: Path, inputs: list[Path]) -> list[Path]:
    """Write the export; returns the files written."""
    from transship import safepath

    if fmt == "json":
        text = json.dumps(doc, default=str, ensure_ascii=False, indent=1) + "\n"
        return [safepath.write_text(out, text, parameter="out", inputs=inputs)]
    if fmt == "csv":
        from transship.output import emit

        written = []
        for section in SECTIONS:
            path = out.with_name(f"{out.stem}-{section}.csv")
            emit(doc[section], "csv", out=path, inputs=inputs, empty=f"no {section}")
            written.append(path)
        return written
    if fmt == "xlsx":
        return [safepath.write_with(out, lambda tmp: _xlsx(doc, tmp), parameter="out",
                                    inputs=inputs)]  # fmt: skip
    raise UsageError(f"format {fmt!r}: use csv, json or xlsx")


def _xlsx(doc: dict[str, Any], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from transship.safepath import safe_cell

    wb = Workbook()
    wb.remove(wb.active)
    about = wb.create_sheet("export")
    for row in (("from", doc["from"]), ("to", doc["to"]),
                ("audit head seq", doc["audit_head"]["seq"]),
                ("audit head hash", doc["audit_head"]["hash"])):  # fmt: skip
        about.append([safe_cell(v) for v in row])
    for section in SECTIONS:
        ws = wb.create_sheet(section)
        rows = doc[section]
        cols = list(rows[0]) if rows else ["(none)"]
        ws.append([safe_cell(c) for c in cols])
        for c in ws[1]:
            c.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for r in rows:
            ws.append([_xl(r.get(c)) for c in cols])
    wb.save(path)


def _xl(v: Any) -> Any:
    from transship.safepath import safe_cell

    if isinstance(v, dict | list):
        v = json.dumps(v, default=str, ensure_ascii=False)
    if v is None or isinstance(v, int | float | date | datetime):  # bool is an int
        return v
    return safe_cell(str(v))
