"""Re-screening: past declarations' parties against only what changed in a new list version.

The parties of every audited decision are kept in `screening_parties` (screening.parties).
`rescreen` takes, per list, the entities added or changed between the version last
re-screened against (else the one before the current) and the current version, builds a
matcher over those entities alone, and screens the parties whose screenings used that list.

Speed: the matcher costs milliseconds a name, so screening 100k parties one by one would take
minutes. Parties are first blocked against the changed names in SQL on keys computed once per
party (parties.blocking_keys), skipping keys shared by more than `max(50, 0.5 %)` of the
parties unless a changed name has no other; each (party, changed name) pair so found gets a
quick rapidfuzz pre-score (word order free, subsets, joined forms;
TRANSSHIP_RESCREEN_PRESCORE), and only the parties passing it are screened by the matcher. A
pair the matcher would score as a hit while sharing none of these keys, or failing the
pre-score, is missed: a test compares the result with screening every party on the real OFAC
SDN 2021 -> 2024 change.

Each party with a new hit (a (party, entity) pair with no alert yet for that entity's
fingerprint) gets one audit record (channel `rescreen:<list>@<from>-><to>`, decision the hit
level), which opens its alert (alerts.sync) like any other FLAG/BLOCK.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from transship.screening import parties as ps

DDL = (
    """CREATE TABLE IF NOT EXISTS screening_rescreens (
    rescreened_at TIMESTAMP NOT NULL,
    list VARCHAR NOT NULL,
    from_version INTEGER NOT NULL,
    to_version INTEGER NOT NULL,
    entities BIGINT NOT NULL,        -- added + changed
    parties BIGINT NOT NULL,
    candidates BIGINT NOT NULL,
    hits BIGINT NOT NULL,
    alerts BIGINT NOT NULL
)""",
)


@dataclass
class ListRescreen:
    list: str
    from_version: int
    to_version: int
    entities: int  # added + changed
    parties: int
    candidates: int
    hits: int
    alerts: int


@dataclass
class RescreenReport:
    lists: list[ListRescreen] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _from_version(con: Any, name: str, current: int) -> int:
    row = (
        con.execute(
            "SELECT max(to_version) FROM screening_rescreens WHERE list = ?", [name]
        ).fetchall()[:1]
        or [None]
    )[0]
    return int(row[0]) if row and row[0] is not None else current - 1


def ensure_tables(con: Any) -> None:
    ps.ensure_tables(con)
    for ddl in DDL:
        con.execute(ddl)


def rescreen(
    con: Any,
    *,
    lists: list[str] | None = None,
    from_version: int | None = None,
    thresholds: Any = None,
    prescore: float | None = None,
) -> RescreenReport:
    """Re-screen past parties against each list's changes since it was last re-screened."""
    from transship.screening import alerts, versions
    from transship.screening.listdiff import changed_ids
    from transship.screening.matcher import Matcher

    t0 = time.perf_counter()
    versions.ensure_tables(con)
    versions.backfill(con)
    ensure_tables(con)
    ps.update_parties(con)
    alerts.sync(con)
    if thresholds is None:
        from transship.screening import thresholds_from_settings

        thresholds = thresholds_from_settings()
    if prescore is None:
        from transship.settings import get_settings

        prescore = get_settings().rescreen_prescore
    report = RescreenReport()
    names = lists or sorted({v.list for v in versions.all_versions(con)})
    for name, cur in sorted(versions.current(con, names).items()):
        old = from_version if from_version is not None else _from_version(con, name, cur.version)
        if old < 1 or old >= cur.version:
            report.notes.append(f"{name}: nothing new since version {max(old, 1)} (current "
                                f"{cur.label})")  # fmt: skip
            continue
        versions.get(con, name, old)
        ids = changed_ids(con, name, old, cur.version)
        delta = ids["added"] + ids["changed"]
        rows = [
            r
            for r in versions.matcher_rows(con, [cur])
            if r[1] in set(delta)
        ] if delta else []  # fmt: skip
        matcher = Matcher.from_rows(rows, thresholds)
        result = _screen_delta(con, name, cur, old, rows, matcher, prescore)
        result.entities = len(delta)
        report.lists.append(result)
        con.execute(
            "INSERT INTO screening_rescreens VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [datetime.now(UTC).replace(tzinfo=None, microsecond=0), name, old, cur.version,
             result.entities, result.parties, result.candidates, result.hits, result.alerts],
        )  # fmt: skip
    report.seconds = round(time.perf_counter() - t0, 3)
    return report


# A listed person is compared at most at this pre-score (the matcher accepts a person named
# by fewer parts); others at TRANSSHIP_RESCREEN_PRESCORE.
PRESCORE_PERSON = 60.0


def _prescore(a: str, b: str, person: bool = True) -> float:
    """Quick similarity of two normalised names, generous by design: word order does not
    count, a name inside a longer one scores high (fully for a listed person, who may be named
    by fewer parts), and joined forms are compared joined."""
    from rapidfuzz import fuzz

    return max(
        fuzz.token_sort_ratio(a, b),
        fuzz.token_set_ratio(a, b) * (1.0 if person else 0.9),
        fuzz.ratio(a.replace(" ", ""), b.replace(" ", "")),
    )


