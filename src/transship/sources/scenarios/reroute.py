"""`reroute`: from `start`, `share` of every origin->target flow of `products` goes
origin->hub (same month) and hub->target (`lag` months later, x `markup`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np
from pydantic import Field

from transship.sources.scenarios.base import (
    DIRECT_CUT,
    HUB_TO_TARGET,
    ORIGIN_TO_HUB,
    Cell,
    _Shared,
    carry,
    pairs_cells,
)

if TYPE_CHECKING:
    from transship.sources.synthetic import Panel, SyntheticTrade


class Reroute(_Shared):
    kind: Literal["reroute"]
    hub: str
    origins: str
    targets: str = "russia"
    lag: int = Field(1, ge=0, le=12)
    markup: float = Field(1.0, ge=1.0, le=3.0)
    ROLES: ClassVar[frozenset[str]] = frozenset({DIRECT_CUT, ORIGIN_TO_HUB, HUB_TO_TARGET})

    def touched(self, gen: SyntheticTrade) -> Iterator[Cell]:
        ps = gen._product_indices(self.products)
        (h,) = gen._countries(self.hub)
        targets = gen._countries(self.targets)
        others = gen._countries(self.origins)
        pairs = [(o, r) for o in others for r in targets] + [(o, h) for o in others]
        pairs += [(h, r) for r in targets]
        yield from pairs_cells(pairs, ps)

    def apply(self, gen: SyntheticTrade, panel: Panel, roles: dict[int, str]) -> None:
        x, mm, f = panel.exports, panel.imports, gen._mirror
        share = np.array(self.shares(panel.months))
        (h,) = gen._countries(self.hub)
        targets = gen._countries(self.targets)
        for p in gen._product_indices(self.products):
            for o in gen._countries(self.origins):
                via = panel.series(o, h, p)
                for r in targets:
                    direct, onward = panel.series(o, r, p), panel.series(h, r, p)
                    if direct is None or via is None or onward is None:
                        continue
                    moved = share * x[direct]
                    if not moved.any():
                        continue
                    x[direct] -= moved
                    mm[direct] -= share * mm[direct]
                    carry(panel, f, via, onward, moved, self.lag, self.markup)
                    roles[direct] = DIRECT_CUT
                    roles[via] = ORIGIN_TO_HUB
                    roles[onward] = HUB_TO_TARGET

    def label_hub(self) -> str | None:
        return self.hub
