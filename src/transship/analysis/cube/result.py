"""What the cube's queries return: an AnalysisResult whose table is already fetched."""

from __future__ import annotations

from typing import Any

from transship.analysis.result import AnalysisResult


class CubeResult(AnalysisResult):
    """`table` is a pyarrow Table (the cube answered; nothing is left to run)."""

    def to_pyarrow(self) -> Any:
        return self.table

    def to_pandas(self) -> Any:
        return self.table.to_pandas()
