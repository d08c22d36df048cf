"""What the name features share: the Pair of one comparison and the Feature interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from rapidfuzz.distance import OSA

from transship.screening.parsed import Parsed


@dataclass(frozen=True)
class Thresholds01:
    flag: float
    block: float


@dataclass(slots=True)
class Pair:
    """Everything the features of one comparison share (computed once by `compare`)."""

    q: Parsed
    c: Parsed
    person: bool
    wq: list[float]
    wc: list[float]
    aligned: list[tuple[int, int, float]]  # (query part, candidate part, similarity)
    initials: int
    base: float
    generic_only: bool
    thresholds: Thresholds01
    country_match: bool | None = None
    schema_mismatch: bool = False
    cap: float = 1.0
    total: float = 0.0
    joined: bool = False  # joined_parts or acronym reshaped the parts: none differ
    merged: bool = False  # parts written apart on one side were aligned with one part
    name_total: float = 0.0
    contributions: list[tuple[str, float]] = field(default_factory=list)
    # the query's and the candidate's aligned parts (indices), shared by the features
    qa: set[int] = field(default_factory=set)
    ca: set[int] = field(default_factory=set)
    # whether a part is a common word of the list's names (NameIndex.common), when known
    common: Callable[[str], bool] | None = None
    capped: bool = False  # the feature being run called flag_at_most (compare lists it)

    def flag_at_most(self) -> None:
        """Cap the score just below BLOCK: this evidence may raise a FLAG, never a BLOCK."""
        self.cap = min(self.cap, self.thresholds.block - 0.001)
        self.capped = True


class Feature(ABC):
    """A feature: `name`, `description`, parameters as attributes; `__call__` adds to a score."""

    name: ClassVar[str]
    description: ClassVar[str]

    @abstractmethod
    def __call__(self, p: Pair) -> float:
        """Points this feature adds to (or takes from) the pair's score."""


def similar(a: str, b: str) -> bool:
    """Two parts within an edit or so of each other (a misspelt word, not another one)."""
    return OSA.normalized_similarity(a, b) >= 0.75
