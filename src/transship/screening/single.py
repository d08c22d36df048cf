"""A few declarations without SQL: the same decisions as `engine.screen_table`, in Python.

The vectorised engine pays a fixed ~10-100 ms per call (a DuckDB connection, a table, a
dozen statements) that is nothing for a file and everything for one HTTP request. This
module evaluates the same compiled policy rules in plain Python and the same in-memory
matcher, and builds the same output table, field for field (tests/test_screening_fast.py
screens hundreds of varied declarations both ways and compares every field).

Exactness rests on reproducing what the SQL does with text:
- `trim()` in DuckDB strips exactly the Unicode space separators (category Zs: measured over
  every code point with DuckDB 1.x/2.x), not tabs or newlines; `_trim` does the same.
- dates and numbers in their canonical forms (`2024-11-05`, `12000`, `1.5e3`) are parsed
  here; any other spelling (`2024/11/5`, `1_000`, `nan`, a timestamp) is cast by DuckDB
  itself on one shared in-memory connection (results cached), so DuckDB's lenient parsing
  is never re-guessed; a value that Python cannot hold (a BC date, year 10000, infinity)
  sends the whole call to the vectorised engine.
- DuckDB orders NaN above every number: `NaN >= x` is true, `NaN < 0` false.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections import OrderedDict
from datetime import date
from typing import Any

from transship.errors import UsageError
from transship.screening import engine
from transship.screening.declarations import LOAD_ERROR, is_internal
from transship.screening.matcher import Hit, Matcher
from transship.screening.policies import SEVERITY, Policy, Rule

# Unicode category Zs, the characters DuckDB's trim() removes (and only these).
_ZS = (
    "\u0020\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u202f\u205f\u3000"
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HS = re.compile(r"[0-9]{6,12}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_REQUIRED_COUNTRIES = ("origin_country", "destination_country")
_FORMULA = re.compile(engine.FORMULA_NAME)


class _NotRepresentable(Exception):
    """A value DuckDB accepts but Python's types cannot hold: use the vectorised engine."""


def _trim(s: str) -> str:
    return s.strip(_ZS)


def _blank(s: str | None) -> bool:
    """SQL `nullif(trim(s), '') IS NULL`."""
    return s is None or not _trim(s)


_duck_lock = threading.Lock()
_duck_con: Any = None


@functools.lru_cache(maxsize=4096)
def _duck(sql: str, value: str) -> Any:
    """One scalar from DuckDB for a value outside the canonical forms (rare; cached)."""
    global _duck_con
    import duckdb

    with _duck_lock:
        if _duck_con is None:
            _duck_con = duckdb.connect()
        row = _duck_con.execute(sql, [value]).fetchone()
        return None if row is None else row[0]


def _parse_date(trimmed: str) -> date | None:
    """SQL `TRY_CAST(trimmed AS DATE)`."""
    if _DATE.fullmatch(trimmed) and not trimmed.startswith("0000"):
        try:
            return date.fromisoformat(trimmed)
        except ValueError:
            return None  # month 13, 30 February: DuckDB refuses them too
    text = _duck("SELECT CAST(TRY_CAST(? AS DATE) AS VARCHAR)", trimmed)
    if text is None:
        return None
    if not _DATE.fullmatch(text) or text.startswith("0000"):
        raise _NotRepresentable(text)  # '0044-03-15 (BC)', 'infinity', '12024-01-01'
    return date.fromisoformat(text)


def _parse_double(trimmed: str) -> float | None:
    """SQL `TRY_CAST(trimmed AS DOUBLE)`."""
    if _NUMBER.fullmatch(trimmed):
        return float(trimmed)  # both correctly rounded
    if not trimmed:
        return None
    out = _duck("SELECT TRY_CAST(? AS DOUBLE)", trimmed)
    return None if out is None else float(out)


def _upper(s: str) -> str:
    """SQL `upper(s)` (DuckDB's Unicode mapping differs from Python's outside ASCII)."""
    if s.isascii():
        return s.upper()
    out: str = _duck("SELECT upper(?)", s)
    return out


