"""Queries in Hangul, Hebrew and kana retrieve Latin list names by their script's keys
(screening/scriptkeys.py), on the real OFAC SDN list (2024-05-03, 2025-02-27 aliases)."""

from __future__ import annotations

import duckdb
import pytest

from transship.screening.index import NameIndex
from transship.screening.lists import load_list
from transship.screening.matcher import Matcher
from transship.screening.normalize import clean_name
from transship.screening.parsed import parse
from transship.screening.scriptkeys import list_script_keys, query_script_keys


@pytest.fixture(scope="module")
def ofac(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    from tests.conftest import SHARED

    sdn = SHARED / "sanctions-lists" / "ofac-sdn"
    if not (sdn / "2024-05-03" / "sdn.csv").exists():
        pytest.skip(f"real OFAC SDN list not found under {SHARED} (../shared/data)")
    con = duckdb.connect(str(tmp_path_factory.mktemp("ofac") / "w.duckdb"))
    load_list(con, "ofac-sdn", [sdn / "2024-05-03" / "sdn.csv", sdn / "2025-02-27" / "alt.csv"])
    return Matcher.from_warehouse(con, ["ofac-sdn"])


def _keys(name: str) -> set[str]:
    return query_script_keys(parse(clean_name(name).text))


def test_script_keys_of_list_names_and_queries() -> None:
    # kana: ラブロフ raburofu and LAVROV share rbrb; Hebrew: פריגוז'ין prygwzyn / PRIGOZHIN prgzn
    assert {"jsrg", "jrbrb"} <= list_script_keys(parse("LAVROV, Sergei Viktorovich"))
    assert _keys("セルゲイ・ラブロフ") == {"jsrg", "jrbrb"}
    assert "hprgzn" in _keys("יבגני פריגוז'ין") & list_script_keys(parse("PRIGOZHIN, Yevgeniy"))
    assert _keys("김정은") == {"kgim", "kjong", "kon"} <= list_script_keys(parse("KIM Jong Un"))
    assert _keys("Sergei Lavrov") == set()  # a Latin query: no script keys, as before


def test_script_queries_retrieve_their_listed_entries(ofac: Matcher) -> None:
    (ix,) = ofac.indexes
    for query, entity in (("セルゲイ・ラブロフ", "35233"), ("יבגני פריגוז'ין", "21171")):
        hits = ofac.screen(query)
        assert hits and hits[0].entity_id == entity and hits[0].score >= 80, (query, hits[:1])
    latin = [ofac.screen(q) for q in ("Sergei Lavrov", "Yevgeniy Prigozhin", "KIM Jong Un")]
    script, ix.script = ix.script, None  # without the script postings: not retrieved at all
    try:
        assert ofac.search("セルゲイ・ラブロフ", min_score=0.0)[0].entity_id != "35233"
        assert not any(h.entity_id == "21171" for h in ofac.search("יבגני פריגוז'ין"))
        # Latin queries never ask the script postings: the same hits either way
        assert [ofac.screen(q) for q in ("Sergei Lavrov", "Yevgeniy Prigozhin", "KIM Jong Un")] == (
            latin
        )
    finally:
        ix.script = script
    # stored and opened again: the same script postings
    again = NameIndex.from_bytes("ofac-sdn", ix.to_bytes())
    q = parse(clean_name("セルゲイ・ラブロフ").text)
    assert again.script_retrieve(q) == ix.script_retrieve(q) != []
    assert again.script is not None and len(again.script.keys) == len(script.keys) > 30_000
