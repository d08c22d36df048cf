"""The single-declaration fast path (screening/single.py) decides exactly as the vectorised
engine: hundreds of varied declarations (valid, malformed dates, HS codes, countries,
values, currencies; every packaged policy and one with value thresholds; list hits) are
screened both ways and compared field by field, as a batch and one by one."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write
from transship.reference import chpl
from transship.screening import single
from transship.screening.declarations import from_records
from transship.screening.engine import screen_table
from transship.screening.matcher import Matcher, Thresholds
from transship.screening.names import normalize_name
from transship.screening.policies import all_policies, load_policy_file

ENTITIES = [
    ("hand", "e1", "Romashka LLC", ("RUS",), "Company"),
    ("hand", "e2", "Tekhnosfera OOO", ("RUS",), "Company"),
    ("hand", "e3", "Anka Elektronik Ltd. Şti.", ("TUR",), "Company"),
    ("hand", "e4", "Ivan Petrovich Sokolov", ("RUS", "KAZ"), "Person"),
    ("other", "x1", "Silk Road Trading FZE", ("ARE",), "Company"),
    ("other", "x2", "Romashka Holding", (), "Company"),
]
NAMES: list[str | None] = [
    "ООО Ромашка",
    "Romaschka LLC",
    "Romashka",
    "Tekhnosfera",
    "Technosfera OOO",
    "Anka Elektronik",
    "Ivan Sokolov",
    "Sokolov Ivan Petrovich",
    "Silk Road Trading",
    "Nobody Import Export",
    "Atlas Makina A.Ş.",
    "  Romashka LLC  ",
    "\u00a0Romashka\u3000",
    "\tRomashka",
    "",
    "   ",
    None,
]
COUNTRIES = ["RU", "RUS", "Russia", "KZ", "kaz", "TR", "TUR", "US", "USA", "DE", "FRA", "CN"]
COUNTRIES += ["AE", "BY", "AM", "GE", " RU ", "\u00a0RU", "XX", "Narnia", "", "  ", "\tRU"]
DATES = ["2024-11-05", "2024-01-15", "2023-06-30", "2022-02-24", "2024-10-22", "2024-10-21"]
DATES += ["2025-03-01", " 2024-11-05 ", "2024/11/05", "2024-1-5", "2024-11-05 10:00:00"]
DATES += ["2024-02-30", "2024-13-01", "05.11.2024", "not-a-date", "", "   ", "20241105"]
DATES += ["\u00a02024-11-05", "\t2024-11-05", "24-11-05", "2024-11-5x"]
VALUES = ["12000", "12000.0", "500", "1e5", ".5", "-5", "-0", "1_000", "nan", "inf", "-inf"]
VALUES += ["1,000", "twelve", "", " 7 ", "100001", "99999.99", None]
CURRENCIES = ["USD", "usd", " EUR ", "TRY", "US", "DOLLAR", "", "ß€$", None]


def _matcher() -> Matcher:
    rows = [
        (lst, eid, name, name, normalize_name(name), list(c), "TEST", schema)
        for lst, eid, name, c, schema in ENTITIES
    ]
    return Matcher.from_rows(rows, Thresholds())


def _hs(rnd: random.Random, codes: list[str]) -> str | None:
    pick = rnd.random()
    if pick < 0.55:
        return rnd.choice(codes) + rnd.choice(["", "00", "0010", "001099"])
    if pick < 0.65:
        c = rnd.choice(codes)
        return f"{c[:4]}.{c[4:]}" + rnd.choice(["", " 10"])
    return rnd.choice(["620342", "847130", "85", "8542a1", "1234567890123", "", None, " "])


def declarations(n: int, seed: int) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    codes = [i.hs6 for i in chpl()]
    out: list[dict[str, Any]] = []
    for i in range(n):
        d: dict[str, Any] = {
            "id": rnd.choice([f"D{i}", f"D{i}", f"D{i}", "", "  "]),
            "date": rnd.choice(DATES),
            "origin_country": rnd.choice(COUNTRIES[:12] * 3 + COUNTRIES),
            "destination_country": rnd.choice(COUNTRIES[:6] * 3 + COUNTRIES),
            "hs_code": _hs(rnd, codes),
            "exporter_name": rnd.choice(NAMES),
            "exporter_country": rnd.choice([*COUNTRIES, None]),
            "consignee_name": rnd.choice(NAMES),
            "consignee_country": rnd.choice([*COUNTRIES, None]),
            "value": rnd.choice(VALUES),
            "currency": rnd.choice(CURRENCIES),
        }
        if rnd.random() < 0.2:
            d["broker_ref"] = f"B{i}"  # passed through
        if rnd.random() < 0.05:
            d["hs_code"] = None
        out.append({k: v for k, v in d.items() if v is not None or rnd.random() < 0.5})
    return out


VALUE_POLICY = """
id: value-test
title: value thresholds
jurisdiction: XX
description: rules with value thresholds, overrides and exclusions (test only)
source_date: 2024-01-01
retrieved: 2024-01-01
sources: [{title: test}]
rules:
  - id: big-chpl-russia
    description: CHPL goods of at least 10,000 USD to Russia
    legal_source: test
    valid_from: 2024-01-01
    valid_to: 2024-12-31
    when: {products: chpl, destination: russia, value_at_least: {amount: 10000, currency: USD}}
    action: BLOCK
  - id: any-to-russia-over-100k
    description: anything over 100,000 USD to Russia
    legal_source: test
    when: {destination: russia, value_at_least: {amount: 100000, currency: USD}}
    action: FLAG
  - id: not-from-eu
    description: CHPL goods not of EU origin, to Kazakhstan
    legal_source: test
    when: {products: "chpl:tier1 + 8471", origin_not: eu27, destination: kaz}
    action: FLAG
    precedence: 1
  - id: licence-de
    description: a licence for German exporters
    legal_source: test
    when: {exporter_country: DEU, destination_not: "belarus"}
    action: ALLOW
    precedence: 5
  - id: consignee-ru
    description: consignee in Russia
    legal_source: test
    when: {consignee_country: russia}
    action: FLAG
