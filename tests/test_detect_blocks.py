"""`blocks`: a direct route to the target cut while the same goods go to the neighbours, on a
hand-made panel (a block, a plain cut, a plain rise) and on a SYNTHETIC warehouse with an
Indian block."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from transship.analysis.detect.base import Context

Q0, Q1 = 2019 * 4, 2025 * 4 + 3  # 2019Q1 .. 2025Q4
SPLIT = 2023 * 4 + 2  # 2023Q3


def _panel(direct: dict[str, float], neighbours: dict[str, float],
           to: tuple[str, ...] = ("KAZ",), scale: float = 1.0) -> object:  # fmt: skip
    """pair_quarters' shape (hub = exporter, leg = destination): 6 exporters x 10 CHPL and
    30 control codes, to RUS, KAZ, ARE and GEO, lognormal noise, `scale` x $0.2-4.8M a code
    a quarter; from SPLIT on, each listed hub's CHPL exports to RUS are multiplied by
    `direct[hub]` and what left them is spread evenly over its exports to the countries `to`,
    times `neighbours[hub]` (0: the goods vanish, a cut)."""
    import pandas as pd

    rng = np.random.default_rng(11)
    rows = []
    for h in range(6):
        hub = f"H{h}"
        for grp, n in (("chpl", 10), ("control", 30)):
            for c in range(n):
                code = f"{grp[0]}{c}"
                base = 2e5 * scale * (1 + h) * (1 + c % 4)
                for q in range(Q0, Q1 + 1):
                    to_rus = base * math.exp(rng.normal(0, 0.15))
                    dest = {d: 0.5 * base * math.exp(rng.normal(0, 0.15)) for d in
                            ("KAZ", "ARE", "GEO")}  # fmt: skip
                    if q >= SPLIT and grp == "chpl":
                        kept = direct.get(hub, 1.0)
                        for d in to:
                            dest[d] += (1 - kept) * to_rus * neighbours.get(hub, 1.0) / len(to)
                        to_rus *= kept
                    rows.append((hub, "RUS", code, grp, q, to_rus))
                    rows += [(hub, d, code, grp, q, v) for d, v in dest.items()]
    return pd.DataFrame(rows, columns=["hub", "leg", "hs2022", "grp", "q", "v"])


def _run(df: object, **params: object) -> list[object]:
    from transship.analysis.detect.blocks import BlockDetector

    ctx = Context(con=None)
    d = df  # type: ignore[var-annotated]
    # what panel.pair_quarters memoises: exports to the target and its configured neighbours
    # only (ARE is not one); panel.pair_totals: every partner, codes summed
    ctx.cache["pair_quarters"] = d[d.leg != "ARE"]  # type: ignore[index, attr-defined]
    ctx.cache["pair_totals"] = (
        d.rename(columns={"hub": "exporter", "leg": "partner"})  # type: ignore[attr-defined]
        .groupby(["exporter", "partner", "grp", "q"], as_index=False).v.sum()
    )  # fmt: skip
    return BlockDetector(**params).run(ctx)  # type: ignore[return-value]


def test_a_block_is_a_fall_to_the_target_and_a_rise_to_the_neighbours() -> None:
    found = _run(_panel({"H4": 0.5}, {}))
    assert [f.country for f in found] == ["H4"]  # type: ignore[attr-defined]
    f = found[0]
    assert f.kind == "block" and f.since == date(2023, 7, 1)  # type: ignore[attr-defined]
    assert "KAZ" in f.evidence and "fell" in f.evidence  # type: ignore[attr-defined]
    # half of H4's CHPL exports to RUS: 10 codes x 2e5 x 5 x 2.5 (mean of 1 + c % 4) a
    # quarter, $25M, so $50M a year
    assert 45e6 < f.size_usd < 55e6  # type: ignore[attr-defined]


def test_a_cut_alone_or_a_rise_alone_is_no_block() -> None:
    assert _run(_panel({"H4": 0.5}, {"H4": 0.0})) == []  # the goods vanish: a cut
    assert _run(_panel({"H4": 1.0}, {})) == []  # nothing moved
    rise = _panel({}, {})
    rise.loc[(rise.hub == "H3") & (rise.leg == "KAZ") & (rise.grp == "chpl")  # type: ignore[attr-defined]
             & (rise.q >= SPLIT), "v"] *= 3  # fmt: skip
    assert _run(rise) == []  # more to the neighbours, the direct route as it was


def test_no_block_through_a_country_that_is_no_route() -> None:
    # the same block as above, with KAZ among the countries that are no route (by default the
    # coalition): nothing else rose, so nothing arrived
    assert _run(_panel({"H4": 0.5}, {}), no_route="KAZ") == []


def test_a_block_to_a_country_outside_the_neighbour_group() -> None:
    # the goods go on via ARE, which is not among the target's configured neighbours
    found = _run(_panel({"H2": 0.5}, {}, to=("ARE",)))
    assert [f.country for f in found] == ["H2"]  # type: ignore[attr-defined]
    assert "ARE" in found[0].evidence  # type: ignore[attr-defined]


def test_a_block_spread_over_three_countries_with_small_direct_flows() -> None:
    # H1's CHPL exports to RUS are ~$0.8M a year (scale 0.02): below the old $1M floor;
    # 60% of them go on, a third each, via KAZ, ARE and GEO
    found = _run(_panel({"H1": 0.4}, {}, to=("KAZ", "ARE", "GEO"), scale=0.02))
    assert [f.country for f in found] == ["H1"]  # type: ignore[attr-defined]
    f = found[0]
    assert f.since == date(2023, 7, 1)  # type: ignore[attr-defined]
    assert all(d in f.evidence for d in ("KAZ", "ARE", "GEO"))  # type: ignore[attr-defined]


BLOCK = """\
scenarios:
  - id: ind-block
    kind: block
    hub: IND
    targets: russia
    neighbours: KAZ+UZB
    products: chpl:tier2,tier3,tier4
    start: 2023-04
    share: 0.6