class _Row:
    """One declaration's cleaned fields and problems (the SQL's table `d`)."""

    __slots__ = (
        "consignee_name",
        "countries",
        "currency",
        "date",
        "error",
        "exporter_name",
        "hs",
        "value",
    )

    def __init__(self, r: dict[str, Any]) -> None:
        index = engine._country_index()
        self.countries: dict[str, str | None] = {}
        for c in engine._COUNTRY_COLS:
            v = r.get(c)
            self.countries[c] = index.get(v.strip().lower()) if v is not None else None
        raw_date, raw_hs = r.get("date"), r.get("hs_code")
        raw_value, raw_cur = r.get("value"), r.get("currency")
        self.date = None if raw_date is None else _parse_date(_trim(raw_date))
        self.hs = _trim(raw_hs or "").replace(".", "").replace(" ", "")
        self.value = None if raw_value is None else _parse_double(_trim(raw_value))
        cur = None if raw_cur is None else _trim(raw_cur) or None
        self.currency = None if cur is None else _upper(cur)
        self.exporter_name = _name(r.get("exporter_name"))
        self.consignee_name = _name(r.get("consignee_name"))
        problems: list[str] = []
        if r.get(LOAD_ERROR) is not None:
            problems.append(r[LOAD_ERROR])
        if _blank(r.get("id")):
            problems.append("id: missing")
        if _blank(raw_date):
            problems.append("date: missing")
        elif self.date is None:
            problems.append(f"date: not a YYYY-MM-DD date: {raw_date}")
        if _blank(raw_hs):
            problems.append("hs_code: missing")
        elif not _HS.fullmatch(self.hs):
            problems.append(f"hs_code: expected 6 to 12 digits: {raw_hs}")
        for c in engine._COUNTRY_COLS:
            v = r.get(c)
            if _blank(v):
                if c in _REQUIRED_COUNTRIES:
                    problems.append(f"{c}: missing")
            elif self.countries[c] is None:
                problems.append(f"{c}: unknown country {v}")
        if not _blank(raw_value) and self.value is None:
            problems.append(f"value: not a number: {raw_value}")
        elif self.value is not None and not math.isfinite(self.value):  # as engine.py
            problems.append(f"value: not a finite number: {raw_value}")
        elif self.value is not None and self.value < 0:
            problems.append(f"value: negative: {raw_value}")
        if self.currency is not None and not _CURRENCY.fullmatch(self.currency):
            problems.append(f"currency: expected a 3-letter ISO 4217 code: {raw_cur}")
        for c, name in (
            ("exporter_name", self.exporter_name),
            ("consignee_name", self.consignee_name),
        ):
            if name is not None and _FORMULA.match(name):
                problems.append(f"{c}: a spreadsheet formula, not a name: {name}")
        self.error = "; ".join(problems) or None


def _name(v: str | None) -> str | None:
    return None if v is None else _trim(v) or None


class _CompiledRule:
    """One rule as a Python predicate over a clean row (engine._rule_predicate in SQL)."""

    def __init__(self, rule: Rule) -> None:
        s = rule.spec
        self.id = rule.id
        self.valid_from, self.valid_to = s.valid_from, s.valid_to
        self.prefixes: dict[int, frozenset[str]] | None = None
        if rule.hs_prefixes is not None:
            by_len: dict[int, set[str]] = {}
            for p in rule.hs_prefixes:
                by_len.setdefault(len(p), set()).add(p)
            self.prefixes = {n: frozenset(ps) for n, ps in by_len.items()}
        # (column, codes, negated)
        self.countries: list[tuple[str, frozenset[str], bool]] = []
        for cond, codes in rule.countries.items():
            if cond.endswith("_not"):
                self.countries.append((cond.removesuffix("_not") + "_country", codes, True))
            else:
                col = cond if cond.endswith("_country") else f"{cond}_country"
                self.countries.append((col, codes, False))
        self.value = s.when.value_at_least

    def applies(self, row: _Row) -> bool:
        d = row.date
        assert d is not None  # rows with an error never reach the rules
        if self.valid_from and d < self.valid_from:
            return False
        if self.valid_to and d > self.valid_to:
            return False
        if self.prefixes is not None and not any(
            row.hs[:n] in ps for n, ps in self.prefixes.items()
        ):
            return False
        for col, codes, negated in self.countries:
            v = row.countries[col]
            if negated:
                # NOT (v IN ()) is TRUE even for NULL; NOT (NULL IN (...)) is NULL: no match.
                if codes and (v is None or v in codes):
                    return False
            elif v is None or v not in codes:
                return False
        t = self.value
        # NULL value or another currency: assumed met (the note says so); NaN >= x in DuckDB
        return (
            t is None
            or row.value is None
            or row.currency != t.currency
            or math.isnan(row.value)
            or row.value >= float(t.amount)
        )

    def note(self, row: _Row) -> str | None:
        t = self.value
        if t is None:
            return None
        if row.value is None:
            return f"{self.id}: no value declared, threshold {t.amount:g} {t.currency} assumed met"
        if row.currency != t.currency:
            return (
                f"{self.id}: value in {row.currency or 'no currency'}, threshold "
                f"{t.amount:g} {t.currency} not converted, assumed met"
            )
        return None


class _CompiledPolicy:
    def __init__(self, policy: Policy) -> None:
        if len(policy.rules) > engine.MAX_RULES:
            raise UsageError(
                f"policy {policy.id} has {len(policy.rules)} rules; at most {engine.MAX_RULES}"
            )
        self.policy = policy
        self.rules = [_CompiledRule(r) for r in policy.rules]
        self._combos: dict[int, tuple[int, str, str]] = {}

    def combo(self, mask: int) -> tuple[int, str, str]:
        """(severity, rule ids, reasons) of a set of matched rules: engine._combos itself,
        so precedence and wording cannot drift apart."""
        got = self._combos.get(mask)
        if got is None:
            t = engine._combos(self.policy, [mask]).to_pylist()[0]
            got = (int(t["sev"]), str(t["rules"]), str(t["reasons"]))
            if len(self._combos) < 4096:
                self._combos[mask] = got
        return got


