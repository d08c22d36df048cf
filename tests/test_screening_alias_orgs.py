"""Organisations' names the lists write otherwise (UK / EU alias pairs)."""

from __future__ import annotations

from transship.screening.matcher import Matcher
from transship.screening.names import part_kind


def test_the_uk_lists_twice_translated_ooo_is_a_legal_form() -> None:
    # "Limited Liability Company responsibility" (obshchestvo s ogranichennoy
    # otvetstvennostyu): UK alias dev split, 74.7 with "responsibility" a word of the name
    assert part_kind("responsibility") == "legal"
    m = Matcher([])
    score, why = m.compare(
        "LLC 'SDK' 'Garant'",
        "Limited Liability Company responsibility 'Specialized Depository company 'Garant'",
        schema="Company",
    )
    assert 80 <= score < 92 and "extra_parts" not in dict(why), (score, why)
    # another name under the same form is still another company
    score, _ = m.compare(
        "Limited Liability Company responsibility 'Corporate registrar company'",
        "Limited Liability Company responsibility 'Specialized Depository company 'Garant'",
        schema="Company",
    )
    assert score < 80


def _list_with_common_words() -> Matcher:
    """1,200 organisations, 10 of them named in North Korea: north and korea are common."""
    names = [f"North Korea Entity{k} Trading" for k in range(10)]
    names += [f"Company{k} Shipping" for k in range(1190)]
    rows = [("t", f"e{k}", n, n, n.lower(), [], "", "Organization") for k, n in enumerate(names)]
    return Matcher.from_rows(rows)


def test_common_words_more_are_paid_for_once() -> None:
    # UK alias dev split: 76.4 with contained_name (+18.9) and extra_parts (-8.0) both
    m = _list_with_common_words()
    assert m.indexes[0].common("korea") and not m.indexes[0].common("maritime")
    score, why = m.compare(
        "North Korea Maritime Administration Bureau",
        "Maritime Administrative Bureau",
        schema="Organization",
    )
    assert "contained_name" in dict(why) and "extra_parts" not in dict(why), why
    assert 80 <= score < 92, (score, why)
    # a distinctive word more is still a sister company's as often
    score, why = m.compare("Aras Farayande Sadra", "Aras Farayande", schema="Organization")
    assert dict(why)["extra_parts"] == -4.0 and score < 92


def test_what_a_business_or_settlement_is_is_a_generic_word() -> None:
    # UK alias dev split: LAP Green Holding Company / LAP Green Networks 70.1
    assert part_kind("networks") == "generic"
    m = Matcher([])
    assert m.compare("LAP Green Holding Company", "LAP Green Networks", schema="Company")[0] >= 80
    # UK alias dev split: Koko's Farm / COCO's FARM OUTPOST 74.0, outpost a word of the name
    assert part_kind("farm") == part_kind("outpost") == "generic"
    m = Matcher([])
    assert m.compare("Koko's Farm", "COCO's FARM OUTPOST", schema="Organization")[0] >= 80
    assert m.compare("Meitarim Farm", "Havat Maon Outpost", schema="Organization")[0] < 80
    # one for the other is the same settlement written otherwise: FLAG, not BLOCK
    score, why = m.compare("MEITARIM FARM", "MEITARIM OUTPOST", schema="Organization")
    assert 80 <= score < 92 and "differing_generic" in dict(why), (score, why)


def test_words_of_the_uk_dev_misses_in_another_language() -> None:
    # name_equivalents.yaml: 36.7, 38.0, 38.0 and 15.1 before
    m = Matcher([])
    for a, b in (
        ("Academician VP Makeyev State Rocket Centre OJSC (MAKEYEV SRC)",
         "MAKEYEV STATE MISSILE CENTER"),
        ("Smert Battalion", "Death Battalion"),
        ("Abr Arvan", "Arvan Cloud"),
        ("Scientific Production Association Search", "JSC NPO POISK"),
    ):  # fmt: skip
        score, why = m.compare(a, b, schema="Organization")
        assert score >= 80, (a, score, why)
    # a translation alone is no name: Sparta is not Death
    assert m.compare("Smert Battalion", "Sparta Battalion", schema="Organization")[0] < 80


def test_a_russian_state_corporation_is_found_by_its_name_alone() -> None:
    # OFAC SDN 17260 STATE CORPORATION ROSTEC: `lists search ROSTEC` gave it 64.3, below
    # OSTEC ENTERPRISE LTD (75.8), another listed company one letter away
    assert part_kind("goskorporatsiya") == "legal" and part_kind("state") == "name"
    names = ["STATE CORPORATION ROSTEC", "OSTEC ENTERPRISE LTD", "ROSATOM STATE CORPORATION"]
    names += [f"Company{k} Shipping" for k in range(200)]
    rows = [("t", f"e{k}", n, n, n.lower(), [], "", "Organization") for k, n in enumerate(names)]
    m = Matcher.from_rows(rows)
    hits = m.screen("ROSTEC")
    assert hits and hits[0].caption == "STATE CORPORATION ROSTEC", hits
    assert hits[0].score >= m.thresholds.block
    assert m.compare("Goskorporatsiya Rosatom", "ROSATOM STATE CORPORATION")[0] >= 92
    # the form alone is no match for another state corporation
    assert m.compare("STATE CORPORATION ROSTEC", "ROSATOM STATE CORPORATION")[0] < 80
