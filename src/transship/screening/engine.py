"""Screening: declarations -> ALLOW / FLAG / BLOCK with every reason, vectorised in DuckDB.

1. Each declaration is checked and normalised in one SQL pass (countries to ISO alpha-3, HS
   code to digits, date, value); a malformed row gets decision ERROR with its problems in
   `error`, and is neither allowed nor blocked: it cannot be screened as declared.
2. Each policy rule is one SQL predicate over all rows (date in validity, HS prefix, country
   sets, value); matches are combined by precedence, then severity (policies.py).
3. Distinct (party name, country) pairs are screened once each against the lists
   (matcher.py); a BLOCK hit blocks and a FLAG hit flags whatever the rules decided.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from transship.errors import UsageError
from transship.screening.declarations import COLUMNS, LOAD_ERROR, is_internal
from transship.screening.matcher import Hit, Matcher
from transship.screening.policies import SEVERITY, Policy, Rule

DECISIONS = ("ALLOW", "FLAG", "BLOCK")
OUTPUT_COLUMNS = ("row", "id", "decision", "rules", "hits", "reasons", "error")
# rules are joined with ';', hits and reasons (which may contain ';') with ' | '.
SEP = " | "
Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass
class ScreenResult:
    table: Any  # pyarrow.Table: OUTPUT_COLUMNS, then the declaration's other columns
    policy: str
    lists: list[str]
    counts: dict[str, int]
    hits: dict[int, list[Hit]] = field(default_factory=dict)  # row -> hits (API detail)
    policy_sha256: str = ""  # of the policy file (policies.Policy.sha256)
    list_versions: list[dict[str, Any]] = field(default_factory=list)  # Matcher.versions

    def summary(self) -> list[dict[str, Any]]:
        total = sum(self.counts.values())
        return [
            {"decision": d, "declarations": n, "share": n / total if total else 0.0}
            for d, n in self.counts.items()
        ]


def _sql_str(v: str) -> str:
    return "'" + v.replace("'", "''") + "'"


def _in(col: str, values: frozenset[str] | tuple[str, ...]) -> str:
    if not values:
        return "FALSE"
    return f"{col} IN ({', '.join(_sql_str(v) for v in sorted(values))})"


@functools.cache
def _country_index() -> dict[str, str]:
    """Lower-cased ISO alpha-3, alpha-2, names and aliases -> alpha-3."""
    from transship.reference import countries

    index: dict[str, str] = {}
    for c in countries():
        for key in (c.iso3, c.iso2, c.name, *c.aliases):
            if key:
                index.setdefault(key.strip().lower(), c.iso3)
    return index


def _to_iso3(col: Any) -> Any:
    """A text column of country codes/names -> ISO alpha-3 (null if unknown), mapping each
    distinct value once (declarations name few countries, so this is cheap at any size)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    enc = pc.dictionary_encode(col).combine_chunks()
    index = _country_index()
    mapped = pa.array(
        [
            index.get(v.strip().lower()) if v is not None else None
            for v in enc.dictionary.to_pylist()
        ],
        pa.string(),
    )
    return pc.take(mapped, enc.indices)


_COUNTRY_COLS = ("origin_country", "destination_country", "exporter_country", "consignee_country")
# A party name a spreadsheet would run instead of show (=HYPERLINK("x","Rosoboronexport")
# screened as its own text was an ALLOW): an input error, never a name. After leading white
# space (OWASP's CSV-injection list: tab, CR), = always; + - @ before a function call, a
# bracket or a cell reference (+F2 shows another cell: a description naming the listed party);
# +7 Group, @Home LLC, -Minus Ltd stay names. RE2 and Python read the pattern alike.
FORMULA_NAME = (
    r"^[ \t\r\n]*(=|[+@-][ \t]*([(]|[A-Za-z_][A-Za-z0-9_.]*[ \t]*[(]"
    r"|[$]?[A-Za-z]{1,3}[$]?[0-9]+([^A-Za-z0-9]|$)))"
)
_NAME_COLS = ("exporter_name", "consignee_name")


