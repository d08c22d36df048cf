"""The words of `hubs` and `surges` findings: each test's figures as a clause, and the
evidence line that lists the tests that ran and those that could not (too few codes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from transship.analysis.detect.base import money
from transship.analysis.detect.legs import Onward
from transship.analysis.detect.newcodes import new_text
from transship.analysis.detect.shares import BothLegs, ShareStats


def q_start(q: int) -> date:
    return date(q // 4, q % 4 * 3 + 1, 1)


def growth_text(st: dict[str, Any], tail: float, share: str) -> str | None:
    """The growth test's figures; None when no CHPL product traded on the leg both before
    and after (a leg created from nothing has no growth to compare)."""
    if not st["n"]:
        return None
    return (
        f"CHPL growth minus control growth {st['did']:+.2f} log points (se {st['se']:.2f}); "
        f"{st['k']} of {st['n']} CHPL products above the control {int(tail * 100)}th "
        f"percentile; {share} {st['dshare']:+.2f}"
    )


def evidence(
    growth: str | None, *tests: tuple[str, str | Any | None], new: Any = None
) -> tuple[str, str]:
    """The texts of the tests that ran (and the new codes, when there are), and a closing
    clause naming those that could not run (too few codes or products), or ''. `tests`:
    (name, its text or None when it could not run)."""
    ran = [growth] if growth else []
    ran += [t for _, t in tests if t]
    if new:
        ran.append(new_text(new))
    idle = ([] if growth else ["growth"]) + [name for name, t in tests if not t]
    return "; ".join(ran), (f"; not testable (too few codes): {', '.join(idle)}" if idle else "")


def _first_few(codes: Sequence[str], n: int = 4) -> str:
    return ", ".join(codes[:n]) + (", ..." if len(codes) > n else "")


def codes_text(cs: ShareStats | None, of: str) -> str:
    if cs is None:
        return "codes test: too few codes"
    top = _first_few(cs.exceeding)
    return (
        f"share {of} rose beyond the baseline spread in {cs.k_chpl} of {cs.n_chpl} CHPL "
        f"codes vs {cs.k_ctrl} of {cs.n_ctrl} control codes"
        + (f" ({top}; median x{cs.median_rise:.2f} detrended)" if cs.k_chpl else "")
    )


def both_text(bl: BothLegs | None, z: float) -> str:
    if bl is None:
        return "both-legs test: too few codes"
    top = _first_few(bl.codes)
    return (
        f"{bl.k_chpl} of {bl.n_chpl} CHPL codes rose above {z:g} spreads on both legs "
        f"(control rate {bl.rate:.1%})" + (f": {top}" if bl.k_chpl else "")
    )


def onward_text(on: Onward) -> str:
    """The onward test's figures."""
    return (
        f"{on.group} exports to the target alone rose {on.z:.1f} spreads from "
        f"{q_start(on.s):%Y-%m} "
        f"({on.z_null:.1f} above the countries' typical largest rise; {money(on.gain_usd)}/yr)"
    )
