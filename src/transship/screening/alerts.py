"""Alerts and review: every FLAG/BLOCK in the audit trail opens an alert for a named reviewer.

Alerts are read from the audit chain (`sync`), so every entry point that audits a decision
(batch, API, dashboard upload, rescreen) opens them without a hook of its own. Statuses:

  open       -> cleared (false positive) | confirmed | escalated
  open       -> clearing  (a BLOCK cleared by one reviewer waits for a second, different one:
                           four eyes) -> cleared
  escalated  -> cleared | confirmed      (a BLOCK again needs two different reviewers)
  suppressed                             (opened already covered by a good-guy suppression)

Every transition is an audit record in the same hash chain (channel `review`, decision the
action, the reviewer and note in the record's JSON). Clearing turns each (party name, list
entity) pair of the alert into a good-guy suppression that expires after
TRANSSHIP_SUPPRESSION_DAYS: a later alert whose every hit is suppressed, and that no rule
decided, opens as `suppressed`, until the suppression expires or the entity changes in a new
list version (its fingerprint, versions.py, differs). Reviews and suppressions: review.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from transship.errors import UsageError

DDL = (
    """CREATE TABLE IF NOT EXISTS screening_alerts (
    alert_id BIGINT PRIMARY KEY,
    opened_at TIMESTAMP NOT NULL,   -- UTC, when the decision was audited
    audit_seq BIGINT NOT NULL,      -- the decision's audit record
    origin VARCHAR NOT NULL,        -- screening | rescreen
    channel VARCHAR NOT NULL,
    declaration_id VARCHAR,
    severity VARCHAR NOT NULL,      -- BLOCK | FLAG
    policy VARCHAR NOT NULL,
    list_versions VARCHAR,          -- list@version, ';'-separated
    exporter_name VARCHAR,
    consignee_name VARCHAR,
    rules VARCHAR,
    hits VARCHAR,
    status VARCHAR NOT NULL,        -- open clearing cleared confirmed escalated suppressed
    updated_at TIMESTAMP NOT NULL,
    first_reviewer VARCHAR,         -- who cleared a BLOCK first (four eyes)
    suppression_id BIGINT           -- the suppression an alert opened under
)""",
    """CREATE TABLE IF NOT EXISTS screening_alert_hits (
    alert_id BIGINT NOT NULL,
    role VARCHAR NOT NULL,          -- exporter | consignee
    party_name VARCHAR NOT NULL,
    party_norm VARCHAR NOT NULL,
    list VARCHAR NOT NULL,
    version INTEGER,
    entity_id VARCHAR NOT NULL,
    level VARCHAR NOT NULL,
    fingerprint VARCHAR             -- of the entity in that version (versions.py)
)""",
    """CREATE TABLE IF NOT EXISTS screening_reviews (
    alert_id BIGINT NOT NULL,
    reviewed_at TIMESTAMP NOT NULL,
    reviewer VARCHAR NOT NULL,
    action VARCHAR NOT NULL,        -- clear | confirm | escalate
    note VARCHAR NOT NULL,
    status_from VARCHAR NOT NULL,
    status_to VARCHAR NOT NULL,
    audit_seq BIGINT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS screening_suppressions (
    suppression_id BIGINT PRIMARY KEY,
    party_norm VARCHAR NOT NULL,
    party_name VARCHAR NOT NULL,
    list VARCHAR NOT NULL,
    entity_id VARCHAR NOT NULL,
    fingerprint VARCHAR,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    alert_id BIGINT NOT NULL,
    reviewers VARCHAR NOT NULL
)""",
    "CREATE TABLE IF NOT EXISTS screening_workflow_state (key VARCHAR PRIMARY KEY, value BIGINT)",
)
SEVERITY = {"FLAG": 1, "BLOCK": 2}
FINAL = ("cleared", "confirmed", "suppressed")
# One hit as engine.py writes it: "<role> <LEVEL> <list>:<entity_id> '<caption>' ...".
_HIT = re.compile(r"^(exporter|consignee) (BLOCK|FLAG) ([A-Za-z0-9._-]+):(\S+) ")


@dataclass(frozen=True)
class HitPair:
    role: str
    party_name: str
    list: str
    entity_id: str
    level: str


def parse_hits(hits: str | None, declaration: dict[str, Any]) -> list[HitPair]:
    """The (party, entity) pairs of an audit record's hits text."""
    out: list[HitPair] = []
    for part in (hits or "").split(" | "):
        m = _HIT.match(part.strip())
        if not m:
            continue
        role, level, lst, eid = m.groups()
        name = declaration.get(f"{role}_name")
        if name is None and isinstance(declaration.get(role), dict):
            name = declaration[role].get("name")
        if name:
            out.append(HitPair(role, str(name), lst, eid, level))
    return out


def party_norm(name: str) -> str:
    from transship.screening.names import normalize_name

    return normalize_name(name) or " ".join(name.casefold().split())


def ensure_tables(con: Any) -> None:
    for ddl in DDL:
        con.execute(ddl)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _state(con: Any, key: str) -> int:
    row = (
        con.execute("SELECT value FROM screening_workflow_state WHERE key = ?", [key]).fetchall()[
            :1
        ]
        or [None]
    )[0]
    return int(row[0]) if row else 0


def _set_state(con: Any, key: str, value: int) -> None:
    con.execute("INSERT OR REPLACE INTO screening_workflow_state VALUES (?, ?)", [key, value])


def _rule_severity(policy: str, rules: str | None) -> int:
    """Severity the rules alone gave (highest precedence, most severe); 2 (not suppressible)
    when the policy cannot be read back."""
    if not rules:
        return 0
    from transship.screening.policies import SEVERITY as RULE_SEVERITY
    from transship.screening.policies import load_policy

    try:
        pol = load_policy(policy)
    except Exception:  # a policy file moved away: a rule may have decided, stay cautious
        return 2
    by_id = {r.id: r for r in pol.rules}
    matched = [by_id[r] for r in rules.split(";") if r in by_id]
    if len(matched) != len(rules.split(";")):
        return 2
    top = max(r.spec.precedence for r in matched)
    return max(RULE_SEVERITY[r.action] for r in matched if r.spec.precedence == top)


def _versions_of(list_versions: str | None) -> dict[str, int]:
    if not list_versions:
        return {}
    try:
        entries = json.loads(list_versions)
    except ValueError:
        return {}
    return {e["list"]: int(e["version"]) for e in entries if e.get("version")}


class _Lookups:
    """Entity fingerprints and active suppressions for one `sync`, read in bulk: one query per
    (list, version) for the fingerprints, one for all suppressions (a sync creates none)."""

    def __init__(self, con: Any) -> None:
        self.con = con
        self._current: dict[str, int | None] = {}
        self._fp: dict[tuple[str, int | None], dict[str, str]] = {}
        self._supp: dict[tuple[str, str, str, str | None], tuple[datetime, int]] = {}
        for sid, norm, lst, eid, fp, expires in con.execute(
            "SELECT suppression_id, party_norm, list, entity_id, fingerprint, expires_at "
            "FROM screening_suppressions"
        ).fetchall():
            key = (norm, lst, eid, fp)
            if key not in self._supp or expires > self._supp[key][0]:
                self._supp[key] = (expires, int(sid))

    def fingerprint(self, lst: str, version: int | None, eid: str) -> str | None:
        """The entity's fingerprint in that list version (None: the current one)."""
        if version is None:
            if lst not in self._current:
                row = self.con.execute(
                    "SELECT max(version) FROM screening_list_versions WHERE list = ? AND current",
                    [lst],
                ).fetchone()
                self._current[lst] = row[0] if row else None
            version = self._current[lst]
        if (lst, version) not in self._fp:
            self._fp[lst, version] = {
                str(e): str(f)
                for e, f in self.con.execute(
                    "SELECT entity_id, fingerprint FROM screening_version_entities "
                    "WHERE list = ? AND version = ?",
                    [lst, version],
                ).fetchall()
            }
        return self._fp[lst, version].get(eid)

    def suppression(
        self, norm: str, lst: str, eid: str, fingerprint: str | None, at: datetime
    ) -> int | None:
        """The suppression of this (party, entry, fingerprint) that lasts longest, if it is
        still in force at `at`."""
        found = self._supp.get((norm, lst, eid, fingerprint))
        return found[1] if found and found[0] > at else None


def _insert(con: Any, table: str, rows: list[list[Any]], null_at: int | None = None) -> None:
    """Append `rows` (the table's columns in order, but for a NULL column at `null_at`) in one
    statement through Arrow: one row per INSERT costs ~0.5 ms each."""
    import pyarrow as pa

    if not rows:
        return
    cols = {f"c{i}": [r[i] for r in rows] for i in range(len(rows[0]))}
    names = list(cols)
    if null_at is not None:
        names.insert(null_at, "NULL")
    con.register("_alert_rows", pa.table(cols))
    try:
        con.execute(f"INSERT INTO {table} SELECT {', '.join(names)} FROM _alert_rows")
    finally:
        con.unregister("_alert_rows")


def sync(con: Any) -> int:
    """Open an alert for every FLAG/BLOCK audit record not yet seen; returns how many."""
    from transship.screening import versions as lv
    from transship.screening.audit import ensure_tables as ensure_audit

    ensure_audit(con)
    ensure_tables(con)
    lv.ensure_tables(con)
    con.begin()
    try:
        last = _state(con, "alerts_seq")
        # Only FLAG / BLOCK records open alerts: the ALLOWs (most of a file) are not read
        # back with their declarations, only counted into the sequence seen.
        (top,) = con.execute(
            "SELECT max(seq) FROM screening_audit WHERE seq > ?", [last]
        ).fetchone()
        records = con.execute(
            "SELECT seq, screened_at, channel, policy, list_versions, declaration_id, decision, "
            "rules, hits, declaration FROM screening_audit "
            "WHERE seq > ? AND decision IN ('FLAG', 'BLOCK') ORDER BY seq",  # SEVERITY's keys
            [last],
        ).fetchall()
        (next_id,) = (
            con.execute("SELECT coalesce(max(alert_id), 0) + 1 FROM screening_alerts").fetchall()[
                :1
            ]
            or [None]
        )[0]
        opened = 0
        look = _Lookups(con)
        alert_rows: list[list[Any]] = []
        hit_rows: list[list[Any]] = []
        for seq, at, channel, policy, lvs, did, decision, rules, hits, doc in records:
            last = seq
            if decision not in SEVERITY:
                continue
            declaration = json.loads(doc) if doc else {}
            pairs = parse_hits(hits, declaration)
            used = _versions_of(lvs)
            status, suppression = "open", None
            rows = []
            found: list[int | None] = []
            for p in pairs:
                norm = party_norm(p.party_name)
                fp = look.fingerprint(p.list, used.get(p.list), p.entity_id)
                rows.append((p, norm, fp))
                found.append(look.suppression(norm, p.list, p.entity_id, fp, at))
            if pairs and all(found) and _rule_severity(policy, rules) == 0:
                status, suppression = "suppressed", found[0]
            alert_rows.append(
                [
                    next_id,
                    at,
                    seq,
                    "rescreen" if channel.startswith("rescreen") else "screening",
                    channel,
                    did,
                    decision,
                    policy,
                    ";".join(lv.labels_of(lvs)),
                    _party(declaration, "exporter"),
                    _party(declaration, "consignee"),
                    rules,
                    hits,
                    status,
                    at,
                    suppression,
                ]
            )
            hit_rows.extend(
                [next_id, p.role, p.party_name, norm, p.list, used.get(p.list),
                 p.entity_id, p.level, fp]
                for p, norm, fp in rows
            )  # fmt: skip
            next_id += 1
            opened += 1
        _insert(con, "screening_alerts", alert_rows, null_at=15)
        _insert(con, "screening_alert_hits", hit_rows)
        _set_state(con, "alerts_seq", last if top is None else max(last, top))
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return opened


def _party(declaration: dict[str, Any], role: str) -> str | None:
    v = declaration.get(f"{role}_name")
    if v is None and isinstance(declaration.get(role), dict):
        v = declaration[role].get("name")
    return None if v is None else str(v)


# -- reading ---------------------------------------------------------------------------------
_ALERT_COLS = (
    "alert_id, opened_at, audit_seq, origin, channel, declaration_id, severity, policy, "
    "list_versions, exporter_name, consignee_name, rules, hits, status, updated_at, "
    "first_reviewer, suppression_id"
)


def _dicts(cur: Any) -> list[dict[str, Any]]:
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def queue(
    con: Any, *, status: str | None = "pending", limit: int | None = None
) -> list[dict[str, Any]]:
    """Alerts, BLOCK before FLAG and oldest first. `status`: a status, `pending` (open,
    clearing, escalated: what needs a reviewer) or None for all."""
    sync(con)
    where, params = "", []
    if status == "pending":
        where = "WHERE status IN ('open', 'clearing', 'escalated')"
    elif status:
        where, params = "WHERE status = ?", [status]
    sql = (
        f"SELECT {_ALERT_COLS} FROM screening_alerts {where} "
        "ORDER BY CASE severity WHEN 'BLOCK' THEN 0 ELSE 1 END, opened_at, alert_id"
    )
    if limit:
        sql += f" LIMIT {int(limit)}"
    return _dicts(con.execute(sql, params))


def show(con: Any, alert_id: int) -> dict[str, Any]:
    """One alert with its hits and its review history."""
    sync(con)
    rows = _dicts(con.execute(f"SELECT {_ALERT_COLS} FROM screening_alerts WHERE alert_id = ?",
                              [alert_id]))  # fmt: skip
    if not rows:
        raise UsageError(f"no alert {alert_id}")
    alert = rows[0]
    alert["hit_pairs"] = _dicts(
        con.execute(
            "SELECT role, party_name, list, version, entity_id, level FROM screening_alert_hits "
            "WHERE alert_id = ? ORDER BY role, list, entity_id",
            [alert_id],
        )
    )
    alert["reviews"] = _dicts(
        con.execute(
            "SELECT reviewed_at, reviewer, action, note, status_from, status_to, audit_seq "
            "FROM screening_reviews WHERE alert_id = ? ORDER BY reviewed_at, audit_seq",
            [alert_id],
        )
    )
    return alert
