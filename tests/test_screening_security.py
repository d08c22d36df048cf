"""Issue 12 bypasses in matching and input: each of these turned a BLOCK into an ALLOW (or a
500) before the fix. The controls over HTTP (policies, lists, tokens, hostile JSON) are in
tests/test_api_security.py."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import write
from transship.screening.lists import load_list
from transship.screening.matcher import Matcher
from transship.screening.normalize import (
    CONFUSABLES,
    FORMAT_CHARS,
    JOINED,
    SPACES,
    clean_name,
    joined_forms,
    prepare_query,
)

# Variants of the listed "Rosoboroneksport" an attacker (or a sloppy form) may send.
SPOOFS = {
    "zero-width space": "Roso\u200bboroneksport",
    "soft hyphen": "Rosobo\u00adroneksport",
    "word joiner": "Rosoboron\u2060eksport",
    "BOM": "\ufeffRosoboroneksport",
    "bidi override": "Rosoboron\u202eeksport",
    "newline": "Rosoboron\neksport",
    "CRLF and tab": "Rosoboron\r\n\teksport",
    "hyphen": "Rosoboron-eksport",
    "unicode hyphen": "Rosoboron\u2010eksport",
    "space": "Rosoboron eksport",
    "NBSP": "Rosoboron\u00a0eksport",
    "one Cyrillic o": "Rosob\u043eroneksport",
    "Cyrillic o e p": "R\u043es\u043eb\u043er\u043en\u0435ks\u0440\u043ert",
    "Greek omicron": "Rosob\u03bfroneksport",
    "fullwidth": "".join(chr(ord(c) + 0xFEE0) for c in "Rosoboroneksport"),
}


# -- clean_name: what is removed and folded, and that it says so -----------------------------
def test_clean_name_strips_format_characters_and_says_so() -> None:
    for ch in ("\u200b", "\u00ad", "\u2060", "\ufeff", "\u200d", "\u202e", "\u034f", "\ufe0f"):
        c = clean_name(f"Roso{ch}boroneksport")
        assert c.text == "Rosoboroneksport", repr(ch)
        assert c.applied == (FORMAT_CHARS,)
    assert clean_name("Rosoboroneksport").applied == ()
    assert clean_name("Rosoboroneksport").note is None


def test_clean_name_whitespace_and_dashes() -> None:
    c = clean_name(" Rosoboron\r\n\teksport\u3000OJSC ")
    assert c.text == "Rosoboron eksport OJSC" and SPACES in c.applied
    assert clean_name("Rosoboron\u2014eksport").text == "Rosoboron-eksport"
    assert clean_name("a\x00b\x07c").text == "abc"


def test_confusables_fold_to_the_words_majority_script() -> None:
    # A Cyrillic о е р in a Latin word become Latin letters ...
    c = clean_name("R\u043es\u043eb\u043er\u043en\u0435ks\u0440\u043ert")
    assert c.text == "Rosoboroneksport" and c.applied == (CONFUSABLES,)
    # ... a Latin a and p in a Cyrillic word become Cyrillic letters (then transliterated) ...
    assert clean_name("Poмашкa").text == "Ромашка"
    # ... a whole look-alike word in a Latin name is read as Latin, a real Russian one is not.
    assert clean_name("\u0410\u0412\u0421 Trading").text == "abc Trading"
    assert clean_name("ООО Ромашка").text == "ООО Ромашка"
    assert clean_name("ООО Ромашка").applied == ()
    assert clean_name("Ромашка Trading").text == "Ромашка Trading"  # ш has no Latin twin
    # Turkish and accented Latin letters are not confusables of anything.
    assert clean_name("Dış Ticaret Şirketi").text == "Dış Ticaret Şirketi"


def test_joined_forms() -> None:
    assert joined_forms("rosoboron eksport") == ["rosoboroneksport"]
    assert joined_forms("a b rosoboron eksport") == ["a b rosoboroneksport"]
    assert len(joined_forms(" ".join(["word"] * 12))) == 4  # bounded
    q = prepare_query("Rosoboron-eksport")
    assert q.forms == ("rosoboron eksport", "rosoboroneksport")
    assert q.note(0) is None and q.note(1) == f"{JOINED} ('rosoboroneksport')"


# -- the matcher: every spoof still hits, and the hit says how --------------------------------
@pytest.fixture
def small_list(tmp_path: Path) -> Matcher:
    lst = write(
        tmp_path / "l.csv",
        "id,name,aliases,country,schema\n"
        "r1,ROSOBORONEKSPORT,RUSSIAN DEFENSE EXPORT ROSOBORONEXPORT,RU,Company\n"
        "t1,Tekhnopromeksport,,RU,Company\n"
        "p1,PROMTEKH OOO,,RU,Company\n",
    )
    con = duckdb.connect()
    load_list(con, "small", [lst])
    return Matcher.from_warehouse(con, ["small"])


@pytest.mark.parametrize("kind", sorted(SPOOFS))
def test_spoofed_names_still_block(small_list: Matcher, kind: str) -> None:
    hits = small_list.screen(SPOOFS[kind], "RUS")
    assert hits, f"{kind}: no hit"
    assert hits[0].entity_id == "r1" and hits[0].level == "BLOCK", (kind, hits[0])


def test_hit_says_which_normalisation(small_list: Matcher) -> None:
    (hit, *_) = small_list.screen("Roso\u200bbor\u043eneksport", "RUS")
    assert hit.normalised == f"{FORMAT_CHARS}; {CONFUSABLES}"
    assert "(normalised: format characters removed; confusables folded)" in hit.describe()
    (plain, *_) = small_list.screen("Rosoboroneksport", "RUS")
    assert plain.normalised is None and "normalised" not in plain.describe()
    (joined, *_) = small_list.screen("Rosoboron\neksport", "RUS")
    assert joined.score == 100.0 and joined.normalised is not None
    assert SPACES in joined.normalised and JOINED in joined.normalised


def test_cyrillic_lookalikes_in_a_latin_name(small_list: Matcher) -> None:
    # р and о are Cyrillic: without folding, р transliterates to "r" ("rromtekh").
    (hit, *_) = small_list.screen("\u0440r\u043emtekh", "RUS")
    assert hit.entity_id == "p1" and hit.level == "BLOCK" and hit.score == 100.0


def test_unrelated_names_do_not_gain_hits(small_list: Matcher) -> None:
    assert small_list.screen("Anadolu Makina Sanayi", "TUR") == []
    assert small_list.screen("Rosa Borneo Export", "IDN") == []


@pytest.fixture(scope="module")
def ofac(request: pytest.FixtureRequest) -> Matcher:
    from tests.conftest import SHARED

    s = SHARED / "sanctions-lists/ofac-sdn"
    if not (s / "2024-05-03/sdn.csv").is_file():
        pytest.skip(f"real OFAC SDN list not found under {s} (../shared/data)")
    con = duckdb.connect()
    load_list(con, "ofac", [s / "2024-05-03/sdn.csv", s / "2025-02-27/alt.csv"])
    return Matcher.from_warehouse(con, ["ofac"])


@pytest.mark.slow(reason="indexes the real 18k-entry OFAC SDN list (4.6 s setup)")
@pytest.mark.parametrize("kind", sorted(SPOOFS))
def test_spoofs_block_on_the_real_ofac_list(ofac: Matcher, kind: str) -> None:
    hits = ofac.screen(SPOOFS[kind], "RUS")
    assert hits and hits[0].level == "BLOCK", kind
    assert hits[0].entity_id == "18782"  # ROSOBORONEXPORT OAO (OFAC SDN ent_num 18782)


# -- internal columns: no input field can reach them ------------------------------------------
DECL = {
    "id": "D1",
    "date": "2024-11-05",
    "origin_country": "USA",
    "destination_country": "RUS",
    "hs_code": "8542310010",
}
SHADOWS = {"_destination_country": "KAZ", "_origin_country": "KAZ", "_row": "7", "_load_error": "x"}


def _screen_records(records: list[dict[str, object]]) -> list[dict[str, object]]:
    from transship.screening.declarations import from_records
    from transship.screening.engine import screen_table
    from transship.screening.policies import load_policy

    table = from_records(records)
    out: list[dict[str, object]] = screen_table(
        table, load_policy("tr-customs-2024")
    ).table.to_pylist()
    return out


def test_shadow_fields_in_json_records_are_passed_through_only() -> None:
    (plain,) = _screen_records([DECL])
    assert plain["decision"] == "BLOCK"
    for field, value in SHADOWS.items():
        (row,) = _screen_records([{**DECL, field: value}])
        assert row["decision"] == "BLOCK", (field, row)
        assert row["error"] is None and row["row"] == 1
        assert row[field] == value  # passed through under its own name
    (row,) = _screen_records([{**DECL, **SHADOWS}])
    assert row["decision"] == "BLOCK" and row["rules"] == plain["rules"]


def test_shadow_columns_in_a_csv_file(tmp_path: Path) -> None:
    from transship.screening.declarations import read_declarations
    from transship.screening.engine import screen_table
    from transship.screening.policies import load_policy

    cols = [*DECL, *SHADOWS]
    f = write(
        tmp_path / "d.csv",
        ",".join(cols) + "\n" + ",".join([*map(str, DECL.values()), *SHADOWS.values()]) + "\n"
        # a ragged line: the reader's own load error must still reach the decision
        "D2,2024-11-05,USA,RUS\n",
    )
    rows = screen_table(read_declarations(f), load_policy("tr-customs-2024")).table.to_pylist()
    assert rows[0]["decision"] == "BLOCK" and rows[0]["error"] is None
    assert rows[0]["_destination_country"] == "KAZ" and rows[0]["_load_error"] == "x"
    assert rows[1]["decision"] == "ERROR" and rows[1]["error"].startswith("line 3: missing")
    assert rows[1]["_load_error"] is None


def test_input_columns_named_like_output_columns_are_refused() -> None:
    from transship.errors import InputError

    for name in ("decision", "reasons", "row"):
        with pytest.raises(InputError, match=name):
            _screen_records([{**DECL, name: "ALLOW"}])


def test_nested_party_cannot_shadow_a_flat_field() -> None:
    from transship.errors import InputError

    rec = {**DECL, "exporter_name": "Rosoboroneksport", "exporter": {"name": "Harmless"}}
    with pytest.raises(InputError, match="exporter_name"):
        _screen_records([rec])


def test_shadow_fields_over_http(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from transship.settings import Settings
    from transship.web.app import create_app

    wh = tmp_path / "w.duckdb"
    con = duckdb.connect(str(wh))
    load_list(con, "hand", [write(tmp_path / "l.csv", "id,name,country\ne1,Romashka LLC,RU\n")])
    con.close()
    client = TestClient(create_app(Settings(warehouse=wh, api_tokens="t")))
    auth = {"Authorization": "Bearer t"}
    for field, value in SHADOWS.items():
        r = client.post("/v1/screen", json={"declaration": {**DECL, field: value}}, headers=auth)
        assert r.status_code == 200, (field, r.text)
        assert r.json()["decisions"][0]["decision"] == "BLOCK", field
    r = client.post("/v1/screen", json={"declaration": {**DECL, "decision": "ALLOW"}}, headers=auth)
    assert r.status_code == 422 and "decision" in r.json()["error"]


def test_a_field_named_with_the_internal_prefix_is_refused(tmp_path: Path) -> None:
    """Internal columns carry a prefix (a NUL) no accepted input name has: a JSON key or CSV
    header "\\u0000load_error" would otherwise force ERROR, like `_load_error` before."""
    from fastapi.testclient import TestClient

    from transship.errors import InputError
    from transship.screening.declarations import INTERNAL, LOAD_ERROR, read_declarations
    from transship.settings import Settings
    from transship.web.app import create_app

    names = (LOAD_ERROR, INTERNAL + "row", INTERNAL + "destination_country", "a\u200bb")
    for name in names:
        with pytest.raises(InputError, match="control or invisible"):
            _screen_records([{**DECL, name: "x"}])
    f = write(tmp_path / "d.csv", ",".join([*DECL, LOAD_ERROR]) + "\n" + ",".join(DECL.values()))
    with pytest.raises(InputError, match="control or invisible"):
        read_declarations(f)
    wh = tmp_path / "w.duckdb"
    con = duckdb.connect(str(wh))
    load_list(con, "hand", [write(tmp_path / "l.csv", "id,name,country\ne1,Romashka LLC,RU\n")])
    con.close()
    client = TestClient(create_app(Settings(warehouse=wh, api_tokens="t")))
    for name in names:
        body = {"declaration": {**DECL, name: "x"}}
        r = client.post("/v1/screen", json=body, headers={"Authorization": "Bearer t"})
        assert r.status_code == 422 and "control or invisible" in r.text, (name, r.text)


def test_a_file_with_two_columns_of_one_name_is_refused_naming_them(tmp_path: Path) -> None:
    """A JSON file whose keys collide once read (a nested party beside its flat field) is an
    InputError naming the file and the column, not a KeyError (a 500 on the dashboard
    upload); a JSON or Parquet name with a NUL, which DuckDB cuts there
    (destination_country\\u0000x read as destination_country), is refused as conform()
    refuses control characters; a NUL in a value is left to the row's checks."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from transship.errors import InputError
    from transship.screening.declarations import read_declarations

    nested = {**DECL, "exporter_name": "Rosoboroneksport", "exporter": {"name": "Harmless"}}
    cut = {**DECL, "destination_country\u0000x": "DE"}
    for i, (rec, why) in enumerate(((nested, r"duplicate columns.*exporter_name"),
                                    (cut, r"destination_country\\x00x.*control"))):  # fmt: skip
        f = tmp_path / f"d{i}.json"
        f.write_text(json.dumps([rec]), encoding="utf-8")
        lines = tmp_path / f"d{i}.jsonl"
        lines.write_text(json.dumps(DECL) + "\n" + json.dumps(rec) + "\n", encoding="utf-8")
        for path in (f, lines):
            with pytest.raises(InputError, match=why) as info:
                read_declarations(path)
            assert info.value.file == str(path)
    p = tmp_path / "d.parquet"
    pq.write_table(pa.table({k: [v] for k, v in cut.items()}), p)
    with pytest.raises(InputError, match=r"destination_country\\x00x.*control"):
        read_declarations(p)
    f = tmp_path / "v.json"
    f.write_text(json.dumps([{**DECL, "description": "a\u0000b"}]), encoding="utf-8")
    assert read_declarations(f).column("description").to_pylist() == ["a\u0000b"]


