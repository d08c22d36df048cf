"""The triage table: one row per subject (a country with the surges on its trade, or a
pair), scored against labels; and the pooled-mirror unit of `misdeclared`. SYNTHETIC-free:
hand-made findings and tests, real numbers."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from transship.analysis.detect.base import Context, Finding
from transship.analysis.detect.triage import triage
from transship.sources.scenarios import base as role


def _f(detector: str, kind: str, score: float, *, country: str | None = None,
       pair: tuple[str, str] | None = None, hs: str | None = None) -> Finding:  # fmt: skip
    e, i = pair or (None, None)
    where = country or f"{e}->{i}" + (f" {hs}" if hs else "")
    return Finding(kind, where, date(2023, 1, 1), 1e6, "evidence", detector, 1e-3,
                   score=score, exporter=e, importer=i, country=country, hs=hs)  # fmt: skip


def _ranked() -> list[Finding]:
    fs = [
        _f("mirror", "mirror_gap", 300.0, pair=("TUR", "KAZ")),
        _f("hubs", "reroute_hub", 150.0, country="ARM"),
        _f("blocks", "block", 117.0, country="TUR"),
        _f("surges", "surge", 32.4, pair=("ARM", "RUS")),
        _f("misdeclared", "misdeclaration", 30.6, pair=("TUR", "KAZ"), hs="8457"),
        _f("hubs", "reroute_hub", 20.0, country="ARM"),  # its other leg
        _f("surges", "surge", 17.4, pair=("TUR", "KAZ")),  # TUR's own exports: TUR's row
        _f("surges", "surge", 10.0, pair=("DEU", "ARM")),  # goods into the hub: ARM's row
        _f("code_mismatch", "code_mismatch", 5.0, pair=("DEU", "KAZ"), hs="8542"),
        _f("surges", "surge", 2.6, pair=("CHN", "RUS")),  # no flagged country: its pair
    ]
    return sorted(fs, key=lambda f: -f.score)


def test_triage_groups_findings_into_one_row_per_subject() -> None:
    rows = triage(_ranked())
    assert [r.where for r in rows] == ["TUR->KAZ", "ARM", "TUR", "DEU->KAZ 8542", "CHN->RUS"]
    assert [r.score for r in rows] == [300.0, 150.0, 117.0, 5.0, 2.6]  # each its best's own
    tk, arm, tur = rows[0], rows[1], rows[2]
    assert [g.detector for g in tk.also] == ["misdeclared"]
    assert [(g.detector, g.where) for g in arm.also] == [
        ("surges", "ARM->RUS"), ("hubs", "ARM"), ("surges", "DEU->ARM")]  # fmt: skip
    assert [g.where for g in tur.also] == ["TUR->KAZ"]
    assert tk.row()["also"] == "misdeclared: TUR->KAZ 8457 (score 30.6)"
    assert rows[3].row()["also"] == ""
    assert sum(1 + len(r.also) for r in rows) == 10  # every finding is in one row


def _label(scenario: str, kind: str, role: str, e: str, i: str) -> dict[str, Any]:
    return {"scenario": scenario, "kind": kind, "role": role, "exporter": e, "importer": i,
            "hs2022": "854231", "period_start": date(2022, 6, 1)}  # fmt: skip


def test_triage_scores_count_rows_not_findings() -> None:
    """One roundabout with 25 findings (its hub, and surges from 24 origins into it) no longer
    pushes a second scheme's only finding out of the top 20."""
    from transship.evaluation import triage_scores

    hub = [_f("hubs", "reroute_hub", 100.0, country="ARM")]
    legs = [_f("surges", "surge", 90.0 - k, pair=(f"O{k:02d}", "ARM")) for k in range(24)]
    other = [_f("mirror", "mirror_gap", 3.0, pair=("TUR", "KAZ"))]
    flat = hub + legs + other
    labels = [_label("arm", "reroute", role.HUB_TO_TARGET, "ARM", "RUS"),
              *(_label("arm", "reroute", role.ORIGIN_TO_HUB, f"O{k:02d}", "ARM")
                for k in range(24)),
              _label("tk", "phantom_exports", role.PHANTOM, "TUR", "KAZ")]  # fmt: skip
    before = triage_scores(None, labels, result=SimpleNamespace(
        findings=flat, table=flat, timings={}))  # fmt: skip
    assert (before["schemes_in_top"], before["rows"], before["missed"]) == (1, 20, ["tk"])
    after = triage_scores(None, labels, result=SimpleNamespace(
        findings=flat, table=triage(flat), timings={}))  # fmt: skip
    assert (after["schemes_in_top"], after["rows"], after["false_findings"]) == (2, 2, 0)
    assert after["table_rows"] == 2 and after["findings"] == 26


def test_misdeclared_pools_the_mirror_over_a_pairs_codes() -> None:
    """The pooled mirror unit: a pair's CHPL code windows together (p_pool), times two and
    the two quantiles tried; pairs it did not test (p_pool 1) add no unit but count."""
    import pandas as pd

    from transship.analysis.detect.mirror import MirrorGapDetector
    from transship.analysis.detect.pooled import MisdeclarationDetector

    best = pd.DataFrame(
        {"n": [40, 30, 12], "kx": [6, 0, 1], "codes": [5, 3, 2], "p_pool": [2e-6, 1.0, 1.0],
         "rate": [0.012, 0.012, 0.012]},
        index=pd.MultiIndex.from_tuples([("USA", "ARE"), ("FRA", "DEU"), ("JPN", "KAZ")],
                                        names=["exporter", "importer"]),
    )  # fmt: skip
    ctx = Context(con=None)
    mirror = MirrorGapDetector()
    mirror.memo(ctx, "pair_tests", lambda: (best, {}, None, [0.99, 0.999]))
    ev: dict[Any, Any] = {}
    n = MisdeclarationDetector()._pooled_mirror(ctx, ev)
    assert n == 3 and list(ev) == [("USA", "ARE", "*")]
    pv, finding, text = ev[("USA", "ARE", "*")]["mirror_pooled"]
    assert pv == pytest.approx(8e-6) and finding is None
    assert "5 CHPL codes: 6 of 40 code windows" in text and "1.2% expected" in text
    f = MisdeclarationDetector()._finding("USA", "ARE", "*", ev[("USA", "ARE", "*")], pv)
    assert f.where == "USA->ARE" and f.hs is None and f.evidence.startswith("all CHPL codes")
