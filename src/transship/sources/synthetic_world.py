"""The SYNTHETIC world: countries with size and position, gravity constants, and the products
the generator trades (the CHPL codes plus their control basket)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from transship import reference
from transship.reference import ReferenceDataError
from transship.sources.scenarios import parse_month

WORLD_FILE = reference.DATA_DIR / "synthetic_world.yaml"


class _WorldFile(BaseModel):
    model_config = ConfigDict(extra="allow")

    scale: float = Field(gt=0)
    exporter_elasticity: float = Field(gt=0, le=2)
    importer_elasticity: float = Field(gt=0, le=2)
    distance_elasticity: float = Field(ge=0, le=3)
    older_codes: dict[str, str] = {}
    stops_reporting: dict[str, str] = {}
    tech: dict[str, float] = {}
    countries: dict[str, tuple[float, float, float]] = Field(min_length=2)


@dataclass(frozen=True)
class World:
    """Countries of the synthetic world with size and position, and the gravity constants."""

    codes: tuple[str, ...]
    gdp: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    tech: np.ndarray
    scale: float
    a: float
    b: float
    c: float
    older_codes: Mapping[str, str]
    stops_reporting: Mapping[str, date]


@functools.cache
def load_world(path: Path = WORLD_FILE) -> World:
    """Read and validate the synthetic world file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        w = _WorldFile.model_validate(raw)
    except (OSError, yaml.YAMLError) as e:
        raise ReferenceDataError(f"{path.name}: {e}") from None
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise ReferenceDataError(f"{path.name}: field {loc!r}: {err['msg']}") from None
    codes = tuple(w.countries)
    for code in (*codes, *w.tech, *w.stops_reporting):
        if code not in codes:
            raise ReferenceDataError(f"{path.name}: {code} is not in 'countries'")
        reference.country(code)  # must be a known ISO code
    for new, old in w.older_codes.items():
        if not reference.hs6_exists(new) or not reference.hs6_exists(old, "HS2017"):
            raise ReferenceDataError(f"{path.name}: older_codes {new}: {old} is not HS2022/HS2017")
    vals = np.array([w.countries[c] for c in codes], dtype=np.float64)
    return World(
        codes=codes,
        gdp=vals[:, 0],
        lat=vals[:, 1],
        lon=vals[:, 2],
        tech=np.array([w.tech.get(c, 1.0) for c in codes]),
        scale=w.scale,
        a=w.exporter_elasticity,
        b=w.importer_elasticity,
        c=w.distance_elasticity,
        older_codes=dict(w.older_codes),
        stops_reporting={k: parse_month(v) for k, v in w.stops_reporting.items()},
    )


@functools.cache
def product_universe() -> tuple[tuple[str, ...], frozenset[str]]:
    """(all generated HS2022 codes, the CHPL ones): CHPL plus the control basket."""
    chpl = frozenset(i.hs6 for i in reference.chpl())
    controls: set[str] = set()
    for heading in sorted({c[:4] for c in chpl}):
        for code in reference.parse_products(heading).codes - chpl:
            if reference.hs6_exists(code, "HS2012") and reference.hs6_exists(code, "HS2017"):
                controls.add(code)
    return tuple(sorted(chpl | controls)), chpl
