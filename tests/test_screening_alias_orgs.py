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
