"""The new-codes test of `hubs` and `surges`: CHPL codes a leg never traded in the baseline
and trades in most quarters after a split (a small hub's onward trade created from nothing),
against control codes doing the same."""

from __future__ import annotations

import numpy as np

from transship.analysis.detect.newcodes import new_codes, new_since, quarters_traded

PRE = (0, 11)  # baseline quarters
SPLIT, LAST = 12, 19


def _panel(new_from: int | None, lump: bool = False) -> object:
    """hub, leg, hs2022, grp, q, v: hub A's leg trades 20 control codes throughout and no CHPL
    code in the baseline; from `new_from` on, 8 of its 10 CHPL codes trade every quarter
    (`lump`: one CHPL code trades in one quarter only). Hub B trades everything throughout."""
    import pandas as pd

    rng = np.random.default_rng(3)
    rows = []
    for hub in ("A", "B"):
        for grp, n in (("chpl", 10), ("control", 20)):
            for c in range(n):
                code = f"{grp[0]}{c}"
                for q in range(LAST + 1):
                    v = 1e5 * float(np.exp(rng.normal(0, 0.2)))
                    if hub == "A" and grp == "chpl":
                        on = new_from is not None and q >= new_from and c < 8
                        on |= lump and c == 9 and q == 15
                        if not on:
                            continue
                    rows.append((hub, "exports_to_target", code, grp, q, v))
    return pd.DataFrame(rows, columns=["hub", "leg", "hs2022", "grp", "q", "v"])


def test_new_codes_on_a_leg_without_baseline() -> None:
    traded = quarters_traded(_panel(new_from=12), *PRE)
    r = new_codes(traded, SPLIT, LAST, 0.5)
    a = r[("A", "exports_to_target")]
    assert (a.k_chpl, a.n_chpl, a.k_ctrl, a.n_ctrl) == (8, 10, 0, 20)
    assert a.p < 1e-5 and len(a.codes) == 8
    assert ("B", "exports_to_target") not in r  # B traded every code in the baseline
    assert new_since(traded, "A", "exports_to_target", a.codes, SPLIT) == 12


def test_a_lump_is_no_new_route() -> None:
    traded = quarters_traded(_panel(new_from=None, lump=True), *PRE)
    assert new_codes(traded, SPLIT, LAST, 0.5) == {}  # one quarter of 8 is not "most"
    # codes arriving late in the window: too few quarters after the first split
    late = new_codes(quarters_traded(_panel(new_from=17), *PRE), SPLIT, LAST, 0.5)
    assert late == {}