"""


def _policies(tmp_path: Path) -> list[Any]:
    return [*all_policies(), load_policy_file(write(tmp_path / "value.yaml", VALUE_POLICY))]


def _same(a: Any, b: Any) -> None:
    assert a.policy == b.policy and a.lists == b.lists and a.counts == b.counts
    assert a.policy_sha256 == b.policy_sha256 and a.list_versions == b.list_versions
    assert a.table.column_names == b.table.column_names
    rows_a, rows_b = a.table.to_pylist(), b.table.to_pylist()
    for ra, rb in zip(rows_a, rows_b, strict=True):
        for k in ra:
            assert ra[k] == rb[k], (k, ra, rb)
    assert {k: [h.as_dict() for h in v] for k, v in a.hits.items()} == {
        k: [h.as_dict() for h in v] for k, v in b.hits.items()
    }


def test_fast_path_equals_engine_on_a_varied_batch(tmp_path: Path) -> None:
    matcher = _matcher()
    table = from_records(declarations(400, seed=1))
    seen = set()
    for policy in _policies(tmp_path):
        ref = screen_table(table, policy, matcher)
        _same(single.screen_table(table, policy, matcher), ref)
        seen |= set(ref.counts)
        rules = {r for r in ref.table.column("rules").to_pylist() if r}
        assert rules, f"no rule of {policy.id} applied: the sample is too narrow"
    # the sample exercises every outcome, hits and value notes
    assert seen == {"ALLOW", "FLAG", "BLOCK", "ERROR"}
    reasons = " ".join(r or "" for r in ref.table.column("reasons").to_pylist())
    assert "no value declared" in reasons and "not converted, assumed met" in reasons
    assert ref.hits


@pytest.mark.slow  # the engine's fixed cost per call is what the fast path removes
def test_fast_path_equals_engine_one_declaration_at_a_time(tmp_path: Path) -> None:
    matcher = _matcher()
    records = declarations(100, seed=2)
    policies = _policies(tmp_path)
    for i, rec in enumerate(records):
        for required in ("id", "date", "origin_country", "destination_country", "hs_code"):
            rec.setdefault(required, None)  # a column of the file, empty in this row
        table = from_records([rec])
        policy = policies[i % len(policies)]
        _same(single.screen_table(table, policy, matcher), screen_table(table, policy, matcher))


def test_no_list_and_no_matcher_as_engine(tmp_path: Path) -> None:
    table = from_records(declarations(60, seed=3))
    for policy in _policies(tmp_path):
        _same(single.screen_table(table, policy), screen_table(table, policy))
        _same(single.screen_table(table, policy, Matcher([])), screen_table(table, policy))


# Two cases in the quick loop (a negative year, infinity), every case in the full run.
@pytest.mark.parametrize(
    "date",
    ["-2024-11-05", "infinity"]
    + [
        pytest.param(d, marks=pytest.mark.slow)
        for d in ("0000-01-01", "12024-11-05", "2024-11-05 (BC)", "epoch")
    ],
)
def test_dates_python_cannot_hold_take_the_engine_path(date: str, tmp_path: Path) -> None:
    rec = {**declarations(1, seed=4)[0], "date": date, "id": "D"}
    table = from_records([rec])
    for policy in _policies(tmp_path):
        _same(
            single.screen_table(table, policy, _matcher()), screen_table(table, policy, _matcher())
        )


@pytest.mark.slow(reason="screens against the real OFAC SDN list both ways (4.2 s)")
def test_real_ofac_sdn_hits_agree(shared_data: Path, tmp_path: Path) -> None:
    from transship.screening import load_lists
    from transship.warehouse import open_warehouse

    sdn = sorted((shared_data / "sanctions-lists" / "ofac-sdn").glob("2024-*/sdn.csv"))
    if not sdn:
        pytest.skip(f"no 2024 OFAC SDN sdn.csv under {shared_data}/sanctions-lists/ofac-sdn")
    import csv

    with sdn[-1].open(encoding="latin-1", newline="") as fh:
        names = [r[1] for r in csv.reader(fh) if len(r) > 3 and "RUSSIA" in r[3]]
    wh = tmp_path / "w.duckdb"
    load_lists(wh, "ofac-sdn", [sdn[-1]])
    with open_warehouse(wh) as w:
        matcher = Matcher.from_warehouse(w.con, ["ofac-sdn"])
    rnd = random.Random(5)
    recs = declarations(120, seed=5)
    for r in recs[:80]:  # well-formed declarations to Russia naming listed parties
        # (a NaN or infinite value is a row error since issue 12: give a finite one)
        r.update(date="2024-11-05", hs_code="854231", origin_country="US", id="S", value="12000")
        r.update(destination_country="RU", consignee_country=rnd.choice(["RU", "TR", None]))
        r["consignee_name"] = rnd.choice(names)
    table = from_records(recs)
    for policy in all_policies():
        ref = screen_table(table, policy, matcher)
        _same(single.screen_table(table, policy, matcher), ref)
    assert sum(1 for h in ref.table.column("hits").to_pylist() if h) >= 40


def test_party_cache_gives_the_matchers_answers(tmp_path: Path) -> None:
    from transship.screening.cache import CachedMatcher

    plain = _matcher()
    table = from_records(declarations(200, seed=6))
    for size in (8, 10_000):
        cached = CachedMatcher(plain, size=size)
        for policy in _policies(tmp_path)[:2]:  # the second policy meets the same parties
            _same(single.screen_table(table, policy, cached), screen_table(table, policy, plain))
        assert len(cached._hits) <= size
        assert cached.lists == plain.lists and cached.versions == plain.versions
    assert cached.hits_served > 0 and cached.misses == len(cached._hits)


# A name's core under legal forms and countries: the variants that share retrieval.
CORES = ["Romashka", "Romaschka", "Tekhnosfera", "Anka Elektronik", "Ivan Petrovich Sokolov"]
CORES += ["Sokolov Ivan", "Silk Road Trading", "Nobody Import", "Romashka Holding", "RH"]
FORMS = ["", "LLC", "OOO", "\u041e\u041e\u041e", "Ltd. Şti.", "GmbH", "FZE", "Holding", "A.Ş."]


def _variants(cores: list[str]) -> list[tuple[str, str | None]]:
    """Each (name, country) once: a repeat would be the party cache's."""
    return list(
        dict.fromkeys(
            (f"{f} {core}".strip() if f.startswith("\u041e") else f"{core} {f}".strip(), c)
            for core in cores
            for f in FORMS
            for c in (None, "RUS", "TUR", "ARE")
        )
    )


