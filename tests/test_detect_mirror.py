"""`mirror` (detector): exporter- vs importer-reported trade, code by code, on a hand-made
panel (a phantom in 3 of a large pair's 40 CHPL codes, months one side did not report) and
on a SYNTHETIC warehouse with a small Chinese phantom to Turkey (tier 1 only)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from transship.analysis.detect.base import Context

N_WINDOWS = 15  # 2022-03 .. 2025-11 in 3-month windows


def _panel(phantom: float = 1.0, missing: float = 0.01) -> object:
    """`code_windows`' shape: 12 exporters x 12 importers x 40 CHPL and 60 control codes, 3
    months a window, importer's CIF at 1.06 x lognormal noise (sd 0.05); a side misses a
    month with chance `missing`. E0 -> I1 is large (every code 3e5-1.2e6 a month); from
    window 6 on, E0 reports `phantom` x what it shipped in 3 of its CHPL codes."""
    import pandas as pd

    rng = np.random.default_rng(5)
    rows = []
    for e in range(12):
        for i in range(12):
            if e == i:
                continue
            big = (e, i) == (0, 1)
            for grp, n in (("chpl", 40), ("control", 60)):
                for c in range(n):
                    code = f"{grp[0]}{c:02d}"
                    base = (3e5 if big else 4e4) * (1 + c % 4)
                    for k in range(N_WINDOWS):
                        x = m = xp = mp = 0.0
                        for _ in range(3):
                            v = base * math.exp(rng.normal(0, 0.3))
                            mv = v * 1.06 * math.exp(rng.normal(0, 0.05))
                            if big and grp == "chpl" and c < 3 and k >= 6:
                                v *= phantom
                            seen_x, seen_m = rng.random() >= missing, rng.random() >= missing
                            x += v * seen_x
                            m += mv * seen_m
                            xp += v * (seen_x and seen_m)
                            mp += mv * (seen_x and seen_m)
                        rows.append((f"E{e}", f"I{i}", code, grp, k, x, m, xp, mp, True))
    return pd.DataFrame(rows, columns=["exporter", "importer", "hs2022", "grp", "k", "x", "m",
                                       "xp", "mp", "ok"])  # fmt: skip


def _run(df: object) -> list[object]:
    from transship.analysis.detect.mirror import MirrorGapDetector

    ctx = Context(con=None)
    ctx.cache["code_windows:3"] = df  # what mirror.code_windows memoises
    return MirrorGapDetector().run(ctx)  # type: ignore[return-value]


def test_a_phantom_in_a_few_codes_of_a_large_pair() -> None:
    found = _run(_panel(phantom=1.8))
    # the pair's CHPL total moves ~5% (3 of 40 codes at 1.8x): only code by code it shows
    assert [f.where for f in found] == ["E0->I1"], [f.evidence for f in found]  # type: ignore[attr-defined]
    f = found[0]
    assert f.since == date(2023, 9, 1)  # type: ignore[attr-defined]  # window 6: 2023-09..11
    assert "c00, c01, c02" in f.evidence and "exporter reports more" in f.evidence  # type: ignore[attr-defined]


def test_months_one_side_did_not_report_are_no_gap() -> None:
    # one side missing 3% of the months, nothing else: window sums are off, paired months not
    assert _run(_panel(phantom=1.0, missing=0.03)) == []


PHANTOM = """\
scenarios:
  - id: chn-tur-phantom
    kind: phantom_exports
    exporter: CHN
    importer: TUR
    products: chpl:tier1
    start: 2023-03
    multiple: 1.8
"""


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from transship.sources.synthetic import SyntheticTrade
    from transship.warehouse import Warehouse

    d = tmp_path_factory.mktemp("phantom")
    (d / "s.yaml").write_text(PHANTOM, encoding="utf-8")
    w = Warehouse(Path(d) / "w.duckdb")
    w.ingest(SyntheticTrade(seed=2, start="2019-01", end="2024-12", min_usd=300_000.0,
                            scenarios=d / "s.yaml"))  # fmt: skip
    yield w
    w.close()


@pytest.mark.slow(reason="builds a labelled synthetic warehouse with a phantom, ~5 s")
def test_mirror_finds_a_small_phantom_of_a_large_exporter(phantom: object) -> None:
    from transship.analysis.detect import detect

    r = detect(phantom.ibis(), detectors=["mirror"])  # type: ignore[attr-defined]
    assert [f.where for f in r.findings] == ["CHN->TUR"], [f.evidence for f in r.findings]
    since = r.findings[0].since
    assert since is not None and date(2023, 1, 1) <= since <= date(2023, 6, 1)
