"""Party screening: normalisation, list loaders, matching, near misses, real lists."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import write
from transship.errors import InputError
from transship.screening.lists import load_list, loaded_lists, parse_list
from transship.screening.matcher import Matcher, Thresholds
from transship.screening.names import normalize_name

LIST = """\
id,name,aliases,country,list
e1,ООО Ромашка,Romashka LLC;OOO ROMASHKA,RU,test-ru
e2,AZU INTERNATIONAL BILGI TEKNOLOJILERI VE DIS TICARET LIMITED SIRKETI,,TR,test-tr
e3,Արամ ՍՊԸ,,AM,test-am
e4,შპს ჯორჯია ტრეიდი,,GE,test-ge
e5,Shchukin Elektronika GmbH,,DE,test
e6,Global Trade Solutions Ltd,,AE,test
"""


@pytest.fixture
def matcher(tmp_path: Path) -> Matcher:
    con = duckdb.connect()
    load_list(con, "hand", [write(tmp_path / "l.csv", LIST)], "csv")
    return Matcher.from_warehouse(con, ["hand"])


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ('ООО "Ромашка"', "romashka"),
        ("OOO ROMASHKA", "romashka"),
        ("Romashka LLC", "romashka"),
        ("Общество с ограниченной ответственностью Ромашка", "romashka"),
        ("Şahin Elektronik Dış Ticaret Ltd. Şti.", "sahin elektronik dis ticaret"),
        ("SAHIN ELEKTRONIK DIS TICARET LIMITED SIRKETI", "sahin elektronik dis ticaret"),
        ("Çelik Makina A.Ş.", "celik makina"),
        ("Щукин Жуков", "shchukin zhukov"),
        ("შპს ჯორჯია ტრეიდი", "jorjia treidi"),
        ("Siemens GmbH", "siemens"),
    ],
)
def test_normalisation(raw: str, norm: str) -> None:
    assert normalize_name(raw) == norm


def test_cyrillic_matches_latin_and_legal_forms_are_noise(matcher: Matcher) -> None:
    for q in ("Romashka OOO", "ООО «Ромашка»", "Limited Liability Company Romashka"):
        (hit,) = matcher.screen(q, "RUS")
        assert hit.entity_id == "e1" and hit.level == "BLOCK"
        # name score 100 plus the country bonus, capped at 100
        assert hit.score == 100.0 and hit.country_match is True
    (hit,) = matcher.screen("AZU International Bilgi Tekn. ve Dış Tic. Ltd. Şti.", "TUR")
    assert hit.entity_id == "e2" and hit.level == "BLOCK"
    assert [h.entity_id for h in matcher.screen("Aram LLC")] == ["e3"]
    assert [h.entity_id for h in matcher.screen("Jorjia Treidi LLC")] == ["e4"]
    assert [h.entity_id for h in matcher.screen("Щукин Электроника")] == ["e5"]


def test_score_is_explained_name_score_plus_country_qualifier(matcher: Matcher) -> None:
    q = "Romaschka"  # German-style transliteration of Ромашка: folded sch = sh, then 0.95
    t = Thresholds()
    (same,) = matcher.screen(q, "RUS")
    assert same.name_score == 95.0
    assert dict(same.features) == {"name_alignment": 95.0, "country": t.country_bonus}
    assert same.score == round(min(100.0, 95.0 + t.country_bonus), 1)
    other = matcher.screen(q, "FRA")
    assert other[0].score == round(95.0 - t.country_penalty, 1)
    assert dict(other[0].features)["country"] == -t.country_penalty
    (unknown,) = matcher.screen(q)
    assert unknown.score == 95.0 and unknown.country_match is None
    assert "name_alignment +95.0" in unknown.describe()


@pytest.mark.parametrize(
    "name",
    [
        "Global Trading Systems",  # shares one token with e6
        "Romanov Trading",  # shares a prefix key with e1
        "Shchukina Imports",
        "Aramco",
        "Acme Elektronik",
    ],
)
def test_near_misses_do_not_match(matcher: Matcher, name: str) -> None:
    assert matcher.screen(name, "RUS") == []


def test_thresholds_decide_block_and_flag(tmp_path: Path) -> None:
    con = duckdb.connect()
    load_list(con, "hand", [write(tmp_path / "l.csv", LIST)], "csv")
    strict = Matcher.from_warehouse(con, ["hand"], Thresholds(block=99.5, flag=90))
    (hit,) = strict.screen("Romaschka")
    assert hit.level == "FLAG" and hit.score == 95.0
    assert Matcher.from_warehouse(con, ["hand"]).screen("Romaschka")[0].level == "BLOCK"


def test_malformed_list_is_rejected_with_line_and_nothing_loaded(tmp_path: Path) -> None:
    con = duckdb.connect()
    load_list(con, "hand", [write(tmp_path / "l.csv", LIST)], "csv")
    bad = write(tmp_path / "bad.csv", LIST.replace("e4,", ",", 1))
    with pytest.raises(InputError) as e:
        load_list(con, "hand", [bad], "csv")
    assert e.value.line == 5 and e.value.file == str(bad)
    bad2 = write(tmp_path / "bad2.csv", LIST.replace(",AE,", ",Atlantis,"))
    with pytest.raises(InputError, match="unknown country") as e:
        load_list(con, "hand", [bad2], "csv")
    assert e.value.line == 7
    # the earlier load is intact
    assert loaded_lists(con)[0]["entities"] == 6
    ftm = write(
        tmp_path / "x.ftm.json", '{"id": "a", "schema": "Person", "properties": {}}\n{oops\n'
    )
    with pytest.raises(InputError) as e:
        parse_list([ftm])
    assert e.value.line == 2


def test_ofac_format_quirks(tmp_path: Path) -> None:
    sdn = tmp_path / "sdn.csv"
    sdn.write_bytes(
        b'42033,"AZU INTERNATIONAL LIMITED SIRKETI",-0- ,"RUSSIA-EO14024",-0- ,-0- ,-0- ,'
        b"-0- ,-0- ,-0- ,-0- ,-0- \r\n"
        b'7,"PETROV, Ivan",individual,"UKRAINE-EO13662] [RUSSIA-EO14024",-0- ,-0- ,-0- ,'
        b'-0- ,-0- ,-0- ,-0- ,"DOB 1970."\r\n\x1a'
    )
    write(
        tmp_path / "alt.csv", '7,1,"aka","PETROV, Ivan Ivanovich",-0- \r\n999,2,"aka","X",-0- \r\n'
    )
    write(tmp_path / "add.csv", '7,1,-0- ,"Moscow","Russia",-0- \r\n')
    kind, ents, notes = parse_list([sdn])
    assert kind == "ofac" and len(ents) == 2
    petrov = ents[1]
    assert petrov.schema == "Person" and petrov.countries == {"RUS"}
    assert petrov.programs == "UKRAINE-EO13662;RUSSIA-EO14024"
    assert [n for n, _ in petrov.names] == ["PETROV, Ivan", "PETROV, Ivan Ivanovich"]
    assert any("1 aliases" in n for n in notes)


# -- real lists (../shared/data) -------------------------------------------------------------
@pytest.mark.slow
def test_real_lists_load_and_match(shared_data: Path) -> None:
    s = shared_data / "sanctions-lists"
    con = duckdb.connect()
    r = load_list(
        con, "ofac", [s / "ofac-sdn/2021-07-07/sdn.csv"], "auto"
    )  # alt.csv and add.csv found beside it
    assert r.format == "ofac" and r.entities == 8976
    t = load_list(con, "ua", [s / "opensanctions/ua_war_sanctions.targets.simple.csv"])
    assert t.format == "targets" and t.entities == 5600
    f = load_list(con, "eu", [s / "opensanctions/yente-fixture-t1.entities.ftm.json"])
    assert f.format == "ftm" and f.entities == 6  # 7 entities, one is an Address
    m = Matcher.from_warehouse(con, ["ofac", "ua", "eu"])
    hits = m.screen("Общество с ограниченной ответственностью Интер Тобако", "BLR")
    assert hits[0].list == "eu" and hits[0].level == "BLOCK"
    putin = m.screen("Путин Владимир Владимирович", "RUS")
    assert putin and putin[0].level == "BLOCK" and "PUTIN" in putin[0].caption.upper()


@pytest.mark.slow
def test_real_2024_sdn_turkish_party(shared_data: Path) -> None:
    s = shared_data / "sanctions-lists/ofac-sdn"
    con = duckdb.connect()
    load_list(con, "ofac", [s / "2024-05-03/sdn.csv", s / "2025-02-27/alt.csv"])
    m = Matcher.from_warehouse(con, ["ofac"])
    (hit, *_) = m.screen("AZU International Bilgi Teknolojileri ve Dış Ticaret Ltd. Şti.", "TUR")
    assert hit.entity_id == "42033" and hit.level == "BLOCK"


def test_partial_person_names_flag_but_never_block(tmp_path: Path) -> None:
    lst = write(
        tmp_path / "p.csv",
        "id,name,aliases,country,schema\n"
        'p1,"SOKOLOV, Ivan Petrovich",Соколов Иван Петрович,RU,Person\n'
        "c1,Sokolov Ivan Petrovich Trading,,RU,Company\n",
    )
    con = duckdb.connect()
    load_list(con, "people", [lst])
    m = Matcher.from_warehouse(con, ["people"])
    hits = m.screen("Иван Соколов", "RUS")
    assert [h.entity_id for h in hits] == ["p1"]  # the company is not compared part by part
    assert hits[0].level == "FLAG" and hits[0].score < Thresholds().block
    assert m.screen("Anna Sokolova", "RUS") == []  # one part matches, the other does not
    (full,) = m.screen("Sokolov Ivan Petrovich", "RUS")[:1]
    assert full.entity_id in {"p1", "c1"} and full.level == "BLOCK"
