"""The parties of past screenings, kept for re-screening (screening.rescreen).

`screening_parties` holds every party (name, country) of an audited decision: the latest
declaration, decision, policy and lists that named it, its normalised name once, and its
blocking keys. `update_parties` fills it from the audit chain incrementally.

Blocking keys (`blocking_keys`): each word of the normalised name; for words of 5+ letters
their first and last four letters, so a typo at either end still meets; the name's first
six letters written together, for joined names.
"""

from __future__ import annotations

from typing import Any

DDL = """CREATE TABLE IF NOT EXISTS screening_parties (
    name VARCHAR NOT NULL,
    country VARCHAR NOT NULL,        -- as declared ('' when none)
    role VARCHAR NOT NULL,           -- exporter | consignee (latest)
    norm VARCHAR NOT NULL,
    keys VARCHAR[] NOT NULL,         -- blocking keys (module doc)
    last_seq BIGINT NOT NULL,        -- latest decision naming the party
    declaration_id VARCHAR,
    decision VARCHAR,
    policy VARCHAR,
    policy_sha256 VARCHAR,
    lists VARCHAR,                   -- ';'-separated list names of that screening
    declarations BIGINT NOT NULL,    -- decisions naming the party
    PRIMARY KEY (name, country)
)"""


def blocking_keys(norm: str) -> list[str]:
    keys: set[str] = set()
    toks = norm.split()
    for t in toks:
        if len(t) >= 2:
            keys.add(t)
        if len(t) >= 5:
            keys.add("^" + t[:4])
            keys.add("$" + t[-4:])
    joined = "".join(toks)
    if len(joined) >= 6:
        keys.add("=" + joined[:6])
    return sorted(keys)


def ensure_tables(con: Any) -> None:
    con.execute(DDL)


def update_parties(con: Any) -> int:
    """Add the parties of decisions audited since the last update; returns new parties."""
    import pyarrow as pa

    from transship.screening import alerts
    from transship.screening.audit import ensure_tables as ensure_audit
    from transship.screening.names import normalize_name

    ensure_audit(con)
    alerts.ensure_tables(con)
    ensure_tables(con)
    last = alerts._state(con, "parties_seq")
    (top,) = (
        con.execute("SELECT coalesce(max(seq), 0) FROM screening_audit").fetchall()[:1] or [None]
    )[0]
    if top <= last:
        return 0
    role_sql = " UNION ALL ".join(
        f"""SELECT seq, declaration_id, decision, policy, policy_sha256, lists, '{r}' AS role,
              nullif(trim(json_extract_string(declaration, '$.{r}_name')), '') AS name,
              coalesce(trim(json_extract_string(declaration, '$.{r}_country')), '') AS country
            FROM screening_audit WHERE seq > $1 AND decision IN ('ALLOW', 'FLAG', 'BLOCK')
              AND NOT starts_with(channel, 'rescreen') AND NOT starts_with(channel, 'review')"""
        for r in ("exporter", "consignee")
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _new_parties AS
        SELECT name, country, arg_max(role, seq) AS role, max(seq) AS last_seq,
          arg_max(declaration_id, seq) AS declaration_id, arg_max(decision, seq) AS decision,
          arg_max(policy, seq) AS policy, arg_max(policy_sha256, seq) AS policy_sha256,
          arg_max(lists, seq) AS lists, count(*) AS n
        FROM ({role_sql}) WHERE name IS NOT NULL GROUP BY name, country""",
        [last],
    )
    fresh = con.execute(
        "SELECT n.name, n.country FROM _new_parties n ANTI JOIN screening_parties p "
        "USING (name, country)"
    ).fetchall()
    norms = [normalize_name(name) or " ".join(name.casefold().split()) for name, _ in fresh]
    keyed = pa.table(
        {
            "name": pa.array([f[0] for f in fresh], pa.string()),
            "country": pa.array([f[1] for f in fresh], pa.string()),
            "norm": pa.array(norms, pa.string()),
            "keys": pa.array([blocking_keys(n) for n in norms], pa.list_(pa.string())),
        }
    )
    con.begin()
    try:
        con.register("_keyed", keyed)
        con.execute(
            """UPDATE screening_parties p SET role = n.role, last_seq = n.last_seq,
                 declaration_id = n.declaration_id, decision = n.decision, policy = n.policy,
                 policy_sha256 = n.policy_sha256, lists = n.lists,
                 declarations = p.declarations + n.n
               FROM _new_parties n WHERE p.name = n.name AND p.country = n.country"""
        )
        con.execute(
            """INSERT INTO screening_parties SELECT n.name, n.country, n.role, k.norm, k.keys,
                 n.last_seq, n.declaration_id, n.decision, n.policy, n.policy_sha256, n.lists, n.n
               FROM _new_parties n JOIN _keyed k USING (name, country)"""
        )
        con.unregister("_keyed")
        alerts._set_state(con, "parties_seq", int(top))
        con.commit()
    except BaseException:
        con.rollback()
        raise
    con.execute("DROP TABLE IF EXISTS _new_parties")
    return len(fresh)
