"""Policies and rules: validity dates, precedence, HS prefixes, per-row errors, YAML errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import write
from transship.errors import InputError
from transship.reference import chpl, groups
from transship.screening.declarations import from_records, read_declarations
from transship.screening.engine import screen_table
from transship.screening.policies import all_policies, load_policy, load_policy_file

BASE = {
    "id": "D",
    "date": "2024-11-05",
    "origin_country": "USA",
    "destination_country": "RUS",
    "hs_code": "854231",
}


def decide(policy: str, **overrides: str) -> dict[str, object]:
    rec = {**BASE, **overrides}
    return screen_table(from_records([rec]), load_policy(policy)).table.to_pylist()[0]


def test_shipped_policies_are_sourced_and_cover_three_jurisdictions() -> None:
    pols = {p.id: p for p in all_policies()}
    assert set(pols) == {"tr-customs-2024", "eu-annex-xl", "us-bis-chpl"}
    for p in pols.values():
        assert p.spec.sources and all(s.title for s in p.spec.sources)
        assert all(r.spec.legal_source for r in p.rules)


def test_every_chpl_code_is_blocked_us_origin_to_russia_after_the_reported_date() -> None:
    codes = [i.hs6 for i in chpl()]
    assert len(codes) == 50
    recs = [{**BASE, "id": c, "hs_code": c} for c in codes]
    out = screen_table(from_records(recs), load_policy("tr-customs-2024")).table
    assert out.column("decision").to_pylist() == ["BLOCK"] * 50


def test_validity_dates() -> None:
    # tr-us-chpl-russia starts on the FT report date, 2024-10-22
    assert decide("tr-customs-2024", date="2024-10-21")["decision"] == "ALLOW"
    assert decide("tr-customs-2024", date="2024-10-22")["decision"] == "BLOCK"
    # EU Art. 12g FLAG applies from 2024-03-20
    kaz = {"destination_country": "KAZ"}
    assert decide("eu-annex-xl", date="2024-03-19", **kaz)["decision"] == "ALLOW"
    assert decide("eu-annex-xl", date="2024-03-20", **kaz)["decision"] == "FLAG"


def test_ten_digit_national_codes_fall_under_six_digit_rules() -> None:
    assert decide("tr-customs-2024", hs_code="8542.31.00.10")["decision"] == "BLOCK"
    assert decide("tr-customs-2024", hs_code="854231001099")["rules"] == "tr-us-chpl-russia"
    # 854230 is not a CHPL code (854231 is): a prefix must match, not a near code
    assert decide("tr-customs-2024", hs_code="8542300010")["decision"] == "ALLOW"


def test_origin_and_intermediaries_as_reported() -> None:
    assert decide("tr-customs-2024", origin_country="CHN")["decision"] == "ALLOW"
    assert decide("tr-customs-2024", origin_country="DE")["rules"] == "tr-eu-chpl-russia"
    # intermediaries are not covered by the Turkish block ...
    assert decide("tr-customs-2024", destination_country="KZ")["decision"] == "ALLOW"
    # ... but BIS flags every transshipment point it named
    hubs = groups()["transshipment_points_2022"].countries
    assert "KAZ" in hubs
    assert decide("us-bis-chpl", destination_country="KZ")["decision"] == "FLAG"


def test_us_tiers_block_only_tier_1_2_and_report_every_rule() -> None:
    tier3 = next(i.hs6 for i in chpl(tiers=["3"]))
    row = decide("us-bis-chpl", hs_code=tier3)
    assert row["decision"] == "FLAG" and row["rules"] == "us-chpl-russia-belarus"
    row = decide("us-bis-chpl")
    assert row["decision"] == "BLOCK"
    assert row["rules"] == "us-chpl-t12-russia-belarus;us-chpl-russia-belarus"
    assert "15 CFR 746.8" in str(row["reasons"])


POLICY = """\
id: test-precedence
title: test
jurisdiction: XX
description: precedence test
source_date: 2024-01-01
retrieved: 2024-01-01
sources:
  - title: hand-written
rules:
  - id: block-chips
    description: chips to Russia
    legal_source: test
    when: {products: "8542", destination: russia}
    action: BLOCK
    precedence: 10
  - id: licence
    description: licensed exporter
    legal_source: test licence
    valid_from: 2024-01-01
    valid_to: 2024-06-30
    when: {products: "854231", destination: russia, exporter_country: DEU}
    action: ALLOW
    precedence: 20
  - id: flag-big
    description: large chip shipments
    legal_source: test
    when:
      products: "8542"
      value_at_least: {amount: 10000, currency: USD}
    action: FLAG
    precedence: 10
