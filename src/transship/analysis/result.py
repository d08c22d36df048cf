"""What every analysis returns: an Ibis table plus what a reader must know to trust it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class AnalysisResult:
    """An Ibis table (lazy: nothing runs until it is fetched), notes, provenance.

    `synthetic` is true when any input row came from source 'synthetic'; every output that
    shows these figures must label them SYNTHETIC. `params` records what was asked.
    """

    table: Any  # ibis.Table
    notes: list[str] = field(default_factory=list)
    synthetic: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    freq: str = "M"

    def to_pyarrow(self) -> Any:
        return self.table.to_pyarrow()

    def to_pandas(self) -> Any:
        return self.table.to_pandas()


FlowsResult = AnalysisResult  # the foundation's name for the same thing