@functools.cache  # the same statement every call: built once
def _prepare_sql() -> str:
    # Clean each field once (inner query), then collect every problem of a row (outer).
    country_errors = ",\n".join(
        f"CASE WHEN nullif(trim({c}), '') IS NULL THEN "
        + (f"'{c}: missing'" if c in ("origin_country", "destination_country") else "NULL")
        + f" WHEN _{c} IS NULL THEN '{c}: unknown country ' || {c} END"
        for c in _COUNTRY_COLS
    )
    name_errors = ",\n".join(
        f"CASE WHEN regexp_matches(_{c}, {_sql_str(FORMULA_NAME)}) "
        f"THEN '{c}: a spreadsheet formula, not a name: ' || _{c} END"
        for c in _NAME_COLS
    )
    return f"""
CREATE OR REPLACE TEMP TABLE d AS
WITH c AS (
  SELECT r._row, r.id, r.date, r.hs_code, r.value, r.currency, r._load_error,
    {", ".join(f"r.{c}, r._{c}" for c in _COUNTRY_COLS)},
    TRY_CAST(trim(r.date) AS DATE) AS _date,
    replace(replace(trim(coalesce(r.hs_code, '')), '.', ''), ' ', '') AS _hs,
    TRY_CAST(trim(r.value) AS DOUBLE) AS _value,
    upper(nullif(trim(r.currency), '')) AS _currency,
    nullif(trim(r.exporter_name), '') AS _exporter_name,
    nullif(trim(r.consignee_name), '') AS _consignee_name
  FROM _raw r)
SELECT _row, {", ".join(f"_{c}" for c in _COUNTRY_COLS)}, _date, _hs, _value, _currency,
  _exporter_name, _consignee_name,
  nullif(concat_ws('; ',
    _load_error,
    CASE WHEN nullif(trim(id), '') IS NULL THEN 'id: missing' END,
    CASE WHEN nullif(trim(date), '') IS NULL THEN 'date: missing'
         WHEN _date IS NULL THEN 'date: not a YYYY-MM-DD date: ' || date END,
    CASE WHEN nullif(trim(hs_code), '') IS NULL THEN 'hs_code: missing'
         WHEN NOT regexp_full_match(_hs, '[0-9]{{6,12}}')
         THEN 'hs_code: expected 6 to 12 digits: ' || hs_code END,
    {country_errors},
    CASE WHEN nullif(trim(value), '') IS NOT NULL AND _value IS NULL
         THEN 'value: not a number: ' || value
         WHEN isnan(_value) OR isinf(_value) THEN 'value: not a finite number: ' || value
         WHEN _value < 0 THEN 'value: negative: ' || value END,
    CASE WHEN _currency IS NOT NULL AND NOT regexp_full_match(_currency, '[A-Z]{{3}}')
         THEN 'currency: expected a 3-letter ISO 4217 code: ' || currency END,
    {name_errors}
  ), '') AS _error
FROM c
"""


def _rule_predicate(rule: Rule) -> str:
    s = rule.spec
    parts = ["_error IS NULL"]
    if s.valid_from:
        parts.append(f"_date >= DATE '{s.valid_from.isoformat()}'")
    if s.valid_to:
        parts.append(f"_date <= DATE '{s.valid_to.isoformat()}'")
    if rule.hs_prefixes is not None:
        by_len: dict[int, list[str]] = {}
        for p in rule.hs_prefixes:
            by_len.setdefault(len(p), []).append(p)
        ors = [_in(f"left(_hs, {n})", tuple(ps)) for n, ps in sorted(by_len.items())]
        parts.append("(" + " OR ".join(ors) + ")")
    for cond, codes in rule.countries.items():
        if cond.endswith("_not"):
            col = "_" + cond.removesuffix("_not") + "_country"
            parts.append(f"NOT {_in(col, codes)}")
        else:
            col = f"_{cond}" if cond.endswith("_country") else f"_{cond}_country"
            parts.append(f"coalesce({_in(col, codes)}, FALSE)")
    v = s.when.value_at_least
    if v is not None:
        parts.append(
            f"(_value IS NULL OR _currency IS DISTINCT FROM {_sql_str(v.currency)} "
            f"OR _value >= {float(v.amount)!r})"
        )
    return " AND ".join(parts)


def _rule_note(rule: Rule) -> str:
    """SQL for a row-specific note on the rule's reason (value threshold), or NULL."""
    v = rule.spec.when.value_at_least
    if v is None:
        return "NULL::VARCHAR"
    return (
        f"CASE WHEN _value IS NULL THEN '{rule.id}: no value declared, threshold "
        f"{v.amount:g} {v.currency} assumed met' WHEN _currency IS DISTINCT FROM "
        f"{_sql_str(v.currency)} THEN '{rule.id}: value in ' || coalesce(_currency, "
        f"'no currency') || ', threshold {v.amount:g} {v.currency} not converted, assumed met' "
        "END"
    )


MAX_RULES = 62  # matched rules are collected as bits of one BIGINT per declaration


