"""One entry point for the pages: each analysis from the cube when it can answer exactly,
else from the Ibis analyses over the warehouse."""

from __future__ import annotations

import dataclasses
from typing import Any

from transship.analysis.cube import Cube, NotInCube


class Queries:
    """`flows`, `mirror` and `hubs` with the analyses' keywords and results. Any other
    attribute is the Ibis connection's, so code written for an Ibis connection runs as it
    did. `answered` / `fell_back` count the calls the cube did and did not answer."""

    def __init__(self, con: Any, cube: Cube | None = None) -> None:
        self.con = con
        self.cube = cube
        self.answered = 0
        self.fell_back = 0

    def flows(self, **kw: Any) -> Any:
        from transship.analysis.cube import flows as cube_flows
        from transship.analysis.flows import flows as ibis_flows

        return self._run(cube_flows.flows, ibis_flows, kw)

    def mirror(self, **kw: Any) -> Any:
        from transship.analysis.cube import mirror as cube_mirror
        from transship.analysis.mirror import mirror as ibis_mirror

        return self._run(cube_mirror.mirror, ibis_mirror, kw)

    def hubs(self, **kw: Any) -> Any:
        from transship.analysis.cube import hubs as cube_hubs
        from transship.analysis.hubs import hubs as ibis_hubs

        return self._run(cube_hubs.hubs, ibis_hubs, kw)

    def _run(self, fast: Any, slow: Any, kw: dict[str, Any]) -> Any:
        if self.cube is not None:
            cube = self.cube
            key = f"{fast.__module__}.{fast.__name__}{sorted(kw.items())!r}"
            try:
                result = cube.keep(key, lambda: fast(cube, **kw))
            except NotInCube:
                pass
            else:
                self.answered += 1
                return dataclasses.replace(result, notes=list(result.notes))
        self.fell_back += 1
        return slow(self.con, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


def queries(con: Any) -> Queries:
    """`con` itself when it is Queries, else Queries over the Ibis connection `con`."""
    return con if isinstance(con, Queries) else Queries(con)
