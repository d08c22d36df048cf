"""Evasion scenarios for the synthetic generator, declared in YAML and validated on load.

A scenario file has a `scenarios` list (and, for packaged files, provenance keys). Every
error names the file, the line and the field, e.g.
`my.yaml:14, column 'share': share must be in (0, 1]`.
The packaged default (`reference/data/synthetic_scenarios.yaml`) tells the FT's Turkey story.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from transship import reference
from transship.errors import InputError
from transship.reference import ReferenceDataError
from transship.reference._load import yaml_line

DEFAULT_FILE = reference.DATA_DIR / "synthetic_scenarios.yaml"
# Labels are HS2022 cells; the generator writes HS2022 codes from 2022 on.
FIRST_MONTH = date(2022, 1, 1)


def parse_month(value: object) -> date:
    """`2022-03` (or a date) -> the first day of that month."""
    if isinstance(value, date):
        return date(value.year, value.month, 1)
    text = str(value).strip()
    try:
        year, month = text.split("-")[:2]
        return date(int(year), int(month), 1)
    except ValueError:
        raise ValueError(f"expected a month YYYY-MM, got {text!r}") from None


class _Scenario(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str = ""
    products: str = "chpl"
    start: date
    end: date | None = None

    @field_validator("start", "end", mode="before")
    @classmethod
    def _month(cls, v: object) -> date | None:
        return None if v is None else parse_month(v)


def _check_share(v: float) -> float:
    if not 0 < v <= 1:
        raise ValueError(f"share must be in (0, 1], got {v}")
    return v


class _Shared(_Scenario):
    share: float | dict[str, float] = Field(
        description="fraction moved: a number or {YYYY-MM: fraction} points"
    )

    @field_validator("share")
    @classmethod
    def _shares(cls, v: float | dict[str, float]) -> float | dict[str, float]:
        if isinstance(v, dict):
            if not v:
                raise ValueError("share points must not be empty")
            for k, s in v.items():
                parse_month(k)
                _check_share(s)
            return dict(sorted(v.items(), key=lambda kv: parse_month(kv[0])))
        return _check_share(v)

    def shares(self, months: Sequence[date]) -> list[float]:
        """The share in each month: 0 before start and after end, points interpolated."""
        end = self.end or date.max
        if isinstance(self.share, float | int):
            return [float(self.share) if self.start <= m <= end else 0.0 for m in months]
        points = [(_ordinal(parse_month(k)), s) for k, s in self.share.items()]
        out: list[float] = []
        for m in months:
            if not self.start <= m <= end:
                out.append(0.0)
                continue
            x = _ordinal(m)
            if x <= points[0][0]:
                out.append(points[0][1])
            elif x >= points[-1][0]:
                out.append(points[-1][1])
            else:
                for (x0, y0), (x1, y1) in itertools.pairwise(points):
                    if x0 <= x <= x1:
                        out.append(y0 + (y1 - y0) * (x - x0) / (x1 - x0))
                        break
        return out


class Reroute(_Shared):
    kind: Literal["reroute"]
    hub: str
    origins: str
    targets: str = "russia"
    lag: int = Field(1, ge=0, le=12)
    markup: float = Field(1.0, ge=1.0, le=3.0)


class PhantomExports(_Scenario):
    kind: Literal["phantom_exports"]
    exporter: str
    importer: str
    multiple: float = Field(gt=1.0, le=100.0)


class Misdeclare(_Shared):
    kind: Literal["misdeclare"]
    exporters: str
    importers: str
    codes: dict[str, str] = Field(min_length=1)
    side: Literal["export", "import", "both"] = "export"
    products: str = ""  # the `codes` keys are the products

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


class Block(_Shared):
    kind: Literal["block"]
    hub: str
    targets: str = "russia"
    neighbours: str
    lag: int = Field(1, ge=0, le=12)
    markup: float = Field(1.0, ge=1.0, le=3.0)


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


def _ordinal(m: date) -> int:
    return m.year * 12 + m.month - 1


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
