"""Aggregate legs (`analysis.detect.legs`): a small leg's lump is judged against its size
peers, and the onward test finds the one country whose exports to the target alone rose,
against every country's largest rise (an empirical null)."""

from __future__ import annotations

import math

import numpy as np

from transship.analysis.detect.legs import TARGET, make_legs, onward_scan

Q0, Q1 = 2019 * 4, 2025 * 4 + 3
BASE = (Q0, 2021 * 4 + 3)
SPLIT = 2023 * 4


def _totals(rise: dict[str, float], lump: str | None = None) -> object:
    """pair_totals' shape: 30 exporters' CHPL and control exports to RUS and to KAZ, noise
    0.1 a quarter; from SPLIT on, each listed exporter's CHPL exports to RUS are multiplied by
    `rise[exporter]`; `lump`: that exporter's CHPL exports to RUS are nothing but one
    shipment of $300k in one quarter after SPLIT."""
    import pandas as pd

    rng = np.random.default_rng(5)
    rows = []
    for e in range(30):
        ex = f"E{e:02d}"
        for partner in ("RUS", "KAZ"):
            for grp in ("chpl", "control"):
                base = 1e6 * (1 + e % 5) * (3 if grp == "control" else 1)
                for q in range(Q0, Q1 + 1):
                    v = base * math.exp(rng.normal(0, 0.1))
                    if ex == lump and partner == "RUS" and grp == "chpl":
                        v = 3e5 if q == SPLIT + 2 else 0.0
                    elif q >= SPLIT and partner == "RUS" and grp == "chpl":
                        v *= rise.get(ex, 1.0)
                    rows.append((ex, partner, grp, q, v))
    return pd.DataFrame(rows, columns=["exporter", "partner", "grp", "q", "v"])


def _scan(tot: object) -> dict[str, object]:
    legs = make_legs(tot, {"RUS"}, BASE, 1e5, 0.05)
    assert legs is not None
    splits = list(range(2022 * 4 + 1, Q1))
    return onward_scan(legs, splits, 8, 16)  # type: ignore[return-value]


def test_onward_finds_the_one_rise_against_everyone_elses_largest() -> None:
    on = _scan(_totals({"E07": 1.3}))
    best = min(on, key=lambda h: on[h].p)  # type: ignore[attr-defined]
    assert best == "E07"
    assert on["E07"].p < 1e-5  # type: ignore[attr-defined]
    # the first split within a spread of the largest rise: the quarter of the change or one
    # before (whose window is mostly after it)
    assert SPLIT - 1 <= on["E07"].s <= SPLIT  # type: ignore[attr-defined]
    others = sorted(on[h].p for h in on if h != "E07")  # type: ignore[attr-defined]
    assert others[0] > 100 * on["E07"].p  # type: ignore[attr-defined]


def test_a_lump_on_a_leg_without_baseline_is_no_rise() -> None:
    # E03 never shipped CHPL goods to RUS in the baseline: its spread is its peers', not 0
    on = _scan(_totals({}, lump="E03"))
    assert on["E03"].p > 1e-3  # type: ignore[attr-defined]
    legs = make_legs(_totals({}, lump="E03"), {"RUS"}, BASE, 1e5, 0.05)
    assert legs is not None
    r = legs.row()[("E03", TARGET)]
    assert legs.sd[r] > 0.05


def test_hubs_onward_sees_one_tier_rise_at_a_large_hub() -> None:
    """E07's tier-1 exports to RUS (a tenth of its CHPL exports there) rise by half from
    SPLIT: 5% of its CHPL total, lost in the noise of the total, clear in the tier's."""
    import pandas as pd

    from transship.analysis.detect.base import Context
    from transship.analysis.detect.hubs import HubDetector

    rng = np.random.default_rng(9)
    rows = []
    share = {"1": 0.1, "2": 0.2, "3": 0.4, "4": 0.3}
    for e in range(30):
        ex = f"E{e:02d}"
        for partner in ("RUS", "KAZ"):
            base = 2e7 * (1 + e % 5)
            for q in range(Q0, Q1 + 1):
                for tier, f in share.items():
                    v = base * f * math.exp(rng.normal(0, 0.1))
                    if ex == "E07" and partner == "RUS" and tier == "1" and q >= SPLIT:
                        v *= 1.5
                    rows.append((ex, partner, "chpl", tier, q, v))
                rows.append(
                    (ex, partner, "control", "c", q, 3 * base * math.exp(rng.normal(0, 0.05)))
                )
    ctx = Context(con=None)
    ctx.cache["pair_totals"] = pd.DataFrame(
        rows, columns=["exporter", "partner", "grp", "tier", "q", "v"]
    )
    best: dict[tuple[str, str], dict[str, object]] = {}
    HubDetector()._onward(ctx, best, list(range(2022 * 4 + 1, Q1)), *BASE)  # type: ignore[arg-type]
    hits = {k[0]: v for k, v in best.items() if float(v["p"]) < 1e-3}  # type: ignore[arg-type]
    assert list(hits) == ["E07"]
    assert hits["E07"]["onward"].group == "tier 1"  # type: ignore[attr-defined]
