"""Reference data: countries and their codes, country groups and the sanctions-event
timeline."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import replace_once
from transship import reference as ref
from transship.reference import ReferenceDataError


# -- countries ------------------------------------------------------------------------------
def test_baci_and_comtrade_codes() -> None:
    baci = ref.country_lookup("baci")
    assert baci["842"] == "USA" and baci["251"] == "FRA" and baci["490"] == "S19"
    assert baci["699"] == "IND" and baci["757"] == "CHE" and baci["579"] == "NOR"
    assert baci["380"] == "ITA"  # BACI follows Comtrade's current code, = M49
    comtrade = ref.country_lookup("comtrade")
    assert comtrade["0"] == "WLD" and comtrade["490"] == "S19"
    assert comtrade["842"] == "USA" and comtrade["381"] == "ITA" and comtrade["380"] == "ITA"
    assert comtrade["58"] == ref.country("Belgium-Luxembourg").iso3
    assert "492" in comtrade and comtrade["492"] != "MCO"  # Europe EU nes, not Monaco
    m49 = ref.country_lookup("m49")
    assert m49["840"] == "USA" and m49["4"] == "AFG" and "842" not in m49
    for iso3, m, c in (
        ("USA", "840", "842"),
        ("FRA", "250", "251"),
        ("IND", "356", "699"),
        ("CHE", "756", "757"),
        ("NOR", "578", "579"),
    ):
        country = ref.country(iso3)
        assert (country.m49, country.comtrade) == (m, c)
    assert ref.country_lookup("iso2")["TR"] == "TUR"
    assert all(not k.startswith("0") or k == "0" for k in comtrade)


def test_country_lookup_accepts_iso3_iso2_and_names() -> None:
    assert ref.country("tur").iso3 == "TUR"
    assert ref.country("tr").iso3 == "TUR"
    assert ref.country("Turkey").iso3 == "TUR"
    assert ref.country("russian federation").iso3 == "RUS"
    assert ref.country("Taiwan").m49 is None
    with pytest.raises(ReferenceDataError, match=r"'Turky'.*did you mean"):
        ref.country("Turky")
    with pytest.raises(ReferenceDataError, match="code scheme"):
        ref.country_lookup("iso4")  # type: ignore[arg-type]


def test_every_iso_3166_country_is_listed() -> None:
    pycountry = pytest.importorskip("pycountry")
    ours = {c.iso3 for c in ref.countries() if c.kind == "country"}
    assert ours == {c.alpha_3 for c in pycountry.countries}
    assert len(ours) == 249


# -- groups ---------------------------------------------------------------------------------
def test_group_expressions() -> None:
    assert ref.parse_countries("russia+ft_five") == {"RUS", "AZE", "GEO", "KAZ", "KGZ", "UZB"}
    assert ref.parse_countries("g7-JPN") == {"CAN", "FRA", "DEU", "ITA", "GBR", "USA"}
    assert ref.parse_countries("TUR") == {"TUR"} == ref.parse_countries("tur")
    assert ref.parse_countries("russia,belarus") == {"RUS", "BLR"}
    assert ref.parse_countries("eu27 - FRA + tr") == ref.parse_countries("eu27") - {"FRA"} | {"TUR"}
    # left to right: (russia + belarus) - russia
    assert ref.parse_countries("russia+belarus-russia") == {"BLR"}


def test_unknown_group_token_is_named_with_close_matches() -> None:
    with pytest.raises(ReferenceDataError, match=r"'ft_fiv'.*did you mean: ft_five"):
        ref.parse_countries("russia+ft_fiv")
    with pytest.raises(ReferenceDataError, match="'XXZ'"):
        ref.parse_countries("XXZ")
    with pytest.raises(ReferenceDataError, match="empty term"):
        ref.parse_countries("russia+")


def test_group_contents() -> None:
    gs = ref.groups()
    assert len(gs["eu27"].countries) == 27
    assert gs["eaeu"].countries == {"ARM", "BLR", "KAZ", "KGZ", "RUS"}
    assert gs["caucasus_central_asia"].countries == {
        "ARM",
        "AZE",
        "GEO",
        "KAZ",
        "KGZ",
        "TJK",
        "TKM",
        "UZB",
    }
    coalition = gs["coalition"].countries
    assert {"USA", "JPN", "GBR", "CHE", "NOR", "KOR", "TWN", "DEU"} <= coalition
    assert len(coalition) == 39 and not coalition & gs["hubs"].countries
    assert {"TUR", "ARE", "KAZ", "KGZ", "ARM", "HKG", "CHN"} <= gs["hubs"].countries
    known = {c.iso3 for c in ref.countries()}
    for g in gs.values():
        assert g.countries <= known and g.source


def test_group_cycle_and_unknown_member_are_rejected(data_copy: Path) -> None:
    groups = data_copy / "groups.yaml"
    replace_once(groups, "members: [RUS]", "members: [RUS, ft_destinations]")
    with pytest.raises(ReferenceDataError, match=r"groups.yaml: group cycle: .*russia"):
        ref.groups(data_dir=data_copy)
    shutil.copy(ref.DATA_DIR / "groups.yaml", groups)
    replace_once(groups, "members: [BLR]", "members: [BLX]")
    with pytest.raises(ReferenceDataError, match=r"groups.yaml.*'BLX'"):
        ref.groups(data_dir=data_copy)


# -- events ---------------------------------------------------------------------------------
def test_events_have_ids_dates_and_sources() -> None:
    evs = ref.events()
    assert len({e.id for e in evs}) == len(evs) >= 30
    assert [e.date for e in evs] == sorted(e.date for e in evs)
    assert all(e.source.startswith("http") for e in evs)
    assert ref.event("invasion").date == date(2022, 2, 24)
    assert ref.event("eo14114").date == date(2023, 12, 22)
    assert ref.event("EU-PKG-12").date == date(2023, 12, 18)
    assert ref.event("chpl-2024-02").kind == "list_publication"
    assert ref.event("ft-turkey-chpl").date == date(2023, 11, 27)
    block = ref.event("tr-customs-block")
    assert (block.date, block.date_precision) == (date(2024, 10, 22), "on_or_before")
    assert ref.event("us-warns-turkey").date_precision == "month"
    packages = [e for e in evs if e.id.startswith("eu-pkg-")]
    assert len(packages) >= 14
    with pytest.raises(ReferenceDataError, match=r"'invasio'.*did you mean: invasion"):
        ref.event("invasio")


def test_month_precision_requires_first_of_month(data_copy: Path) -> None:
    replace_once(data_copy / "events.yaml", "date: 2024-08-01", "date: 2024-08-15")
    with pytest.raises(ReferenceDataError, match=r"events.yaml.*1st of the month.*us-warns"):
        ref.events(data_dir=data_copy)