def _prescreen_cache_agrees(plain: Matcher, parties: list[tuple[str, str | None]]) -> None:
    from transship.screening.cache import CachedMatcher

    for size in (5, 10_000):
        cached = CachedMatcher(plain, size=size)
        for name, country in parties:  # each (name, country) new: the party cache misses
            assert cached.screen(name, country) == plain.screen(name, country), (name, country)
        assert cached.found_served > 0 and len(cached._found) <= size
    # every name went through the cache: retrieved once per (core, keys), served after
    assert len(cached._found) + cached.found_served == len(parties)


def test_prescreen_cache_gives_the_matchers_answers() -> None:
    """CachedMatcher keeps the candidates retrieved for a name's core and retrieval keys:
    its legal-form and country variants reuse them and get exactly the matcher's hits."""
    _prescreen_cache_agrees(_matcher(), _variants(CORES))


@pytest.mark.slow(reason="loads the real OFAC SDN list (~5 s)")
def test_prescreen_cache_agrees_on_the_real_ofac_sdn(shared_data: Path, tmp_path: Path) -> None:
    import csv

    from transship.screening import load_lists
    from transship.warehouse import open_warehouse

    sdn = sorted((shared_data / "sanctions-lists" / "ofac-sdn").glob("2024-*/sdn.csv"))
    if not sdn:
        pytest.skip(f"no 2024 OFAC SDN sdn.csv under {shared_data}/sanctions-lists/ofac-sdn")
    with sdn[-1].open(encoding="latin-1", newline="") as fh:
        names = [r[1] for r in csv.reader(fh) if len(r) > 3 and "RUSSIA" in r[3]]
    wh = tmp_path / "w.duckdb"
    load_lists(wh, "ofac-sdn", [sdn[-1]])
    with open_warehouse(wh) as w:
        plain = Matcher.from_warehouse(w.con, ["ofac-sdn"])
    _prescreen_cache_agrees(plain, _variants(names[:40] + CORES))