"""


def test_precedence_allow_overrides_block_and_equal_precedence_takes_most_severe(
    tmp_path: Path,
) -> None:
    p = write(tmp_path / "p.yaml", POLICY)
    pol = load_policy(p)
    recs = [
        {**BASE, "id": "lic", "date": "2024-05-01", "exporter_country": "DEU", "value": "50000"},
        {**BASE, "id": "expired", "date": "2024-07-01", "exporter_country": "DEU"},
        {**BASE, "id": "big", "destination_country": "KAZ", "value": "10000", "currency": "USD"},
        {**BASE, "id": "small", "destination_country": "KAZ", "value": "9999.5", "currency": "USD"},
        {**BASE, "id": "eur", "destination_country": "KAZ", "value": "5", "currency": "EUR"},
    ]
    rows = {r["id"]: r for r in screen_table(from_records(recs), pol).table.to_pylist()}
    assert rows["lic"]["decision"] == "ALLOW"
    assert rows["lic"]["rules"] == "licence;block-chips;flag-big"
    assert "overridden by a rule of higher precedence" in str(rows["lic"]["reasons"])
    assert rows["expired"]["decision"] == "BLOCK"
    assert rows["big"]["decision"] == "FLAG"
    assert rows["small"]["decision"] == "ALLOW"
    assert rows["eur"]["decision"] == "FLAG"
    assert "not converted" in str(rows["eur"]["reasons"])


@pytest.mark.parametrize(
    ("old", "new", "marker", "field"),
    [
        ("    action: FLAG\n", "    action: STOP\n", "action: STOP", "rules.2.action"),
        (
            "destination: russia, exporter",
            "destination: narnia, exporter",
            "narnia",
            "rules.1.when.destination",
        ),
        ("valid_to: 2024-06-30", "valid_to: 2023-06-30", "valid_to", "rules.1.valid_to"),
        ("    legal_source: test licence\n", "", "- id: licence", "rules.1.legal_source"),
        ('products: "8542", dest', 'products: "85423", dest', "85423", "rules.0.when.products"),
    ],
)
def test_invalid_policy_names_line_and_field(
    tmp_path: Path, old: str, new: str, marker: str, field: str
) -> None:
    assert old in POLICY
    text = POLICY.replace(old, new, 1)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if marker in t)
    p = write(tmp_path / "bad.yaml", text)
    with pytest.raises(InputError) as e:
        load_policy_file(p)
    assert e.value.line == line, e.value
    assert e.value.column == field, e.value
    assert f"bad.yaml:{line}" in str(e.value)


def test_malformed_rows_get_errors_and_the_rest_are_screened(tmp_path: Path) -> None:
    f = write(
        tmp_path / "d.csv",
        "id,date,origin_country,destination_country,hs_code,value,extra\n"
        "ok,2024-11-05,US,RU,854231,1,keep me\n"
        "badhs,2024-11-05,US,RU,85A231,1,x\n"
        ",2024-13-05,US,Narnia,854231,abc,y\n"
        "short,2024-11-05,US,RU,8542,1,z\n",
    )
    out = screen_table(read_declarations(f), load_policy("tr-customs-2024")).table.to_pylist()
    assert [r["decision"] for r in out] == ["BLOCK", "ERROR", "ERROR", "ERROR"]
    assert out[0]["extra"] == "keep me" and out[0]["row"] == 1
    assert "hs_code" in out[1]["error"]
    err = out[2]["error"]
    assert "id: missing" in err and "date" in err and "Narnia" in err and "value" in err
    assert "6 to 12 digits" in out[3]["error"]


def test_missing_required_column_is_rejected_with_file(tmp_path: Path) -> None:
    f = write(tmp_path / "d.csv", "id,date,origin_country,hs_code\n1,2024-01-01,US,854231\n")
    with pytest.raises(InputError, match="destination_country") as e:
        read_declarations(f)
    assert e.value.file == str(f)


def test_parquet_and_nested_json_read_like_csv(tmp_path: Path) -> None:
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    rec = {**BASE, "value": 12.5, "exporter": {"name": "Acme", "country": "TR"}}
    (tmp_path / "d.json").write_text(json.dumps([rec]), encoding="utf-8")
    pq.write_table(pa.Table.from_pylist([{**BASE, "value": 12.5}]), tmp_path / "d.parquet")
    pol = load_policy("tr-customs-2024")
    j = screen_table(read_declarations(tmp_path / "d.json"), pol).table.to_pylist()[0]
    q = screen_table(read_declarations(tmp_path / "d.parquet"), pol).table.to_pylist()[0]
    assert j["decision"] == q["decision"] == "BLOCK"
    assert j["exporter_name"] == "Acme" and j["value"] == "12.5"


def test_ragged_csv_lines_become_error_rows_naming_the_line(tmp_path: Path) -> None:
    f = write(
        tmp_path / "d.csv",
        "id,date,origin_country,destination_country,hs_code\n"
        "a,2024-11-05,US,RU,854231\n"
        "b,2024-11-05,US,RU,854231,extra\n"
        "c,2024-11-05,US,RU\n"
        "d,2024-11-05,US,KZ,854231\n",
    )
    rows = screen_table(read_declarations(f), load_policy("tr-customs-2024")).table.to_pylist()
    got = {r["id"]: r for r in rows}
    assert [got[i]["decision"] for i in "abcd"] == ["BLOCK", "ERROR", "ERROR", "ALLOW"]
    assert got["b"]["error"].startswith("line 3: too many columns")
    assert got["c"]["error"].startswith("line 4: missing columns")
    assert "_load_error" not in rows[0]
