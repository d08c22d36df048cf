"""Scoring detectors against scenario labels: perfect 1.0, null 0, known mixes in between."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from transship.cli import app
from transship.errors import UsageError
from transship.evaluation import (
    AnomaliesDetector,
    HubsDetector,
    MirrorDetector,
    NullDetector,
    OracleDetector,
    Prediction,
    evaluate,
    read_labels,
    score,
)
from transship.sources.synthetic import SyntheticTrade
from transship.warehouse import Warehouse

SPECS = [MirrorDetector(), HubsDetector(), AnomaliesDetector()]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    w = Warehouse(tmp_path_factory.mktemp("eval") / "e.duckdb")
    w.ingest(SyntheticTrade(seed=2, start="2021-01", end="2024-12", min_usd=500_000.0))
    yield w
    w.close()


@pytest.mark.slow(reason="builds a labelled synthetic warehouse, 3.5 s (module fixture)")
@pytest.mark.parametrize("spec", SPECS, ids=lambda d: d.name)
def test_perfect_detector_scores_one_and_null_zero(labelled: Warehouse, spec: Any) -> None:
    labels = read_labels(labelled.ibis())
    result = evaluate(labelled.ibis(), [OracleDetector(spec, labels), NullDetector(spec)])
    assert result.synthetic
    perfect = [r for r in result.rows if r["detector"] == "oracle" and r["truth_units"]]
    null = [r for r in result.rows if r["detector"] == "null" and r["truth_units"]]
    assert perfect and len(perfect) == len(null)
    for r in perfect:
        assert (r["recall"], r["precision"]) == (1.0, 1.0), r
        assert r["median_months_to_detect"] == 0
        assert r["scenarios_found"] == r["scenarios_total"] > 0
    for r in null:
        assert (r["recall"], r["precision"], r["found"], r["predicted"]) == (0.0, 0.0, 0, 0), r
        assert r["scenarios_found"] == 0 and isinstance(r["scenarios_total"], int)
    assert result.score("oracle")["truth_units"] > 0


@pytest.mark.slow(reason="the labelled synthetic warehouse (module fixture)")
def test_partial_detector_scores_from_first_principles(labelled: Warehouse) -> None:
    labels = read_labels(labelled.ibis())
    spec = AnomaliesDetector()
    truth: dict[tuple[str, ...], set[str]] = {}  # unit -> kinds it is truth for
    for lab in labels:
        if lab["role"] in spec.roles:
            unit = spec.unit(lab)
            assert unit is not None
            truth.setdefault(unit, set()).add(lab["kind"])
    kinds: dict[tuple[str, ...], set[str]] = {}
    scenarios: dict[tuple[str, ...], set[str]] = {}
    for lab in labels:
        unit = spec.unit(lab)
        assert unit is not None
        kinds.setdefault(unit, set()).add(lab["kind"])
        if lab["role"] in spec.roles:
            scenarios.setdefault(unit, set()).add(lab["scenario"])
    reroutes = sorted(u for u, k in truth.items() if "reroute" in k)
    starts = {
        lab["scenario"]: lab["period_start"]
        for lab in sorted(labels, key=lambda lab: lab["period_start"], reverse=True)
    }
    # find 3 reroute-only units, 3 months after their scenario starts, plus 2 false alarms
    picked = [u for u in reroutes if kinds[u] == {"reroute"} and len(scenarios[u]) == 1][:3]
    assert len(picked) == 3
    scen = {u: next(iter(scenarios[u])) for u in picked}
    preds = [Prediction(u, _plus_months(starts[scen[u]], 3)) for u in picked]
    preds += [Prediction(("ZZZ", "YYY", "854231")), Prediction(("YYY", "ZZZ", "854231"))]
    rows = {r["kind"]: r for r in score(spec, preds, labels)}
    n_reroute = len(reroutes)
    assert rows["reroute"]["truth_units"] == n_reroute
    assert rows["reroute"]["recall"] == round(3 / n_reroute, 3)
    assert rows["reroute"]["precision"] == round(3 / 5, 3)
    assert rows["reroute"]["median_months_to_detect"] == 3
    assert rows["all"]["recall"] == round(3 / len(truth), 3)
    assert rows["block"]["recall"] == 0.0 and rows["block"]["precision"] == 0.0  # 0 of 0 + 2
    assert rows["all"]["predicted"] == 5


def _plus_months(d: date, n: int) -> date:
    o = d.year * 12 + d.month - 1 + n
    return date(o // 12, o % 12 + 1, 1)


def test_unlabelled_warehouse_is_refused(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "u.duckdb") as wh:
        wh.ingest(SyntheticTrade(scenarios="none", start="2022-01", end="2022-03"))
        with pytest.raises(UsageError, match="no scenario labels"):
            evaluate(wh.ibis(), [])
    result = CliRunner().invoke(app, ["-w", str(tmp_path / "u.duckdb"), "evaluate"])
    assert result.exit_code == 2
    assert "no scenario labels" in result.output


@pytest.mark.slow
def test_cli_ingest_synthetic_then_evaluate_real_detectors(tmp_path: Path) -> None:
    import json

    db = str(tmp_path / "s.duckdb")
    runner = CliRunner()
    args = ["--start", "2019-01", "--end", "2024-12", "--min-usd", "500000"]
    result = runner.invoke(app, ["-w", db, "ingest", "synthetic", *args])
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC" in result.output
    result = runner.invoke(app, ["-w", db, "evaluate", "--detector", "hubs", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["kind"]: r for r in json.loads(result.stdout)}
    assert set(rows) == {"reroute", "phantom_exports", "misdeclare", "block", "all"}
    assert {r["detector"] for r in rows.values()} == {"hubs"}
    # Turkey's roundabout is the biggest scheme: the hub ranking must find it
    with Warehouse(db, read_only=True) as wh:
        found = {p.unit for p in HubsDetector().predict(wh.ibis())}
    assert ("TUR",) in found
    assert rows["reroute"]["found"] >= 1 and rows["all"]["predicted"] == len(found)
    result = runner.invoke(app, ["-w", db, "evaluate", "--detector", "oracle"])
    assert result.exit_code == 2 and "unknown detector oracle" in result.output


@pytest.mark.slow
def test_mixed_synthetic_batches_are_refused(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "m.duckdb") as wh:
        wh.ingest(SyntheticTrade(seed=1, start="2022-01", end="2022-06", min_usd=300_000.0))
        # another draw with other keys: its labels replace the first's, whose rows remain
        wh.ingest(SyntheticTrade(seed=2, start="2022-04", end="2022-09", min_usd=300_000.0))
        with pytest.raises(UsageError, match="one labelled synthetic ingest"):
            read_labels(wh.ibis())
