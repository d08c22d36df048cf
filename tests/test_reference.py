"""Reference data: facts, loaders, expression parsers, provenance and error reporting."""

from __future__ import annotations

import ast
import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import replace_once
from transship import reference as ref
from transship.reference import ReferenceDataError

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(
    os.environ.get("TRANSSHIP_SHARED_DATA", Path(__file__).parents[2] / "shared" / "data")
)
PKG = REPO / "src" / "transship" / "reference"

TIER_1_2 = {
    "854231",
    "854232",
    "854233",
    "854239",
    "851762",
    "852691",
    "853221",
    "853224",
    "854800",
}


@pytest.fixture
def hs_dir() -> Path:
    path = SHARED / "hs-nomenclature"
    if not path.is_dir():
        pytest.skip(
            f"real HS tables not found at {path} (../shared/data); set TRANSSHIP_SHARED_DATA"
        )
    return path


# -- CHPL -----------------------------------------------------------------------------------
def test_chpl_has_50_codes_in_six_tiers() -> None:
    items = ref.chpl()
    assert len(items) == 50
    assert len({i.hs6 for i in items}) == 50
    counts = {t: sum(i.tier == t for i in items) for t in ("1", "2", "3.A", "3.B", "4.A", "4.B")}
    assert counts == {"1": 4, "2": 5, "3.A": 16, "3.B": 9, "4.A": 11, "4.B": 5}
    assert {i.hs6 for i in items if i.tier in ("1", "2")} == TIER_1_2
    assert {"854151", "854159", "880730", "854800"} <= {i.hs6 for i in items}


def test_chpl_tier_filters_accept_several_spellings() -> None:
    assert {i.hs6 for i in ref.chpl(tiers=["tier1", "Tier 2"])} == TIER_1_2
    assert len(ref.chpl(tiers=["3"])) == 25  # 3 covers 3.A and 3.B
    assert len(ref.chpl(tiers=["4b", "3.a"])) == 21
    with pytest.raises(ReferenceDataError, match="tier5"):
        ref.chpl(tiers=["tier5"])


def test_chpl_versions_and_membership() -> None:
    versions = {v.id: v for v in ref.chpl_versions()}
    assert list(versions) == ["2023-05", "2023-original", "2023-09", "2024-02"]
    assert versions["2024-02"].published == date(2024, 2, 23)
    assert versions["2024-02"].item_count == 50
    assert versions["2023-09"].item_count == 45
    assert versions["2023-09"].date_precision == "month"
    assert versions["2023-original"].published is None
    assert {i.hs6 for i in ref.chpl("2023-05")} == TIER_1_2


def test_chpl_version_with_unknown_membership_fails_naming_codes() -> None:
    with pytest.raises(ReferenceDataError, match=r"2023-09.*unknown.*854231"):
        ref.chpl("2023-09")
    with pytest.raises(ReferenceDataError, match=r"2023-09.*unknown"):
        ref.parse_products("chpl@2023-09")
    with pytest.raises(ReferenceDataError, match="did you mean: 2024-02"):
        ref.chpl("2024-03")


def test_chpl_codes_and_descriptions_match_hs2022_nomenclature(hs_dir: Path) -> None:
    with (hs_dir / "harmonized-system.csv").open(encoding="utf-8") as fh:
        nomenclature = {r["hscode"]: r["description"] for r in csv.DictReader(fh)}
    for item in ref.chpl():
        assert nomenclature.get(item.hs6) == item.description, item.hs6


# -- products and concordance ---------------------------------------------------------------
def test_parse_products_terms() -> None:
    assert len(ref.parse_products("chpl")) == 50
    assert set(ref.parse_products("chpl:tier1,tier2")) == TIER_1_2
    assert set(ref.parse_products("chpl:1,2,3.A")) == TIER_1_2 | {
        i.hs6 for i in ref.chpl(tiers=["3.A"])
    }
    ps = ref.parse_products("8542,851762")
    assert set(ps) == {"854231", "854232", "854233", "854239", "854290", "851762"}
    assert ps.prefixes == ("8542",)
    assert "HS 8542, 851762" in ps.label
    both = ref.parse_products("chpl:tier1 + 8486.20")
    assert set(both) == {"854231", "854232", "854233", "854239", "848620"}
    assert both.label == "CHPL 2024-02 (tiers 1) + HS 8486.20"
    assert set(ref.parse_products("chpl@2023-05")) == TIER_1_2


