"""The analysis commands end to end: one warehouse, each command, JSON parsed back."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from tests._engines import MAP, spark_session  # noqa: F401
from transship.cli import app

runner = CliRunner()


def run(db: str, *args: str) -> object:
    result = runner.invoke(app, ["-w", db, *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    return json.loads(text[: text.rindex("}") + 1] if text.lstrip().startswith("{") else
                      text[: text.rindex("]") + 1])  # fmt: skip


def test_headline_in_one_command(cmp_db: str) -> None:
    doc = run(cmp_db, "headline", "--reporter", "TUR", "--partner", "russia+ft_five",
              "--period", "2023-01..2023-02", "--baseline", "2019..2020")  # fmt: skip
    assert isinstance(doc, dict)
    (total,) = doc["total"]
    # CMP_ROWS: 2023 Jan+Feb 30+50 to KAZ; a year earlier 10+5 to KAZ and 7 to RUS;
    # 2019-2020 Jan+Feb (6+2+8) / 2 years
    assert total["value_usd"] == 80 and total["compare_usd"] == 22
    assert total["baseline_usd"] == pytest.approx(8)
    assert {r["partner"]: r["value_usd"] for r in doc["by_partner"]} == {"KAZ": 80, "RUS": 0}
    # the series runs from the compare start (2022-01) to the period end (2023-02)
    assert [(r["period"], r["value_usd"]) for r in doc["series"]] == [
        ("2022-01-01", 10), ("2022-02-01", 12), ("2023-01-01", 30), ("2023-02-01", 50)]  # fmt: skip
    assert doc["peak"] == {"period": "2023-02-01", "value_usd": 50}
    assert doc["data"] == "reported"


@pytest.mark.slow
def test_flows_compare_mirror_anomalies_event_study_hubs(cmp_db: str) -> None:
    rows = run(cmp_db, "flows", "--reporter", "TUR", "--period", "2023-01..2023-02",
               "--by", "partner", "--compare", "prior")  # fmt: skip
    assert {r["partner"]: r["compare_usd"] for r in rows} == {"KAZ": 15, "RUS": 7}  # type: ignore[union-attr]
    rows = run(cmp_db, "mirror", "--exporters", "TUR", "--importers", "KAZ", "--whole-period")
    assert rows[0]["m_missing"] is True  # type: ignore[index]  # KAZ reports no imports
    rows = run(cmp_db, "event-study", "--event", "invasion", "--reporter", "TUR", "--before", "1",
               "--after", "0")  # fmt: skip
    assert [r["rel_month"] for r in rows] == [-1, 0]  # type: ignore[union-attr]
    rows = run(cmp_db, "anomalies", "--reporter", "TUR", "--pre", "2019..2020",
               "--min-pre-months", "1")  # fmt: skip
    assert rows and rows[0]["rank"] == 1  # type: ignore[index]
    rows = run(cmp_db, "hubs", "--hubs", "TUR", "--baseline", "2019..2020")
    (tur,) = [r for r in rows if r["leg"] == "exports_to_target"]  # type: ignore[union-attr, index]
    # CHPL 854800: 2019-2020 (as HS2017 854890) 6+2+100+8 over 24 months; after the invasion
    # month, 2022-03..2023-10 (20 months): 30+50+999. No control goods: no estimate.
    assert tur["chpl_growth"] == pytest.approx(math.log((1079 / 20) / (116 / 24)))
    assert tur["did"] is None


def test_engine_spark_from_the_cli(cmp_db: str, spark_session: object) -> None:  # noqa: F811
    rows = run(cmp_db, "flows", "--reporter", "TUR", "--period", "2023-01..2023-02",
               "--by", "partner", "--compare", "prior", "--engine", "spark")  # fmt: skip
    assert {r["partner"]: r["value_usd"] for r in rows} == {"KAZ": 80, "RUS": 0}  # type: ignore[union-attr]
