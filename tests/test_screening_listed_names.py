"""Listed names that words of one kind of name must not change in another: a stop word of
Arabic names, a person's generation, are names elsewhere (names from OFAC SDN 2024-05-03)."""

from __future__ import annotations

from transship.screening.matcher import Matcher
from transship.screening.parsed import parse


def test_wa_is_a_stop_word_beside_an_arabic_article_only() -> None:
    m = Matcher([])
    # Arabic "and": JNIM / Jama'a Nusrat ul-Islam wa al-Muslimin needs it left out
    assert parse("JAMA'AT NUSRAT AL-ISLAM WAL-MUSLIMIN").kinds[4] == "stop"
    assert parse("Jama'a Nusrat ul-Islam wa al-Muslimin").kinds[4] == "stop"
    score, why = m.compare("JNIM", "Jama'a Nusrat ul-Islam wa al-Muslimin", schema="Organization")
    assert "acronym" in dict(why) and 80 <= score < 92
    # a Cantonese given name and the Wa people: a name, so a name without it differs
    assert parse("YUNG, Yiu Wa").kinds == ("name", "name", "name")
    for a, b, schema in (
        ("Yiu Ming Yung", "YUNG, Yiu Wa", "Person"),  # 66.7 before wa was a stop word
        ("United Shan State Army", "UNITED WA STATE ARMY", "Organization"),  # 63.0
        ("Chan Lok", "Chan Wa Lok", "Person"),
    ):
        assert m.compare(a, b, schema=schema)[0] < 92, (a, b)
    assert m.compare("Yiu Ming Yung", "YUNG, Yiu Wa", schema="Person")[0] < 80
    assert m.compare("United State Army", "UNITED WA STATE ARMY")[0] < 92


def test_junior_and_senior_are_names_of_organisations() -> None:
    # OFAC SDN 12976 JUNIOR INTERNATIONAL S.A. FLAGged as itself (91.9): junior a title left
    # a name of generic words and legal forms only
    m = Matcher([])
    name = "JUNIOR INTERNATIONAL S.A."
    assert m.compare(name, name, schema="Organization")[0] == 100.0
    assert m.compare("INTERNATIONAL S.A.", name, schema="Organization")[0] < 80
    assert m.compare("Senior Trading LLC", "Junior Trading LLC", schema="Company")[0] < 80
    # a person's generation still: one side only costs nothing, two differ
    assert m.compare("Ivan Petrov Junior", "Ivan Petrov", schema="Person")[0] >= 92
    assert m.compare("Ivan Petrov Junior", "Ivan Petrov Senior", schema="Person")[0] < 92


def test_a_feature_that_only_caps_lists_zero_not_minus_zero() -> None:
    # Hamcho Group / Hamcho International: differing_generic caps and costs nothing; the
    # hits' JSON (Hit.as_dict) said -0.0
    import math

    score, why = Matcher([]).compare("Hamcho Group", "Hamcho International", schema="Company")
    assert math.copysign(1.0, dict(why)["differing_generic"]) == 1.0 and score < 92