def test_parse_products_errors_name_the_term() -> None:
    with pytest.raises(ReferenceDataError, match=r"'854299'.*did you mean"):
        ref.parse_products("chpl+854299")  # 854299 is no HS2022 code
    with pytest.raises(ReferenceDataError, match="'85x'"):
        ref.parse_products("85x")
    with pytest.raises(ReferenceDataError, match="empty term"):
        ref.parse_products("chpl+")
    with pytest.raises(ReferenceDataError, match="matches no HS2022 code"):
        ref.parse_products("7777")


def test_concordance_facts() -> None:
    chpl = ref.parse_products("chpl")
    for rev in ("HS2017", "HS2012"):
        m = chpl.in_revision(rev)
        assert m.comparable["880730"] == ("880330",)
        assert m.comparable["854800"] == ("854890",)
        assert m.details["880730"].status == "mapped"
        for new in ("854151", "854159"):
            assert new in m.not_comparable
            assert m.codes[new] == ()
        assert "880330" in m.old_codes
        assert m.to_hs2022()["854890"] == ("854800",)
    # HS2017 absorbed multi-component ICs from ~150 HS2012 codes: tier 1 is not followed back.
    assert "854231" in chpl.in_revision("HS2017").comparable
    assert "854231" in chpl.in_revision("HS2012").not_comparable
    same = chpl.in_revision("hs2022")
    assert same.codes["854151"] == ("854151",) and not same.not_comparable
    old = chpl.in_revision("HS2007")
    assert not old.comparable and "no UN correlation table" in old.not_comparable["880730"]
    extra = ref.parse_products("851713").in_revision("HS2017")  # smartphones, new in HS2022
    assert "not in the shipped concordance" in extra.not_comparable["851713"]
    with pytest.raises(ReferenceDataError, match="HS2019"):
        chpl.in_revision("HS2019")


@pytest.mark.slow(reason="rebuilds the concordance from the UN tables (1.8 s)")
def test_concordance_is_derived_from_un_correlation_tables(hs_dir: Path) -> None:
    pytest.importorskip("openpyxl")
    spec = importlib.util.spec_from_file_location(
        "build_concordance", REPO / "scripts" / "build_concordance.py"
    )
    assert spec and spec.loader
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    codes = sorted(i.hs6 for i in ref.chpl())
    rows, code_rows = builder.build(hs_dir.parent, codes)
    with (PKG / "data" / "hs_concordance.csv").open(encoding="utf-8") as fh:
        assert list(csv.DictReader(fh)) == rows
    with (PKG / "data" / "hs6_codes.csv").open(encoding="utf-8") as fh:
        assert list(csv.DictReader(fh)) == code_rows
    # Every code emitted exists in its revision's UN Comtrade code list.
    lists = {}
    for rev, name in (("HS2012", "H4"), ("HS2017", "H5"), ("HS2022", "H6")):
        results = json.loads((hs_dir / f"classification{name}.json").read_text())["results"]
        lists[rev] = {r["id"] for r in results}
    for row in rows:
        assert row["hs2022"] in lists["HS2022"]
        assert row["old_code"] in lists[row["revision"]]
        assert all(c in lists["HS2022"] for c in row["also_maps_to"].split(";") if c)


@pytest.mark.parametrize(
    ("year", "rev"),
    [
        (1988, "HS1992"),
        (1995, "HS1992"),
        (1996, "HS1996"),
        (2001, "HS1996"),
        (2002, "HS2002"),
        (2007, "HS2007"),
        (2011, "HS2007"),
        (2012, "HS2012"),
        (2016, "HS2012"),
        (2017, "HS2017"),
        (2021, "HS2017"),
        (2022, "HS2022"),
        (2025, "HS2022"),
    ],
)
def test_hs_revision_in_force(year: int, rev: str) -> None:
    assert ref.hs_revision_in_force(year) == rev


