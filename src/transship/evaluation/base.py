"""What the evaluation scores: units, predictions, the detector protocol, and the role
vocabulary it shares with the generator (`transship.sources.scenarios.base`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from transship.sources.scenarios import base as role

Unit = tuple[str, ...]
Label = Mapping[str, Any]

INCREASES = role.INCREASES
# Detectors that work on quarters or 3-month windows date a change to the first month of the
# period they saw it in, up to this many months before the scheme's start: such a date counts
# as detected at the start (0 months), not as a detection before the scheme existed.
RESOLUTION_MONTHS = 2


@dataclass(frozen=True)
class Prediction:
    unit: Unit
    period: date | None = None  # first period the detector saw it, if it says


class Detector(Protocol):
    """What `evaluate` runs: a named, parameterised analysis that predicts units."""

    @property
    def name(self) -> str: ...

    @property
    def parameters(self) -> Mapping[str, object]: ...

    @property
    def roles(self) -> frozenset[str]:
        """Label roles it is meant to find (its truth)."""
        ...

    def unit(self, label: Label) -> Unit | None:
        """The unit of this detector that a label row describes (None: not visible to it)."""
        ...

    def predict(self, con: Any) -> list[Prediction]: ...