FORMULAS = ['=HYPERLINK("http://x","Rosoboroneksport")', "=Rosoboroneksport",
            "+cmd(1)", "@SUM(A1)", "- HYPERLINK (1)", '=CONCAT("Roso","boroneksport")',
            "+F2", "-$B$7", "-B52 Club", '+(HYPERLINK("x","Rosoboroneksport"))',
            '\t=HYPERLINK("x","Rosoboroneksport")']  # fmt: skip
NOT_FORMULAS = ["+7 Group", "@Home LLC", "-Minus Ltd", "Rosoboroneksport (=ROE)", "B52 Club"]


@pytest.mark.parametrize("engine", ["vectorised", "single"])
def test_a_party_name_that_is_a_spreadsheet_formula_is_an_error(
    engine: str, small_list: Matcher
) -> None:
    # =HYPERLINK("x","Rosoboronexport"), which a spreadsheet shows as the listed name, was
    # screened as its own text and ALLOWed; it is an input error now, in both engines
    from transship.screening import single
    from transship.screening.declarations import from_records
    from transship.screening.engine import screen_table
    from transship.screening.policies import load_policy

    names = [*FORMULAS, *NOT_FORMULAS]
    records = [
        {**DECL, "id": f"D{i}", "destination_country": "ARE", "consignee_name": n,
         "exporter_name": "Acme GmbH" if i % 2 else n}
        for i, n in enumerate(names)
    ]  # fmt: skip
    run = screen_table if engine == "vectorised" else single.screen_table
    rows = run(from_records(records), load_policy("tr-customs-2024"), small_list).table.to_pylist()
    for row, name in zip(rows, names, strict=True):
        if name in FORMULAS:
            assert row["decision"] == "ERROR", row
            assert f"consignee_name: a spreadsheet formula, not a name: {name}" in row["error"]
        else:
            assert row["error"] is None, row
    assert rows[0]["error"].startswith("exporter_name: a spreadsheet formula")  # both named