# -- provenance, records, corruption --------------------------------------------------------
def test_every_data_file_names_source_and_date() -> None:
    # Subdirectories (policies/) hold their own validated files with sources.
    files = sorted(
        p.name
        for p in (PKG / "data").iterdir()
        if p.is_file() and not p.name.endswith(".meta.yaml")
    )
    metas = ref.data_sources()
    assert sorted(metas) == files
    for name, meta in metas.items():
        assert meta.has_source(), name
        assert isinstance(meta.source_date, date), name
        assert meta.retrieved is not None, name


def test_records_are_flat() -> None:
    for kind in ("chpl", "countries", "groups", "events"):
        rows = ref.records(kind)  # type: ignore[arg-type]
        assert rows, kind
        for row in rows:
            assert all(v is None or isinstance(v, str | int) for v in row.values()), kind
    assert len(ref.records("chpl")) == 50
    assert ref.records("chpl")[0]["in_2024-02"] == "yes"
    with pytest.raises(ReferenceDataError, match="record kind"):
        ref.records("chpls")  # type: ignore[arg-type]


def test_corrupted_csv_row_is_reported_with_file_line_and_field(data_copy: Path) -> None:
    countries = data_copy / "countries.csv"
    lines = countries.read_text(encoding="utf-8").splitlines()
    line_no = next(i for i, s in enumerate(lines, start=1) if s.startswith("USA,"))
    replace_once(
        countries,
        "USA,US,United States,country,iso3166-1,840,",
        "USA,US,United States,country,iso3166-1,0840,",
    )
    with pytest.raises(ReferenceDataError) as exc:
        ref.countries(data_dir=data_copy)
    msg = str(exc.value)
    assert f"countries.csv, line {line_no}" in msg and "'m49'" in msg and "0840" in msg
    # the packaged data is untouched and still loads
    assert ref.country("USA").m49 == "840"


def test_corrupted_chpl_and_concordance_are_reported(data_copy: Path) -> None:
    replace_once(data_copy / "chpl.csv", "854231,1,", "854231,5,")
    with pytest.raises(ReferenceDataError, match=r"chpl.csv, line 2: field 'tier'"):
        ref.chpl(data_dir=data_copy)
    shutil.copy(ref.DATA_DIR / "chpl.csv", data_copy / "chpl.csv")
    replace_once(data_copy / "hs_concordance.csv", "880730,HS2017,mapped", "880730,HS2017,exact")
    with pytest.raises(ReferenceDataError, match=r"hs_concordance.csv.*880730"):
        ref.parse_products("chpl", data_dir=data_copy).in_revision("HS2017")
    (data_copy / "chpl.csv.meta.yaml").unlink()
    with pytest.raises(ReferenceDataError, match=r"chpl.csv.meta.yaml"):
        ref.data_sources(data_dir=data_copy)


def test_duplicate_codes_are_rejected(data_copy: Path) -> None:
    replace_once(
        data_copy / "countries.csv",
        "FRA,FR,France,country,iso3166-1,250,251,",
        "FRA,FR,France,country,iso3166-1,250,842,",
    )
    with pytest.raises(ReferenceDataError, match=r"countries.csv, line \d+: comtrade code 842"):
        ref.country_lookup("comtrade", data_dir=data_copy)


def test_reference_imports_nothing_heavy_and_nothing_of_ours() -> None:
    # transship.errors is the one error hierarchy, a leaf module that imports nothing of ours
    allowed_ours = ("transship.reference", "transship.errors")
    for path in PKG.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                root = name.split(".")[0]
                assert root not in {"pandas", "openpyxl", "numpy", "pyarrow", "duckdb"}, path
                if root == "transship":
                    assert name.startswith(allowed_ours), (path, name)
    code = (
        "import sys, transship.reference as r; r.validate_all(); "
        "bad = {'pandas', 'openpyxl', 'numpy', 'pyarrow'} & set(sys.modules); "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
