"""What every scenario kind shares: months, shares over time, the label role vocabulary.

Roles name what a labelled cell is to its scheme; the generator writes them into
`scenario_labels` and the evaluation reads them (`transship.evaluation`), so both use these
constants.
"""

from __future__ import annotations

import itertools
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from transship.periods import month_index

if TYPE_CHECKING:
    from transship.sources.synthetic import Panel, SyntheticTrade

# -- the role vocabulary ----------------------------------------------------------------------
DIRECT_CUT = "direct_cut"  # origin -> target trade a reroute removed
ORIGIN_TO_HUB = "origin_to_hub"  # origin -> hub trade a reroute added
HUB_TO_TARGET = "hub_to_target"  # hub -> target trade a reroute added
PHANTOM = "phantom"  # exports the importer never records
DECLARED_FROM = "declared_from"  # the code goods were taken out of
DECLARED_TO = "declared_to"  # the neighbouring code they were declared under
BLOCKED_DIRECT = "blocked_direct"  # hub -> target trade a block stopped
HUB_TO_NEIGHBOUR = "hub_to_neighbour"  # hub -> neighbour trade a block added
NEIGHBOUR_TO_TARGET = "neighbour_to_target"  # neighbour -> target trade a block added
# roles whose cells carry more trade than before (a surge could see them)
INCREASES = frozenset({ORIGIN_TO_HUB, HUB_TO_TARGET, PHANTOM, HUB_TO_NEIGHBOUR,
                       NEIGHBOUR_TO_TARGET, DECLARED_TO})  # fmt: skip

Cell = tuple[int, int, int]  # exporter index, importer index, product index


def parse_month(value: object) -> date:
    """`2022-03` (or a date) -> the first day of that month."""
    if isinstance(value, date):
        return date(value.year, value.month, 1)
    text = str(value).strip()
    try:
        year, month = text.split("-")[:2]
        return date(int(year), int(month), 1)
    except ValueError:
        raise ValueError(f"expected a month YYYY-MM, got {text!r}") from None


class _Scenario(BaseModel):
    """Base of every kind: `touched` lists the series it may change, `apply` changes them
    (recording each changed series' role), `label_hub` names the hub written on labels."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str = ""
    products: str = "chpl"
    start: date
    end: date | None = None

    ROLES: ClassVar[frozenset[str]] = frozenset()

    @field_validator("start", "end", mode="before")
    @classmethod
    def _month(cls, v: object) -> date | None:
        return None if v is None else parse_month(v)

    @abstractmethod
    def touched(self, gen: SyntheticTrade) -> Iterator[Cell]:
        """The (exporter, importer, product) cells this scenario may change."""

    @abstractmethod
    def apply(self, gen: SyntheticTrade, panel: Panel, roles: dict[int, str]) -> None:
        """Change the panel in place; record each changed series' role in `roles`."""

    def label_hub(self) -> str | None:
        return None


def _check_share(v: float) -> float:
    if not 0 < v <= 1:
        raise ValueError(f"share must be in (0, 1], got {v}")
    return v


class _Shared(_Scenario):
    share: float | dict[str, float] = Field(
        description="fraction moved: a number or {YYYY-MM: fraction} points"
    )

    @field_validator("share")
    @classmethod
    def _shares(cls, v: float | dict[str, float]) -> float | dict[str, float]:
        if isinstance(v, dict):
            if not v:
                raise ValueError("share points must not be empty")
            for k, s in v.items():
                parse_month(k)
                _check_share(s)
            return dict(sorted(v.items(), key=lambda kv: parse_month(kv[0])))
        return _check_share(v)

    def shares(self, months: Sequence[date]) -> list[float]:
        """The share in each month: 0 before start and after end, points interpolated."""
        end = self.end or date.max
        if isinstance(self.share, float | int):
            return [float(self.share) if self.start <= m <= end else 0.0 for m in months]
        points = [(month_index(parse_month(k)), s) for k, s in self.share.items()]
        out: list[float] = []
        for m in months:
            if not self.start <= m <= end:
                out.append(0.0)
                continue
            x = month_index(m)
            if x <= points[0][0]:
                out.append(points[0][1])
            elif x >= points[-1][0]:
                out.append(points[-1][1])
            else:
                for (x0, y0), (x1, y1) in itertools.pairwise(points):
                    if x0 <= x <= x1:
                        out.append(y0 + (y1 - y0) * (x - x0) / (x1 - x0))
                        break
        return out


def shift(v: np.ndarray, lag: int) -> np.ndarray:
    """`v` delayed by `lag` months (zeros first)."""
    if lag == 0:
        return v
    out = np.zeros_like(v)
    out[lag:] = v[:-lag]
    return out


def carry(
    panel: Panel, f: np.ndarray, via: int, onward: int, amount: np.ndarray, lag: int, markup: float
) -> None:
    """Goods moved off a direct route: `amount` on the first leg (`via`) now, and `lag` months
    later, marked up, on the onward leg; both sides of each leg (importer's at its CIF factor)."""
    x, mm = panel.exports, panel.imports
    x[via] += amount
    mm[via] += amount * f[via]
    later = shift(amount, lag) * markup
    x[onward] += later
    mm[onward] += later * f[onward]


def pairs_cells(pairs: Sequence[tuple[int, int]], ps: Sequence[int]) -> Iterator[Cell]:
    for i, j in pairs:
        if i != j:
            for p in ps:
                yield i, j, p
