"""`analysis.hubs` over the cube (not written yet: every call goes to the analysis)."""

from __future__ import annotations

from typing import Any

from transship.analysis.cube import Cube, NotInCube


def hubs(cube: Cube, **kw: Any) -> Any:
    raise NotInCube("hubs")
