"""Evasion scenarios for the synthetic generator, declared in YAML and validated on load.

A scenario file has a `scenarios` list (and, for packaged files, provenance keys). Every
error names the file, the line and the field, e.g.
`my.yaml:14, column 'share': share must be in (0, 1]`.
The packaged default (`reference/data/synthetic_scenarios.yaml`) tells the FT's Turkey story.

Each kind is a class in its own module (`reroute`, `phantom`, `misdeclare`, `block`): it
validates its fields, lists the series it may change (`touched`) and changes them (`apply`),
recording each series' role from the one vocabulary in `base` that the evaluation also uses.
A new kind is a new module plus its name in `Scenario` below.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, TypeAdapter, ValidationError

from transship import reference
from transship.errors import InputError
from transship.reference import ReferenceDataError
from transship.reference._load import yaml_line
from transship.sources.scenarios.base import (
    INCREASES,
    Cell,
    _Shared,
    parse_month,
    shift,
)
from transship.sources.scenarios.block import Block
from transship.sources.scenarios.misdeclare import Misdeclare
from transship.sources.scenarios.phantom import PhantomExports
from transship.sources.scenarios.reroute import Reroute

DEFAULT_FILE = reference.DATA_DIR / "synthetic_scenarios.yaml"
# Labels are HS2022 cells; the generator writes HS2022 codes from 2022 on.
FIRST_MONTH = date(2022, 1, 1)


Scenario = Annotated[Reroute | PhantomExports | Misdeclare | Block, Field(discriminator="kind")]
KINDS = ("reroute", "phantom_exports", "misdeclare", "block")
_ADAPTER: TypeAdapter[Reroute | PhantomExports | Misdeclare | Block] = TypeAdapter(Scenario)


@dataclass(frozen=True)
class ScenarioSet:
    """Validated scenarios and where they came from."""

    scenarios: tuple[Reroute | PhantomExports | Misdeclare | Block, ...]
    name: str  # file path, or "none"
    sha256: str | None

    def __len__(self) -> int:
        return len(self.scenarios)


def load_scenarios(
    spec: str | Path | None = "default", *, countries: Sequence[str], products: Sequence[str]
) -> ScenarioSet:
    """Load and validate a scenario file: `default` (the packaged set), `none`, or a path.

    Country expressions must name countries of the synthetic world (`countries`), and product
    expressions codes the generator makes (`products`, HS2022).
    """
    if spec is None or str(spec) == "none":
        return ScenarioSet((), "none", None)
    path = DEFAULT_FILE if str(spec) == "default" else Path(spec)
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read scenario file: {e.strerror}", file=name) from None
    try:
        root = yaml.compose(raw.decode("utf-8"))
        data = yaml.safe_load(raw)
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        mark = getattr(e, "problem_mark", None)
        raise InputError(
            f"invalid YAML: {getattr(e, 'problem', e)}",
            file=name,
            line=mark.line + 1 if mark else None,
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("scenarios"), list):
        raise InputError("expected a mapping with a 'scenarios' list", file=name, line=1)
    known = set(countries)
    universe = set(products)
    out: list[Reroute | PhantomExports | Misdeclare | Block] = []
    for i, body in enumerate(data["scenarios"]):
        where = ("scenarios", i)
        if not isinstance(body, dict):
            raise InputError("each scenario is a mapping", file=name, line=yaml_line(root, where))
        try:
            sc = _ADAPTER.validate_python(body)
        except ValidationError as e:
            err = e.errors()[0]
            loc = [p for p in err["loc"] if p not in KINDS] or ["kind"]
            field = ".".join(str(p) for p in loc)
            raise InputError(
                f"scenario {body.get('id', i + 1)!r}: {err['msg']}",
                file=name,
                line=yaml_line(root, [*where, *loc[:1]]),
                column=field,
            ) from None

        def bad(field: str, message: str, sc: Any = sc, where: Any = where) -> InputError:
            return InputError(
                f"scenario {sc.id!r}: {message}",
                file=name,
                line=yaml_line(root, [*where, field]),
                column=field,
            )

        if any(s.id == sc.id for s in out):
            raise bad("id", "duplicate scenario id")
        if sc.start < FIRST_MONTH:
            raise bad("start", f"scenarios start in {FIRST_MONTH:%Y-%m} or later (HS2022 era)")
        if sc.end is not None and sc.end < sc.start:
            raise bad("end", "end is before start")
        if isinstance(sc, _Shared) and isinstance(sc.share, dict):
            first = min(parse_month(k) for k in sc.share)
            if first < sc.start:
                raise bad("share", f"share point {first:%Y-%m} is before start")
        for field in ("hub", "origins", "targets", "exporter", "importer", "exporters",
                      "importers", "neighbours"):  # fmt: skip
            expr = getattr(sc, field, None)
            if expr is None:
                continue
            try:
                members = reference.parse_countries(expr)
            except ReferenceDataError as e:
                raise bad(field, str(e)) from None
            # a group counts its members in the world; a country named outright must be in it
            named = {t for t in re.split(r"[+-]", expr.strip()) if re.fullmatch(r"[A-Z]{3}", t)}
            missing = sorted((named & members) - known)
            if missing or not members & known:
                what = ", ".join(missing) or expr
                raise bad(field, f"{what}: not in the synthetic world")
            if field == "hub" and len(members) != 1:
                raise bad(field, "a hub is one country")
        codes = list(sc.codes) + list(sc.codes.values()) if isinstance(sc, Misdeclare) else []
        if sc.products:
            try:
                codes += sorted(reference.parse_products(sc.products).codes)
            except ReferenceDataError as e:
                raise bad("products", str(e)) from None
        outside = sorted(set(codes) - universe)
        if outside:
            field = "codes" if isinstance(sc, Misdeclare) else "products"
            raise bad(field, f"{', '.join(outside[:5])} not among the generated products")
        if isinstance(sc, Reroute | Block):
            hub = next(iter(reference.parse_countries(sc.hub)))
            others = "origins" if isinstance(sc, Reroute) else "neighbours"
            group = sc.origins if isinstance(sc, Reroute) else sc.neighbours
            if hub in reference.parse_countries(sc.targets) | reference.parse_countries(group):
                raise bad("hub", f"the hub may not be among the targets or {others}")
        out.append(sc)
    return ScenarioSet(tuple(out), name, hashlib.sha256(raw).hexdigest())


__all__ = [
    "INCREASES",
    "KINDS",
    "Block",
    "Cell",
    "Misdeclare",
    "PhantomExports",
    "Reroute",
    "Scenario",
    "ScenarioSet",
    "load_scenarios",
    "parse_month",
    "shift",
]
