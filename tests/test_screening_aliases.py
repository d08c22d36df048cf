"""Matcher features for the way sanctions lists write one organisation or person otherwise
(alias pairs of the UK and EU lists: benchmarks/devsets_aliases.py)."""

from __future__ import annotations

from transship.screening.matcher import Matcher


def test_a_kind_of_organisation_by_its_initials_flags() -> None:
    # EU alias dev split: JSC SDB Turbina / ... Special Design Bureau Turbina 33.9, LLC SC
    # Lyukstrans / LLC Shipping Company Lyukstrans 54.8: FLAG, not BLOCK.
    m = Matcher([])
    for a, b in (
        ("JSC SDB Turbina", "Joint Stock Company Special Design Bureau Turbina"),
        ("LLC SC Lyukstrans", "LLC Shipping Company Lyukstrans"),
        (
            "JSC \u2018STC \u2018Atlas\u2019\u2019",
            "JSC \u2018Scientific and Technical Center \u2018ATLAS\u2019\u2019",
        ),
    ):
        score, why = m.compare(a, b, schema="Company")
        assert "acronym_parts" in dict(why) and 80 <= score < 92, (a, score, why)
    # initials beside nothing else both names share are the acronym feature's (near misses
    # on the real lists: CHECHEN ELECTROMECHANICAL CISHUN LTD / CEC LTD. 90 with this one)
    for a, b in (
        ("CHECHEN ELECTROMECHANICAL CISHUN LTD", "CEC LTD."),
        ("TRAVELER CONSULTORES C.A.", 'LIMITED LIABILITY COMPANY "TC"'),
        ("SADATI, Ufuk Nebojsa", "SUN"),
    ):
        score, why = m.compare(a, b, schema="Company")
        assert "acronym_parts" not in dict(why) and score < 80, (a, score, why)
    # persons' initials are the initials feature's
    assert "acronym_parts" not in dict(m.compare("Ivan IP Petrov", "Ivan Ivanovich Petrov")[1])