_compiled: OrderedDict[int, _CompiledPolicy] = OrderedDict()
_compiled_lock = threading.Lock()


def _compile(policy: Policy) -> _CompiledPolicy:
    # Keyed by object identity (load_policy caches one object per file version); the entry
    # holds the policy itself so the id cannot be reused while cached. A few are kept.
    with _compiled_lock:
        got = _compiled.get(id(policy))
        if got is None or got.policy is not policy:
            got = _CompiledPolicy(policy)
            _compiled[id(policy)] = got
            while len(_compiled) > 16:
                _compiled.popitem(last=False)
        _compiled.move_to_end(id(policy))
        return got


def screen_table(
    declarations: Any, policy: Policy, matcher: Matcher | None = None
) -> engine.ScreenResult:
    """`engine.screen_table` for a few declarations, in Python: same input, same result."""
    try:
        return _screen(declarations, _compile(policy), matcher or Matcher([]))
    except _NotRepresentable:
        return engine.screen_table(declarations, policy, matcher)


def _screen(declarations: Any, cp: _CompiledPolicy, matcher: Matcher) -> engine.ScreenResult:
    import pyarrow as pa

    records = declarations.to_pylist()
    cols: dict[str, list[Any]] = {c: [] for c in engine.OUTPUT_COLUMNS}
    detail: dict[int, list[Hit]] = {}
    screened: dict[tuple[str, str | None], list[Hit]] = {}
    for i, r in enumerate(records):
        row = _Row(r)
        rules = reasons = hits_text = hit_reasons = None
        decision = "ERROR"
        if row.error is None:
            mask, notes = 0, []
            for bit, rule in enumerate(cp.rules):
                if rule.applies(row):
                    mask |= 1 << bit
                    note = rule.note(row)
                    if note is not None:
                        notes.append(note)
            rule_sev: int | None = None
            rule_reasons = None
            if mask:
                rule_sev, rules, rule_reasons = cp.combo(mask)
                if notes:
                    rule_reasons += " (" + "; ".join(notes) + ")"
            found: list[tuple[int, str, str]] = []
            by_role: dict[str, list[Hit]] = {}
            for role, name, country in (
                ("exporter", row.exporter_name, row.countries["exporter_country"]),
                ("consignee", row.consignee_name, row.countries["consignee_country"]),
            ):
                if name is None:
                    continue
                key = (name, country)
                if key not in screened:
                    screened[key] = matcher.screen(name, country)
                if screened[key]:
                    by_role[role] = screened[key]
                found += [(SEVERITY[h.level], role, h.describe()) for h in screened[key]]
            # ORDER BY sev DESC, role DESC, text (exporter before consignee)
            found.sort(key=lambda x: (-x[0], x[1] != "exporter", x[2]))
            hit_sev = max((f[0] for f in found), default=None)
            if found:
                hits_text = engine.SEP.join(f"{role} {text}" for _, role, text in found)
                hit_reasons = engine.SEP.join(f"list hit: {role} {text}" for _, role, text in found)
                # engine: hits of each role's party, keys sorted (consignee:, exporter:)
                detail[i] = [h for role in ("consignee", "exporter") for h in by_role.get(role, [])]
            decision = engine.DECISIONS[max(rule_sev or 0, hit_sev or 0)]
            if rule_reasons is None and hits_text is None:
                reasons = "no rule applies and no list hit"
            else:
                reasons = engine.SEP.join(x for x in (rule_reasons, hit_reasons) if x is not None)
        cols["row"].append(i + 1)
        cols["id"].append(r.get("id"))
        cols["decision"].append(decision)
        cols["rules"].append(rules)
        cols["hits"].append(hits_text)
        cols["reasons"].append(reasons)
        cols["error"].append(row.error)
    out = pa.table(
        {
            "row": pa.array(cols["row"], pa.int64()),
            **{c: pa.array(cols[c], pa.string()) for c in engine.OUTPUT_COLUMNS[1:]},
        }
    )
    for c in declarations.column_names:
        if c not in engine.OUTPUT_COLUMNS and not is_internal(c):
            out = out.append_column(c, declarations.column(c))
    tally: dict[str, int] = {}
    for d in cols["decision"]:
        tally[d] = tally.get(d, 0) + 1
    counts = {d: tally[d] for d in (*engine.DECISIONS, "ERROR") if tally.get(d)}
    return engine.ScreenResult(
        out,
        cp.policy.id,
        matcher.lists,
        counts,
        detail,
        cp.policy.sha256,
        list(matcher.versions),
    )