def _rules_sql(policy: Policy) -> str:
    # One scan per rule; a declaration's matches become a bit mask, so combining them is
    # a bit_or per row and a join with the few distinct masks (see _combos). Notes are
    # listed in rule order (unordered, UNION ALL gave a different order from run to run).
    if len(policy.rules) > MAX_RULES:
        raise UsageError(f"policy {policy.id} has {len(policy.rules)} rules; at most {MAX_RULES}")
    selects = [
        f"SELECT _row, {1 << i}::BIGINT AS bit, {_rule_note(r)} AS note "
        f"FROM d WHERE {_rule_predicate(r)}"
        for i, r in enumerate(policy.rules)
    ]
    return (
        "CREATE OR REPLACE TEMP TABLE m AS SELECT _row, bit_or(bit) AS mask, "
        "string_agg(note, '; ' ORDER BY bit) AS note FROM (\n"
        + "\nUNION ALL\n".join(selects)
        + "\n) "
        "GROUP BY _row"
    )


def _combos(policy: Policy, masks: list[int]) -> Any:
    """Decision, rule ids and reasons for each distinct set of matched rules.

    The highest precedence decides; among equals the most severe action; every rule is
    listed, highest precedence first, the others marked as overridden.
    """
    import pyarrow as pa

    out: dict[str, list[Any]] = {"mask": [], "sev": [], "rules": [], "reasons": []}
    for mask in masks:
        matched = [(i, r) for i, r in enumerate(policy.rules) if mask >> i & 1]
        top = max(r.spec.precedence for _, r in matched)
        ordered = sorted(
            matched, key=lambda x: (-x[1].spec.precedence, -SEVERITY[x[1].action], x[0])
        )
        reasons = []
        for _, r in ordered:
            s = r.spec
            text = f"{s.action} {s.id}: {s.description} [{s.legal_source}]"
            if s.precedence < top:
                text += " (overridden by a rule of higher precedence)"
            reasons.append(text)
        out["mask"].append(mask)
        out["sev"].append(max(SEVERITY[r.action] for _, r in matched if r.spec.precedence == top))
        out["rules"].append(";".join(r.id for _, r in ordered))
        out["reasons"].append(SEP.join(reasons))
    return pa.table(
        {
            "mask": pa.array(out["mask"], pa.int64()),
            "sev": pa.array(out["sev"], pa.int64()),
            "rules": pa.array(out["rules"], pa.string()),
            "reasons": pa.array(out["reasons"], pa.string()),
        }
    )


def _screen_parties(
    con: Any, matcher: Matcher, progress: Progress | None
) -> tuple[Any, dict[int, list[Hit]]]:
    import pyarrow as pa

    parties = con.execute(
        "SELECT DISTINCT name, country FROM ("
        "SELECT _exporter_name AS name, _exporter_country AS country FROM d "
        "WHERE _error IS NULL AND _exporter_name IS NOT NULL UNION ALL "
        "SELECT _consignee_name, _consignee_country FROM d "
        "WHERE _error IS NULL AND _consignee_name IS NOT NULL)"
    ).fetchall()
    cols: dict[str, list[Any]] = {k: [] for k in ("name", "country", "sev", "text", "key")}
    by_key: dict[int, list[Hit]] = {}

    def done(k: int, total: int) -> None:
        if progress:
            progress("parties", k, total)

    found = matcher.screen_many(parties, progress=done)
    for n, ((name, country), hits) in enumerate(zip(parties, found, strict=True), 1):
        if hits:
            by_key[n] = hits
        for h in hits:
            cols["name"].append(name)
            cols["country"].append(country)
            cols["sev"].append(SEVERITY[h.level])
            cols["text"].append(h.describe())
            cols["key"].append(n)
    table = pa.table(
        {
            "name": pa.array(cols["name"], pa.string()),
            "country": pa.array(cols["country"], pa.string()),
            "sev": pa.array(cols["sev"], pa.int64()),
            "text": pa.array(cols["text"], pa.string()),
            "key": pa.array(cols["key"], pa.int64()),
        }
    )
    return table, by_key


_HITS_CTE = """,
ph AS (
  SELECT d._row, 'exporter' AS role, h.sev, h.text, h.key FROM d JOIN _hits h
    ON h.name = d._exporter_name AND h.country IS NOT DISTINCT FROM d._exporter_country
  WHERE d._error IS NULL  -- a malformed row is not screened, whatever its neighbours hit
  UNION ALL
  SELECT d._row, 'consignee', h.sev, h.text, h.key FROM d JOIN _hits h
    ON h.name = d._consignee_name AND h.country IS NOT DISTINCT FROM d._consignee_country
  WHERE d._error IS NULL),
hits AS (
  SELECT _row, max(sev) AS sev,
    string_agg(role || ' ' || text, ' | ' ORDER BY sev DESC, role DESC, text) AS hits,
    string_agg('list hit: ' || role || ' ' || text, ' | ' ORDER BY sev DESC, role DESC, text)
      AS hit_reasons,
    list(DISTINCT role || ':' || key) AS keys
  FROM ph GROUP BY _row)"""
