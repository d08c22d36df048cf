"""List versions: every load kept and dated, diffs, as-of screening, --fail-on exit codes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import write
from transship.cli import app
from transship.errors import InputError, UsageError
from transship.screening import diff_lists, list_versions, load_lists, screen_file
from transship.screening.versions import labels_of
from transship.warehouse import Warehouse

runner = CliRunner()
HEADER = (
    "id,date,exporter_name,exporter_country,consignee_name,consignee_country,"
    "origin_country,destination_country,hs_code,value,currency\n"
)
# Not a CHPL good (940540 lamps) so only the parties decide.
DECLS = (
    HEADER + "d1,2024-03-01,Anka Elektronik,TR,Romashka OOO,RU,CN,RU,940540,10,USD\n"
    "d2,2024-03-01,Anka Elektronik,TR,Vostok Trade LLC,RU,CN,RU,940540,10,USD\n"
    "d3,2024-03-01,Anka Elektronik,TR,Other Co,KZ,CN,KZ,940540,10,USD\n"
)
V1 = "id,name,aliases,country\ne1,ООО Ромашка,,RU\ne2,Sever Holding,,RU\ne3,Polar Star,,RU\n"
# e1 removed, e2 gains an alias and a country, e3 unchanged, e4 added
V2 = (
    "id,name,aliases,country\ne2,Sever Holding,Severny Holding,RU;BY\ne3,Polar Star,,RU\n"
    "e4,Vostok Trade,,RU\n"
)


def _cli(*args: str) -> str:
    r = runner.invoke(app, list(args))
    assert r.exit_code == 0, r.output
    return r.output


@pytest.fixture
def two_versions(tmp_path: Path) -> Path:
    wh = tmp_path / "w.duckdb"
    load_lists(wh, "hand", [write(tmp_path / "v1.csv", V1)], as_of=date(2024, 1, 1))
    load_lists(wh, "hand", [write(tmp_path / "v2.csv", V2)], as_of=date(2024, 6, 1))
    return wh


def test_every_load_is_a_kept_dated_version(two_versions: Path, tmp_path: Path) -> None:
    vs = list_versions(two_versions)
    assert [(v.label, v.entities, v.current, v.effective) for v in vs] == [
        ("hand@1", 3, False, date(2024, 1, 1)),
        ("hand@2", 3, True, date(2024, 6, 1)),
    ]
    import hashlib

    assert vs[0].input_sha256 == hashlib.sha256(V1.encode()).hexdigest()
    assert vs[0].source == "v1.csv" and vs[0].published is None  # generic CSV has no date
    out = _cli("-w", str(two_versions), "lists", "list", "-f", "json")
    rows = json.loads(out)
    assert [(r["version"], r["dated_by"], r["current"]) for r in rows] == [
        (1, "as-of", False),
        (2, "as-of", True),
    ]
    # a malformed file is rejected and records no version
    bad = write(tmp_path / "bad.csv", "id,name,country\ne9,X,Atlantis\n")
    with pytest.raises(InputError, match=r"bad\.csv:2"):
        load_lists(two_versions, "hand", [bad])
    assert len(list_versions(two_versions)) == 2


def test_diff_names_added_removed_changed(two_versions: Path) -> None:
    d = diff_lists(two_versions, "hand")
    assert (d.old, d.new, d.added, d.removed, d.changed) == (1, 2, 1, 1, 1)
    by_id = {r["entity_id"]: r for r in d.rows}
    assert by_id["e4"]["change"] == "added" and by_id["e1"]["change"] == "removed"
    assert by_id["e2"]["detail"] == "+aliases Severny Holding; countries RUS -> BLR,RUS"
    assert "e3" not in by_id
    # reversed direction and the CLI
    back = diff_lists(two_versions, "hand", 2, 1)
    assert (back.added, back.removed, back.changed) == (1, 1, 1)
    out = _cli("-w", str(two_versions), "lists", "diff", "hand", "1", "2", "-f", "csv")
    assert out.splitlines()[0] == "change,entity_id,caption,detail"
    assert "added,e4,Vostok Trade," in out
    with pytest.raises(UsageError, match="has no version 7"):
        diff_lists(two_versions, "hand", 1, 7)


def test_as_of_screening_reproduces_the_old_decision(two_versions: Path, tmp_path: Path) -> None:
    decls = write(tmp_path / "d.csv", DECLS)
    now = screen_file(decls, "tr-customs-2024", ["hand"], two_versions)
    march = screen_file(
        decls, "tr-customs-2024", ["hand"], two_versions, lists_as_of=date(2024, 3, 1)
    )
    assert now.table.column("decision").to_pylist() == ["ALLOW", "BLOCK", "ALLOW"]
    assert march.table.column("decision").to_pylist() == ["BLOCK", "ALLOW", "ALLOW"]
    assert [(v["list"], v["version"]) for v in march.list_versions] == [("hand", 1)]
    assert [(v["list"], v["version"]) for v in now.list_versions] == [("hand", 2)]
    with Warehouse(two_versions) as w:
        rows = w.con.execute("SELECT list_versions FROM screening_audit ORDER BY seq").fetchall()
    assert [labels_of(r[0]) for r in rows] == [["hand@2"]] * 3 + [["hand@1"]] * 3
    with pytest.raises(UsageError, match="no version of list 'hand' was in force on 2023"):
        screen_file(decls, "tr-customs-2024", ["hand"], two_versions, lists_as_of=date(2023, 1, 1))
    # the CLI: --lists-as-of, and the versions are named
    r = runner.invoke(
        app,
        ["-w", str(two_versions), "screen", str(decls), "--lists", "hand",
         "--lists-as-of", "2024-03-01", "-f", "csv"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "d1,BLOCK" in r.output and "lists as of 2024-03-01: hand@1" in r.output


@pytest.mark.slow(reason="one CLI screening run per exit code (1.8 s)")
def test_fail_on_exit_codes(two_versions: Path, tmp_path: Path) -> None:
    decls = write(tmp_path / "d.csv", DECLS)
    allow = write(tmp_path / "a.csv", HEADER + "a1,2024-03-01,X Co,TR,Y Co,KZ,CN,KZ,940540,1,USD\n")
    base = ["-w", str(two_versions), "screen", "--lists", "hand", "-f", "csv"]
    assert runner.invoke(app, [*base, str(decls)]).exit_code == 0  # default: 0 whatever
    r = runner.invoke(app, [*base, str(decls), "--fail-on", "BLOCK"])
    assert r.exit_code == 1 and "1 declarations decided BLOCK" in r.output
    assert runner.invoke(app, [*base, str(decls), "--fail-on", "FLAG"]).exit_code == 1
    assert runner.invoke(app, [*base, str(allow), "--fail-on", "FLAG"]).exit_code == 0
    bad = write(tmp_path / "e.csv", HEADER + "e1,2024-03-01,X,TR,Y,KZ,CN,KZ,85x,1,USD\n")
    assert runner.invoke(app, [*base, str(bad), "--fail-on", "BLOCK"]).exit_code == 1


def test_opensanctions_dates_come_from_the_file(tmp_path: Path) -> None:
    targets = write(
        tmp_path / "t.csv",
        "id,schema,name,aliases,countries,last_change\n"
        "os-1,Company,Vostok Trade,,ru,2024-02-03T10:00:00\n"
        "os-2,Company,Sever Holding,,ru,2024-05-06T11:00:00\n",
    )
    ftm = write(
        tmp_path / "e.ftm.json",
        json.dumps(
            {
                "id": "x1",
                "schema": "Company",
                "caption": "Polar Star",
                "properties": {"name": ["Polar Star"]},
                "last_change": "2023-11-30T00:00:00",
            }
        )
        + "\n",
    )
    wh = tmp_path / "w.duckdb"
    load_lists(wh, "os", [targets])
    load_lists(wh, "fsf", [ftm])
    load_lists(wh, "os", [targets], as_of=date(2024, 7, 1))  # --as-of wins over the file
    got = {(v.label, v.published, v.effective) for v in list_versions(wh)}
    assert got == {
        ("os@1", date(2024, 5, 6), date(2024, 5, 6)),
        ("fsf@1", date(2023, 11, 30), date(2023, 11, 30)),
        ("os@2", date(2024, 5, 6), date(2024, 7, 1)),
    }


def test_a_list_loaded_before_versions_becomes_version_1(tmp_path: Path) -> None:
    wh = tmp_path / "w.duckdb"
    load_lists(wh, "hand", [write(tmp_path / "v1.csv", V1)])
    with Warehouse(wh) as w:  # as a warehouse from before versions were kept
        for t in ("list_versions", "version_names", "version_entities"):
            w.con.execute(f"DROP TABLE screening_{t}")
    load_lists(wh, "hand", [write(tmp_path / "v2.csv", V2)])
    d = diff_lists(wh, "hand")
    assert (d.old, d.new, d.added, d.removed, d.changed) == (1, 2, 1, 1, 1)


@pytest.mark.slow
def test_real_ofac_sdn_2021_vs_2024(shared_data: Path, tmp_path: Path) -> None:
    sdn = shared_data / "sanctions-lists" / "ofac-sdn"
    wh = tmp_path / "w.duckdb"
    v1 = load_lists(wh, "ofac-sdn", [sdn / "2021-07-07" / "sdn.csv"], as_of=date(2021, 7, 7))
    v2 = load_lists(wh, "ofac-sdn", [sdn / "2024-05-03" / "sdn.csv"], as_of=date(2024, 5, 3))
    assert (v1.version, v1.entities, v2.version, v2.entities) == (1, 8976, 2, 14965)
    d = diff_lists(wh, "ofac-sdn")
    assert d.added - d.removed == 14965 - 8976
    # ent_num 42033 (a Turkish company, RUSSIA-EO14024) was listed between the two files
    by_id = {r["entity_id"]: r for r in d.rows}
    assert by_id["42033"]["change"] == "added"
    assert "RUSSIA-EO14024" in by_id["42033"]["detail"]
    decls = write(
        tmp_path / "d.csv",
        HEADER + "t1,2024-05-10,AZU INTERNATIONAL BILGI TEKNOLOJILERI VE DIS TICARET LIMITED "
        "SIRKETI,TR,Buyer,KZ,CN,KZ,940540,10,USD\n",
    )
    then = screen_file(decls, "tr-customs-2024", ["ofac-sdn"], wh, lists_as_of=date(2022, 1, 1))
    now = screen_file(decls, "tr-customs-2024", ["ofac-sdn"], wh)
    assert then.table.column("decision").to_pylist() == ["ALLOW"]
    assert now.table.column("decision").to_pylist() == ["BLOCK"]
