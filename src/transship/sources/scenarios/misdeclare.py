"""`misdeclare`: `share` of exporter->importer trade in each `codes` key is declared under the
neighbouring code it maps to (on the `side` that declares it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from transship.sources.scenarios.base import DECLARED_FROM, DECLARED_TO, Cell, _Shared, pairs_cells

if TYPE_CHECKING:
    from transship.sources.synthetic import Panel, SyntheticTrade


class Misdeclare(_Shared):
    kind: Literal["misdeclare"]
    exporters: str
    importers: str
    codes: dict[str, str] = Field(min_length=1)
    side: Literal["export", "import", "both"] = "export"
    products: str = ""  # the `codes` keys are the products
    ROLES: ClassVar[frozenset[str]] = frozenset({DECLARED_FROM, DECLARED_TO})

    @field_validator("codes")
    @classmethod
    def _neighbours(cls, v: dict[str, str]) -> dict[str, str]:
        for a, b in v.items():
            a, b = str(a), str(b)
            if len(a) != 6 or len(b) != 6 or not (a + b).isdigit():
                raise ValueError(f"{a} -> {b}: codes must be six-digit HS2022 codes")
            if a[:4] != b[:4] or a == b:
                raise ValueError(
                    f"{a} -> {b}: a neighbouring code is another code of the same heading"
                )
        return {str(a): str(b) for a, b in v.items()}

    def touched(self, gen: SyntheticTrade) -> Iterator[Cell]:
        idx = {c: k for k, c in enumerate(gen.products)}
        ps = sorted({idx[c] for pair in self.codes.items() for c in pair})
        pairs = [
            (a, b) for a in gen._countries(self.exporters) for b in gen._countries(self.importers)
        ]
        yield from pairs_cells(pairs, ps)

    def apply(self, gen: SyntheticTrade, panel: Panel, roles: dict[int, str]) -> None:
        """Move the share on the declaring side(s); the moved goods keep their own weight
        (`Panel.declare_as`), so the neighbour's unit value moves toward theirs."""
        x, mm = panel.exports, panel.imports
        share = np.array(self.shares(panel.months))
        idx = {c: k for k, c in enumerate(gen.products)}
        for a in gen._countries(self.exporters):
            for b in gen._countries(self.importers):
                for c_from, c_to in self.codes.items():
                    s1, s2 = panel.series(a, b, idx[c_from]), panel.series(a, b, idx[c_to])
                    if s1 is None or s2 is None:
                        continue
                    if self.side in ("export", "both"):
                        panel.declare_as(0, s1, s2, share * x[s1])
                    if self.side in ("import", "both"):
                        panel.declare_as(1, s1, s2, share * mm[s1])
                    roles[s1], roles[s2] = DECLARED_FROM, DECLARED_TO