"""


@pytest.fixture(scope="module")
def blocked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from transship.sources.synthetic import SyntheticTrade
    from transship.warehouse import Warehouse

    d = tmp_path_factory.mktemp("block")
    (d / "s.yaml").write_text(BLOCK, encoding="utf-8")
    w = Warehouse(Path(d) / "w.duckdb")
    w.ingest(SyntheticTrade(seed=2, start="2019-01", end="2024-12", min_usd=300_000.0,
                            scenarios=d / "s.yaml"))  # fmt: skip
    yield w
    w.close()


@pytest.mark.slow(reason="builds a labelled synthetic warehouse with a block, ~5 s")
def test_blocks_finds_the_synthetic_block_and_nothing_else(blocked: object) -> None:
    from transship.analysis.detect import detect
    from transship.evaluation import FindingsDetector, finding_prediction, read_labels, score

    con = blocked.ibis()  # type: ignore[attr-defined]
    r = detect(con, detectors=["blocks"])
    assert [f.country for f in r.findings] == ["IND"], [f.evidence for f in r.findings]
    f = r.findings[0]
    assert f.since is not None and date(2023, 1, 1) <= f.since <= date(2023, 7, 1)
    rows = score(FindingsDetector("blocks"), [finding_prediction(x) for x in r.findings],
                 read_labels(con))  # fmt: skip
    row = next(x for x in rows if x["kind"] == "block")
    assert (row["recall"], row["precision"], row["scenarios_found"]) == (1.0, 1.0, 1)


def test_a_weak_block_is_dated_to_its_quarter() -> None:
    # a fifth of H5's CHPL exports to RUS move to KAZ: the long windows that carry the
    # evidence let the splits before SPLIT fall almost as far; the date is the quarter where
    # the four quarters just after fell most below the four just before
    found = _run(_panel({"H5": 0.8}, {}))
    assert [f.country for f in found] == ["H5"]  # type: ignore[attr-defined]
    assert found[0].since == date(2023, 7, 1)  # type: ignore[attr-defined]


def test_a_block_of_one_tier_at_a_large_exporter() -> None:
    # 70% of H5's tier-1 CHPL exports to RUS (3 of its 10 CHPL codes, 12% of their value) move
    # to KAZ: 8% of its CHPL exports there, under `min_fall_share` of the total, most of the
    # tier's; found when each tier is tested apart (`tiers`), and said so
    df = _panel({}, {})
    tier = {f"c{c}": "1" if c % 4 == 0 else str(2 + c % 3) for c in range(10)}
    one = (df.hub == "H5") & (df.grp == "chpl") & df.hs2022.isin(["c0", "c4", "c8"])  # type: ignore[attr-defined]
    after = one & (df.q >= SPLIT)  # type: ignore[attr-defined, operator]
    rus, kaz = after & (df.leg == "RUS"), after & (df.leg == "KAZ")  # type: ignore[attr-defined]
    moved = 0.7 * df.loc[rus, "v"].to_numpy()  # type: ignore[attr-defined]
    df.loc[rus, "v"] -= moved  # type: ignore[attr-defined]
    df.loc[kaz, "v"] += moved  # type: ignore[attr-defined]
    df["tier"] = [
        tier.get(c, "c") if g == "chpl" else "c"  # type: ignore[index]
        for c, g in zip(df.hs2022, df.grp, strict=True)
    ]  # type: ignore[attr-defined]
    ctx = Context(con=None)
    ctx.cache["pair_quarters"] = df[df.leg != "ARE"]  # type: ignore[index, attr-defined]
    ctx.cache["pair_totals"] = (
        df.rename(columns={"hub": "exporter", "leg": "partner"})  # type: ignore[attr-defined]
        .groupby(["exporter", "partner", "grp", "tier", "q"], as_index=False).v.sum()
    )  # fmt: skip
    from transship.analysis.detect.blocks import BlockDetector

    assert BlockDetector(levels=False).run(ctx) == []
    for found in (BlockDetector(tiers=True, levels=False).run(ctx), BlockDetector().run(ctx)):
        assert [f.country for f in found] == ["H5"]
        assert "tier 1" in found[0].evidence and "KAZ" in found[0].evidence
        assert found[0].since == date(2023, 7, 1)
    # by default through the tier's level legs (`level_tiers`)
    assert "tier 1 exports to russia, as a level" in BlockDetector().run(ctx)[0].evidence


R_SPLIT = 2024 * 4 + 2  # 2024Q3


def _roundabout_block(supply_after: float = 1.0) -> object:
    """`_panel` plus R, which exports no control goods to RUS and no CHPL goods before
    2022Q2, then (a roundabout) $0.3M a quarter of CHPL goods, smooth; from 2024Q3 60% of it
    go to KAZ instead, which passes them on. The coalition (USA) supplies R with $1M a
    quarter, times `supply_after` from 2024Q3."""
    import pandas as pd

    df = _panel({}, {})
    rng = np.random.default_rng(5)
    rows = []
    for q in range(Q0, Q1 + 1):
        v = 3e5 * math.exp(rng.normal(0, 0.05)) if q >= 2022 * 4 + 1 else 0.0
        moved = 0.6 * v if q >= R_SPLIT else 0.0
        rows += [
            ("R", "RUS", "c0", "chpl", q, v - moved),
            ("R", "KAZ", "c0", "chpl", q, moved),
            ("KAZ", "RUS", "c0", "chpl", q, moved),
            ("R", "KAZ", "k0", "control", q, 2e5),
            ("USA", "R", "c0", "chpl", q, 1e6 * (supply_after if q >= R_SPLIT else 1.0)),
        ]
    return pd.concat([df, pd.DataFrame(rows, columns=df.columns)], ignore_index=True)  # type: ignore[attr-defined]


def test_a_block_of_a_flow_a_roundabout_created_is_found_as_a_level() -> None:
    # R's CHPL-to-control ratio to RUS has no control goods and no baseline; its level falls
    # from $0.3M to $0.12M a quarter (-0.6 in log, padded) and KAZ's rises from 0; its spread
    # before is its one step up among 21 quarterly changes, 0.21, after it the floor, 0.1: 7
    # spreads
    from transship import reference
    from transship.analysis.detect.blocks import BlockDetector, _legs_tests
    from transship.analysis.detect.levels import make_levels

    df = _roundabout_block()
    tot = df.rename(columns={"hub": "exporter", "leg": "partner"})  # type: ignore[attr-defined]
    coalition = set(reference.parse_countries("coalition"))
    V = make_levels(tot, {"RUS"}, coalition, Q0, 1e5, 0.1)
    t = _legs_tests(V, R_SPLIT, {"R"}, dict(BlockDetector().params), 2.0)["R"]
    assert -7.2 < t.z_fall < -6.7 and [v[0] for v in t.via] == ["KAZ"] and t.p < 1e-20
    assert not t.cut
    found = _run(df)
    assert [f.country for f in found] == ["R"]  # type: ignore[attr-defined]
    f = found[0]
    assert f.since == date(2024, 7, 1)  # type: ignore[attr-defined]
    assert "KAZ" in f.evidence  # type: ignore[attr-defined]
    # 60% of $0.3M a quarter: $0.72M a year
    assert 0.68e6 < f.size_usd < 0.76e6  # type: ignore[attr-defined]


def test_no_block_when_the_coalition_stopped_supplying() -> None:
    # the same, but the coalition's supply to R falls to a fifth in 2024Q3: the goods stopped
    # coming, no block by any test (`supply_share`: a fall of $3.2M a year, more than the
    # direct fall of $0.72M); a fall of a tenth ($0.4M a year) is no reason
    assert _run(_roundabout_block(supply_after=0.2)) == []
    assert [f.country for f in _run(_roundabout_block(supply_after=0.9))] == ["R"]


def test_level_legs_judge_a_leg_by_its_own_noise() -> None:
    import pandas as pd

    from transship.analysis.detect.levels import make_levels

    qs = range(Q0, Q1 + 1)
    rng = np.random.default_rng(3)
    smooth = [3e5 * math.exp(rng.normal(0, 0.05)) * (0.4 if q >= SPLIT else 1.0) for q in qs]
    lump = [4e5 if q == SPLIT + 2 else 0.0 for q in qs]  # one shipment after years of nothing
    tot = pd.DataFrame([("A", "RUS", "chpl", q, v) for q, v in zip(qs, smooth, strict=True)]
                       + [("B", "GEO", "chpl", q, v) for q, v in zip(qs, lump, strict=True)],
                       columns=["exporter", "partner", "grp", "q", "v"])  # fmt: skip
    L = make_levels(tot, {"RUS"}, set(), Q0, 1e5, 0.1)
    assert L is not None
    z, before, gain = L.change(SPLIT, 8, 16)
    r = L.row()
    a, b = r[("A", "t")], r[("B", "GEO")]
    # A: log(0.22 / 0.4) = -0.6 against a spread of 0.1 (its floor): -14 spreads
    assert -16 < z[a] < -12 and 1.1e6 < before[a] < 1.3e6 and -0.75e6 < gain[a] < -0.65e6
    # B: one quarter at log(5) = 1.61 above the pad's level among 10 after the split, a mean
    # rise of 0.16, against the quarters' own spread after (0.51, over sqrt 10): one spread,
    # where the spread before (its floor, all zeros) would have made it 4.6
    assert 0.95 < z[b] < 1.0
