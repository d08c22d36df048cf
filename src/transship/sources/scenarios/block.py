"""`block`: `share` of the hub's exports to the targets stops; the goods go to the hub's
`neighbours` instead and on to the targets `lag` months later."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np
from pydantic import Field

from transship.sources.scenarios.base import (
    BLOCKED_DIRECT,
    HUB_TO_NEIGHBOUR,
    NEIGHBOUR_TO_TARGET,
    Cell,
    _Shared,
    carry,
    pairs_cells,
)

if TYPE_CHECKING:
    from transship.sources.synthetic import Panel, SyntheticTrade


class Block(_Shared):
    kind: Literal["block"]
    hub: str
    targets: str = "russia"
    neighbours: str
    lag: int = Field(1, ge=0, le=12)
    markup: float = Field(1.0, ge=1.0, le=3.0)
    ROLES: ClassVar[frozenset[str]] = frozenset(
        {BLOCKED_DIRECT, HUB_TO_NEIGHBOUR, NEIGHBOUR_TO_TARGET}
    )

    def touched(self, gen: SyntheticTrade) -> Iterator[Cell]:
        ps = gen._product_indices(self.products)
        (h,) = gen._countries(self.hub)
        targets = gen._countries(self.targets)
        others = gen._countries(self.neighbours)
        pairs = [(nb, r) for nb in others for r in targets] + [(h, nb) for nb in others]
        pairs += [(h, r) for r in targets]
        yield from pairs_cells(pairs, ps)

    def apply(self, gen: SyntheticTrade, panel: Panel, roles: dict[int, str]) -> None:
        x, mm, f = panel.exports, panel.imports, gen._mirror
        share = np.array(self.shares(panel.months))
        (h,) = gen._countries(self.hub)
        targets = gen._countries(self.targets)
        for p in gen._product_indices(self.products):
            neighbours = gen._countries(self.neighbours)
            for r in targets:
                direct = panel.series(h, r, p)
                if direct is None:
                    continue
                moved = share * x[direct]
                if not moved.any():
                    continue
                x[direct] -= moved
                mm[direct] -= share * mm[direct]
                roles[direct] = BLOCKED_DIRECT
                for nb in neighbours:
                    via, onward = panel.series(h, nb, p), panel.series(nb, r, p)
                    if via is None or onward is None:
                        continue
                    carry(panel, f, via, onward, moved / len(neighbours), self.lag, self.markup)
                    roles[via] = HUB_TO_NEIGHBOUR
                    roles[onward] = NEIGHBOUR_TO_TARGET

    def label_hub(self) -> str | None:
        return self.hub
