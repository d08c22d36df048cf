"""`phantom_exports`: the exporter reports `multiple` x what it shipped to the importer; the
importer records only what arrived."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from transship.sources.scenarios.base import PHANTOM, Cell, _Scenario, pairs_cells

if TYPE_CHECKING:
    from transship.sources.synthetic import Panel, SyntheticTrade


class PhantomExports(_Scenario):
    kind: Literal["phantom_exports"]
    exporter: str
    importer: str
    multiple: float = Field(gt=1.0, le=100.0)
    ROLES: ClassVar[frozenset[str]] = frozenset({PHANTOM})

    def touched(self, gen: SyntheticTrade) -> Iterator[Cell]:
        ps = gen._product_indices(self.products)
        pairs = [(gen._countries(self.exporter)[0], gen._countries(self.importer)[0])]
        yield from pairs_cells(pairs, ps)

    def apply(self, gen: SyntheticTrade, panel: Panel, roles: dict[int, str]) -> None:
        x = panel.exports
        (i,) = gen._countries(self.exporter)
        (j,) = gen._countries(self.importer)
        on = gen._window(self.start, self.end)
        for p in gen._product_indices(self.products):
            s = panel.series(i, j, p)
            if s is not None:
                x[s] += (self.multiple - 1.0) * x[s] * on
                roles[s] = PHANTOM

    def label_hub(self) -> str | None:
        return self.exporter