_NO_HITS_CTE = """,
hits AS (SELECT NULL::BIGINT AS _row, NULL::INTEGER AS sev, NULL::VARCHAR AS hits,
  NULL::VARCHAR AS hit_reasons, NULL::VARCHAR[] AS keys WHERE FALSE)"""
_COMBINE = """
WITH rules AS (
  SELECT m._row, c.sev, c.rules,
    CASE WHEN m.note IS NULL THEN c.reasons ELSE c.reasons || ' (' || m.note || ')' END
      AS reasons
  FROM m JOIN _combos c USING (mask)){hits_cte}
SELECT d._row + 1 AS "row",
  CASE WHEN d._error IS NOT NULL THEN 'ERROR'
       ELSE ['ALLOW', 'FLAG', 'BLOCK'][greatest(coalesce(ru.sev, 0), coalesce(h.sev, 0)) + 1]
  END AS decision,
  ru.rules, h.hits,
  CASE WHEN d._error IS NOT NULL THEN NULL
       WHEN ru.reasons IS NULL AND h.hits IS NULL THEN 'no rule applies and no list hit'
       ELSE concat_ws(' | ', ru.reasons, h.hit_reasons)
  END AS reasons,
  d._error AS error,
  h.keys AS _hit_keys
FROM d
LEFT JOIN rules ru USING (_row)
LEFT JOIN hits h USING (_row)
ORDER BY d._row
"""


def screen_table(
    declarations: Any,
    policy: Policy,
    matcher: Matcher | None = None,
    *,
    progress: Progress | None = None,
) -> ScreenResult:
    """Screen an all-text Arrow table of declarations (declarations.conform) in one pass."""
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc

    n = declarations.num_rows
    # The SQL sees the schema's columns and our own, never the input's other columns: an
    # input `_row` or `_destination_country` is passed through below and nothing else.
    internal = {
        "_row": pa.array(range(n), pa.int64()),
        "_load_error": declarations.column(LOAD_ERROR)
        if LOAD_ERROR in declarations.column_names
        else pa.nulls(n, pa.string()),
        **{f"_{c}": _to_iso3(declarations.column(c)) for c in _COUNTRY_COLS},
    }
    raw = pa.table(
        {**{c: declarations.column(c) for c in COLUMNS}, **internal}  # schema names have no "_"
    )
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        con.register("_raw", raw)
        con.execute(_prepare_sql())
        if progress:
            progress("rules", 0, n)
        con.execute(_rules_sql(policy))
        masks = [int(r[0]) for r in con.execute("SELECT DISTINCT mask FROM m").fetchall()]
        con.register("_combos", _combos(policy, masks))
        if progress:
            progress("rules", n, n)
        hits_table, by_key = _screen_parties(con, matcher or Matcher([]), progress)
        con.register("_hits", hits_table)
        cte = _HITS_CTE if hits_table.num_rows else _NO_HITS_CTE
        decided = con.sql(_COMBINE.format(hits_cte=cte)).to_arrow_table()
    finally:
        con.close()
    # Rows come back in input order: add the id and pass the other input columns through.
    out = decided.add_column(1, "id", declarations.column("id"))
    for c in declarations.column_names:
        if c not in OUTPUT_COLUMNS and not is_internal(c):
            out = out.append_column(c, declarations.column(c))
    hit_detail: dict[int, list[Hit]] = {}
    if by_key:
        keys_col = out.column("_hit_keys")
        for i in pc.indices_nonzero(pc.is_valid(keys_col)).to_pylist():
            keys = keys_col[i].as_py()
            hit_detail[i] = [h for k in sorted(keys) for h in by_key[int(k.split(":")[1])]]
    out = out.drop_columns(["_hit_keys"])
    tally = {v["values"]: v["counts"] for v in pc.value_counts(out.column("decision")).to_pylist()}
    counts = {d: tally[d] for d in (*DECISIONS, "ERROR") if tally.get(d)}
    return ScreenResult(
        out,
        policy.id,
        matcher.lists if matcher else [],
        counts,
        hit_detail,
        policy.sha256,
        list(matcher.versions) if matcher else [],
    )
