"""One option vocabulary: new names in help, the old names still work (hidden, one release)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from transship.cli import app

runner = CliRunner()

# command, old flag, new flag
RENAMED = [
    (["mirror"], "--exporters", "--reporter"),
    (["mirror"], "--importers", "--partner"),
    (["hubs"], "--hubs", "--hub"),
    (["anomalies"], "--pre", "--baseline"),
    (["fetch", "comtrade"], "--reporters", "--reporter"),
    (["fetch", "comtrade"], "--partners", "--partner"),
    (["fetch", "comtrade"], "--flows", "--flow"),
    (["ingest", "synthetic"], "--start", "--period"),
    (["ingest", "synthetic"], "--end", "--period"),
]


@pytest.mark.parametrize(("command", "old", "new"), RENAMED)
def test_help_shows_the_new_name_only(command: list[str], old: str, new: str) -> None:
    res = runner.invoke(app, [*command, "-h"], terminal_width=200)
    assert res.exit_code == 0, res.output
    flags = {w.strip(",") for w in res.output.split() if w.startswith("--")}
    assert new in flags and old not in flags


def _rows(db: str, *args: str) -> tuple[list[dict[str, object]], str]:
    res = runner.invoke(app, ["-w", db, *args, "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout), res.stderr


@pytest.mark.slow  # the mirror twice, ~1 s
def test_mirror_old_and_new_names_give_the_same_rows(cmp_db: str) -> None:
    new, quiet = _rows(cmp_db, "mirror", "--reporter", "TUR", "--partner", "KAZ", "--whole-period")
    old, said = _rows(cmp_db, "mirror", "--exporters", "TUR", "--importers=KAZ", "--whole-period")
    assert new == old and len(new) == 1 and new[0]["exporter"] == "TUR"
    assert "--exporters is now --reporter" in said and "--importers is now --partner" in said
    assert "is now" not in quiet


@pytest.mark.slow(reason="hubs and anomalies twice each (1.6 s); mirror above covers the aliases")
def test_hubs_and_anomalies_old_names(cmp_db: str) -> None:
    assert (
        _rows(cmp_db, "hubs", "--hubs", "TUR", "--baseline", "2019..2020")[0]
        == _rows(cmp_db, "hubs", "--hub", "TUR", "--baseline", "2019..2020")[0]
    )
    args = ["--reporter", "TUR", "--threshold", "0", "--min-pre-months", "1"]
    old = _rows(cmp_db, "anomalies", *args, "--pre", "2019..2020")[0]
    assert old == _rows(cmp_db, "anomalies", *args, "--baseline", "2019..2020")[0]


def test_library_error_about_an_old_parameter_names_the_new_flag(cmp_db: str) -> None:
    # the library calls it `exporters`; the CLI says --reporter
    res = runner.invoke(app, ["-w", cmp_db, "mirror", "--reporter", "", "--partner", "KAZ"])
    assert res.exit_code != 0
    assert "--exporters" not in res.output