def _candidates(
    con: Any, name: str, rows: list[tuple[Any, ...]], prescore: float
) -> list[tuple[Any, ...]]:
    """Parties screened with list `name` that share a useful blocking key with a changed name
    and pass the quick pre-score against it."""
    import pyarrow as pa

    dkeys = pa.table(
        {
            "i": pa.array(
                [i for i, r in enumerate(rows) for _ in ps.blocking_keys(r[4])], pa.int64()
            ),
            "key": pa.array([k for r in rows for k in ps.blocking_keys(r[4])], pa.string()),
        }
    )
    con.register("_dkeys", dkeys)
    try:
        pairs = con.execute(
            """WITH p AS (
                 SELECT * FROM screening_parties
                 WHERE list_contains(string_split(coalesce(lists, ''), ';'), $1)),
               pk AS (SELECT name, country, unnest(keys) AS key FROM p),
               freq AS (SELECT key, count(*) AS n FROM pk GROUP BY key),
               lim AS (SELECT greatest(50, (SELECT count(*) FROM p) // 200) AS m),
               dk AS (SELECT d.i, d.key, coalesce(f.n, 0) AS n FROM _dkeys d
                      LEFT JOIN freq f USING (key)),
               useful AS (
                 SELECT i, key FROM dk, lim WHERE n <= lim.m
                 UNION ALL
                 SELECT i, arg_min(key, n) FROM dk GROUP BY i
                 HAVING min(n) > (SELECT m FROM lim))
             SELECT DISTINCT pk.name, pk.country, u.i FROM pk JOIN useful u USING (key)""",
            [name],
        ).fetchall()
        norms = dict(
            ((n, c), norm)
            for n, c, norm in con.execute(
                "SELECT name, country, norm FROM screening_parties "
                "WHERE list_contains(string_split(coalesce(lists, ''), ';'), ?)",
                [name],
            ).fetchall()
        )
        keep: set[tuple[str, str]] = set()
        for pname, country, i in pairs:
            key = (pname, country)
            person = len(rows[i]) > 7 and rows[i][7] == "Person"
            cut = min(prescore, PRESCORE_PERSON) if person else prescore
            if key not in keep and _prescore(norms[key], rows[i][4], person) >= cut:
                keep.add(key)
        con.register(
            "_keep",
            pa.table(
                {
                    "name": pa.array([k[0] for k in keep], pa.string()),
                    "country": pa.array([k[1] for k in keep], pa.string()),
                }
            ),
        )
        try:
            return list(
                con.execute(
                    "SELECT p.name, p.country, p.role, p.norm, p.last_seq, p.declaration_id, "
                    "p.policy, p.policy_sha256 FROM screening_parties p "
                    "JOIN _keep USING (name, country) ORDER BY p.name, p.country"
                ).fetchall()
            )
        finally:
            con.unregister("_keep")
    finally:
        con.unregister("_dkeys")


def _screen_delta(
    con: Any,
    name: str,
    cur: Any,
    old: int,
    rows: list[tuple[Any, ...]],
    matcher: Any,
    prescore: float,
) -> ListRescreen:
    import pyarrow as pa

    from transship.screening import alerts, audit, review, versions
    from transship.screening.listformats import iso3

    (parties,) = (
        con.execute(
            "SELECT count(*) FROM screening_parties "
            "WHERE list_contains(string_split(coalesce(lists, ''), ';'), ?)",
            [name],
        ).fetchall()[:1]
        or [None]
    )[0]
    out = ListRescreen(name, old, cur.version, 0, int(parties), 0, 0, 0)
    if not rows:
        return out
    cands = _candidates(con, name, rows, prescore)
    out.candidates = len(cands)
    fps = versions.fingerprints(con, name, cur.version)
    seen = {
        (n, e, f)
        for n, e, f in con.execute(
            "SELECT party_norm, entity_id, fingerprint FROM screening_alert_hits WHERE list = ?",
            [name],
        ).fetchall()
    }
    iso: dict[str, str | None] = {}
    records: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for pname, country, role, norm, seq, did, policy, psha in cands:
        c = iso.setdefault(country, iso3(country) if country else None)
        hits = [
            h
            for h in matcher.screen(pname, c)
            if (norm, h.entity_id, fps.get(h.entity_id)) not in seen
        ]
        if not hits:
            continue
        out.hits += len(hits)
        records.setdefault((policy or "", psha or ""), []).append(
            {
                "id": did,
                "decision": "BLOCK" if any(h.level == "BLOCK" for h in hits) else "FLAG",
                "hits": " | ".join(f"{role} {h.describe()}" for h in hits),
                "doc": {
                    "id": did,
                    f"{role}_name": pname,
                    f"{role}_country": country or None,
                    "rescreen_of_seq": seq,
                    "list_version": cur.label,
                },
            }
        )
    entry = versions.audit_entries([cur])
    items = []
    for (policy, psha), recs in records.items():
        event = review._Event(
            pa.table(
                {
                    "id": pa.array([r["id"] for r in recs], pa.string()),
                    "decision": pa.array([r["decision"] for r in recs], pa.string()),
                    "rules": pa.nulls(len(recs), pa.string()),
                    "hits": pa.array([r["hits"] for r in recs], pa.string()),
                    "error": pa.nulls(len(recs), pa.string()),
                }
            ),
            policy,
            [name],
            entry,
            psha,
        )
        # The record's declaration is the re-screened party: id, role name and country.
        docs = _doc_table(recs)
        items.append((event, docs, f"rescreen:{name}@{old}->{cur.version}"))
    if items:
        audit.append_many(con, items)
        out.alerts = alerts.sync(con)
    return out


def _doc_table(recs: list[dict[str, Any]]) -> Any:
    import pyarrow as pa

    keys = sorted({k for r in recs for k in r["doc"]})
    return pa.table(
        {
            k: pa.array([None if r["doc"].get(k) is None else str(r["doc"][k]) for r in recs],
                        pa.string())
            for k in keys
        }
    )  # fmt: skip
