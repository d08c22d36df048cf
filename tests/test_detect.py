"""`detect`: the registry, the FDR arithmetic, and the triage table on a labelled SYNTHETIC
warehouse (the default scenarios: Turkey's roundabout, the TUR->KAZ phantom exports, the EU
misdeclaration into Kazakhstan)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from transship.analysis.detect import detect, make_detectors, registry
from transship.analysis.detect.base import Finding, apply_fdr, bh, binom_sf
from transship.cli import app
from transship.errors import UsageError
from transship.sources.synthetic import SyntheticTrade
from transship.warehouse import Warehouse


def test_benjamini_hochberg_by_hand() -> None:
    # p sorted 0.01, 0.03, 0.04, 0.5 (n=4): p*n/rank = 0.04, 0.06, 0.0533, 0.5; monotone from
    # the top: q(0.04) = min(0.0533, 0.5), q(0.03) = min(0.06, 0.0533)
    assert bh([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.05333, 0.05333, 0.5], abs=1e-4)
    f = [Finding("k", str(i), None, 1.0, "", "d", p) for i, p in enumerate([0.001, 0.04, 0.3])]
    kept = apply_fdr(f, 0.05)
    assert [x.where for x in kept] == ["0"] and kept[0].q_value == pytest.approx(0.003)
    # untested candidates count: with 100 tests, 0.001 -> q 0.1, dropped at FDR 0.05
    assert apply_fdr(f, 0.05, n_tests=100) == []


def test_binomial_tail_exact() -> None:
    assert binom_sf(0, 5, 0.3) == 1.0
    assert binom_sf(2, 2, 0.1) == pytest.approx(0.01)
    assert binom_sf(1, 3, 0.5) == pytest.approx(7 / 8)  # 1 - P(0)
    assert binom_sf(4, 3, 0.5) == 0.0


def test_registry_declares_parameters() -> None:
    reg = registry()
    assert {"hubs", "mirror", "code_mismatch", "code_shift", "unit_values"} <= set(reg)
    for name, cls in reg.items():
        assert cls.name == name and cls.kind and cls.description
        for p in cls.PARAMETERS:
            assert p.description and p.default is not None, (name, p.name)
    assert reg["code_shift"].default  # on: it tells a code shift from a cut (codeshift.py)
    assert reg["misdeclared"].default  # on: it pools the misdeclaration tests (pooled.py)
    with pytest.raises(UsageError, match="unknown parameter fdrr"):
        make_detectors(["hubs"], {"hubs": {"fdrr": 0.1}})
    with pytest.raises(UsageError, match="unknown detector nope"):
        make_detectors(["nope"])


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    w = Warehouse(tmp_path_factory.mktemp("detect") / "d.duckdb")
    w.ingest(SyntheticTrade(seed=2, start="2019-01", end="2024-12", min_usd=300_000.0))
    yield w
    w.close()


@pytest.mark.slow
def test_triage_finds_the_injected_schemes(labelled: Warehouse) -> None:
    r = detect(labelled.ibis())
    assert r.synthetic and r.findings
    where = {(f.detector, f.country or f"{f.exporter}->{f.importer}") for f in r.findings}
    assert ("hubs", "TUR") in where
    assert ("mirror", "TUR->KAZ") in where
    assert any(d == "code_mismatch" and w.endswith("->KAZ") for d, w in where)
    assert any(d == "misdeclared" and w.startswith(("DEU->", "POL->")) for d, w in where)
    # the table: one row per country or pair, every finding in exactly one row
    assert sum(1 + len(f.also) for f in r.table) == len(r.findings) > len(r.table)
    assert r.rows()[0]["where"] == r.table[0].where and "also" in r.rows()[0]
    scores = [f.score for f in r.findings]
    assert scores == sorted(scores, reverse=True)
    for f in r.findings:
        assert f.q_value <= 0.05 and f.evidence and f.link.startswith("/")
    # the phantom scheme: since when = within 3 months of its start (2022-06)
    tk = next(f for f in r.findings if f.detector == "mirror" and f.where == "TUR->KAZ")
    assert tk.since is not None and (tk.since.year, tk.since.month) <= (2022, 9)
    # few findings on pairs no scenario touched
    from transship.evaluation import read_labels, triage_scores

    tri = triage_scores(labelled.ibis(), read_labels(labelled.ibis()))
    assert tri["false_share"] is not None and tri["false_share"] <= 0.5, tri


@pytest.mark.slow
def test_report_lists_the_hubs_findings(labelled: Warehouse, tmp_path: Path) -> None:
    from transship.report.html import build_report

    r = build_report(labelled.ibis(), hub="TUR", target="russia+ft_five",
                     period="2023-01..2023-09", baseline="2019..2021",
                     out=tmp_path / "r.html", detect=True)  # fmt: skip
    text = r.out.read_text(encoding="utf-8")
    assert "What the detectors single out" in text and "TUR-&gt;KAZ" in text
    plain = build_report(labelled.ibis(), hub="TUR", period="2023-01..2023-09",
                         baseline="2019..2021", out=tmp_path / "p.html")  # fmt: skip
    assert "What the detectors single out" not in plain.out.read_text(encoding="utf-8")


@pytest.mark.slow
def test_cli_detect_json_and_list(labelled: Warehouse, tmp_path: Path) -> None:
    db = str(labelled.path)
    labelled.close()
    runner = CliRunner()
    res = runner.invoke(app, ["-w", db, "detect", "--format", "json", "--detector", "mirror"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout[res.stdout.index("[") : res.stdout.rindex("]") + 1])
    assert rows and {"kind", "where", "since", "size_usd", "evidence", "detector", "score",
                     "link", "data"} <= set(rows[0])  # fmt: skip
    assert rows[0]["data"] == "SYNTHETIC" and rows[0]["where"] == "TUR->KAZ"
    res = runner.invoke(app, ["-w", db, "detect", "--list", "--format", "csv"])
    assert res.exit_code == 0 and "min_ratio" in res.output


@pytest.mark.slow
def test_dashboard_detect_page(labelled: Warehouse) -> None:
    from fastapi.testclient import TestClient

    from transship.settings import get_settings
    from transship.web.app import create_app

    settings = get_settings().model_copy(update={"warehouse": labelled.path})
    labelled.close()
    with TestClient(create_app(settings)) as client:
        r = client.get("/detect")
        assert r.status_code == 200, r.text[:500]
        assert "SYNTHETIC" in r.text and "triage" in r.text
        # the headline counts findings and the rows they are grouped into, not one as the other
        m = re.search(r"(\d+) findings survive .* in (\d+) rows \(one per country", r.text)
        assert m and int(m.group(1)) >= int(m.group(2)) >= 1, r.text[:2000]
        assert 'href="/mirror?hub=TUR&amp;target=KAZ"' in r.text  # the finding's analysis
        csv_text = client.get("/detect?download=findings").text
        assert csv_text.splitlines()[0].startswith("data,rank,kind,where,since,size_usd")
