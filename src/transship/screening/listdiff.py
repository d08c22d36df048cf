"""What changed between two versions of a sanctions list: entities added, removed and changed,
and for changed ones what (names, aliases, countries, programmes), from the per-version
fingerprints that versions.record writes."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

from transship.errors import UsageError
from transship.screening.versions import all_versions, get


@dataclass
class ListDiff:
    list: str
    old: int
    new: int
    added: int
    removed: int
    changed: int
    rows: builtins.list[dict[str, Any]]  # change, entity_id, caption, detail

    def summary(self) -> dict[str, Any]:
        return {
            "list": self.list,
            "from": f"{self.list}@{self.old}",
            "to": f"{self.list}@{self.new}",
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
        }


def changed_ids(con: Any, name: str, old: int, new: int) -> dict[str, list[str]]:
    """Entity ids added, removed and changed from version `old` to `new` of list `name`."""
    rows = con.execute(
        """SELECT coalesce(n.entity_id, o.entity_id),
             CASE WHEN o.entity_id IS NULL THEN 'added' WHEN n.entity_id IS NULL THEN 'removed'
                  ELSE 'changed' END
           FROM (SELECT * FROM screening_version_entities WHERE list = $1 AND version = $2) o
           FULL OUTER JOIN
                (SELECT * FROM screening_version_entities WHERE list = $1 AND version = $3) n
             USING (entity_id)
           WHERE o.fingerprint IS DISTINCT FROM n.fingerprint""",
        [name, old, new],
    ).fetchall()
    out: dict[str, list[str]] = {"added": [], "removed": [], "changed": []}
    for eid, change in rows:
        out[change].append(eid)
    return out


def _entity_detail(con: Any, name: str, version: int, ids: list[str]) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    if not ids:
        return detail
    for eid, caption, nm, countries, programs in con.execute(
        "SELECT entity_id, caption, name, countries, programs FROM screening_version_names "
        "WHERE list = ? AND version = ? AND entity_id IN (SELECT unnest(?))",
        [name, version, ids],
    ).fetchall():
        d = detail.setdefault(
            eid,
            {
                "caption": caption,
                "names": set(),
                "countries": set(countries or ()),
                "programs": programs,
            },
        )
        d["names"].add(nm)
    return detail


def diff(con: Any, name: str, old: int | None = None, new: int | None = None) -> ListDiff:
    """Entities added, removed and changed between two versions (default: the current one and
    the one before it); changed entities say what changed (names, countries, programmes)."""
    versions = all_versions(con, name)
    if not versions:
        raise UsageError(f"list {name!r} is not loaded")
    if new is None:
        new = next((v.version for v in versions if v.current), versions[-1].version)
    if old is None:
        older = [v.version for v in versions if v.version < new]
        if not older:
            raise UsageError(f"list {name!r} has no version before {new}; give two versions")
        old = older[-1]
    get(con, name, old)
    get(con, name, new)
    ids = changed_ids(con, name, old, new)
    before = _entity_detail(con, name, old, ids["removed"] + ids["changed"])
    after = _entity_detail(con, name, new, ids["added"] + ids["changed"])
    rows: list[dict[str, Any]] = []
    for change in ("added", "removed", "changed"):
        for eid in sorted(ids[change], key=_natural):
            b, a = before.get(eid), after.get(eid)
            cur = a or b or {}
            parts: list[str] = []
            if change == "changed" and a and b:
                if a["caption"] != b["caption"]:
                    parts.append(f"name {b['caption']!r} -> {a['caption']!r}")
                captions = {a["caption"], b["caption"]}  # a renamed caption is said above
                plus = sorted(a["names"] - b["names"] - captions)
                minus = sorted(b["names"] - a["names"] - captions)
                if plus:
                    parts.append("+aliases " + "; ".join(plus))
                if minus:
                    parts.append("-aliases " + "; ".join(minus))
                if a["countries"] != b["countries"]:
                    parts.append(
                        f"countries {','.join(sorted(b['countries'])) or '-'} -> "
                        f"{','.join(sorted(a['countries'])) or '-'}"
                    )
                if a["programs"] != b["programs"]:
                    parts.append(f"programs {b['programs'] or '-'} -> {a['programs'] or '-'}")
                if not parts:
                    parts.append("schema")
            elif cur:
                parts.append(cur["programs"] or "")
            rows.append(
                {
                    "change": change,
                    "entity_id": eid,
                    "caption": cur.get("caption", ""),
                    "detail": "; ".join(p for p in parts if p),
                }
            )
    return ListDiff(
        name, old, new, len(ids["added"]), len(ids["removed"]), len(ids["changed"]), rows
    )


def _natural(eid: str) -> tuple[int, str]:
    return (int(eid), "") if eid.isdigit() else (1 << 62, eid)
