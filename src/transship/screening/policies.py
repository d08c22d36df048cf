"""Screening policies: YAML rules over declarations, validated with located errors.

A policy is a list of rules. A rule applies to a declaration when the declaration's date lies
in [valid_from, valid_to] and every condition given holds. Of the rules that apply, those with
the highest `precedence` decide; among them the most severe action wins (BLOCK > FLAG >
ALLOW). So a higher-precedence ALLOW (a licence, an exemption) overrides a lower BLOCK, and
two rules of equal precedence never let the milder one win. Every applying rule is reported.
Sanctions-list hits are not subject to precedence: a BLOCK hit blocks whatever the rules say.

Conditions (all optional; omitted = any):
  products           `chpl`, `chpl:tier1,tier2`, `chpl@2023-09`, HS prefixes of 2-12 digits,
                     joined by `+` or `,`; a declared code matches when it starts with one
  origin, destination, exporter_country, consignee_country
                     country expressions (reference.parse_countries: `russia+belarus`, `eu27`)
  origin_not, destination_not   country expressions the value must not be in
  value_at_least     {amount, currency}: value >= amount; a declaration in another currency
                     meets it (no conversion is guessed; the reason says so)
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from transship.errors import InputError, UsageError
from transship.reference import DATA_DIR, ReferenceDataError, SourceRef, parse_countries
from transship.reference import parse_products as _parse_products
from transship.reference._load import yaml_line

POLICY_DIR = DATA_DIR / "policies"
Action = Literal["BLOCK", "FLAG", "ALLOW"]
SEVERITY: dict[str, int] = {"ALLOW": 0, "FLAG": 1, "BLOCK": 2}


class ValueThreshold(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: float = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class Conditions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    products: str | None = None
    origin: str | None = None
    origin_not: str | None = None
    destination: str | None = None
    destination_not: str | None = None
    exporter_country: str | None = None
    consignee_country: str | None = None
    value_at_least: ValueThreshold | None = None


class RuleSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    description: str = Field(min_length=1)
    legal_source: str = Field(min_length=1)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    when: Conditions
    action: Literal["BLOCK", "FLAG", "ALLOW"]
    precedence: int = 0
    note: str = ""

    @field_validator("valid_to")
    @classmethod
    def _after_from(cls, v: dt.date | None, info: Any) -> dt.date | None:
        start = info.data.get("valid_from")
        if v is not None and start is not None and v < start:
            raise ValueError(f"valid_to {v} is before valid_from {start}")
        return v


class PolicySpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    title: str = Field(min_length=1)
    jurisdiction: str = Field(min_length=1)
    description: str = Field(min_length=1)
    source_date: dt.date
    retrieved: dt.date
    sources: tuple[SourceRef, ...] = Field(min_length=1)
    notes: str = ""
    rules: tuple[RuleSpec, ...] = Field(min_length=1)


@dataclass(frozen=True)
class Rule:
    """A rule with its conditions resolved to codes: what the SQL evaluator needs."""

    spec: RuleSpec
    hs_prefixes: tuple[str, ...] | None  # None = any product
    products_label: str | None
    countries: dict[str, frozenset[str]]  # condition name -> ISO alpha-3 codes

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def action(self) -> str:
        return self.spec.action


@dataclass(frozen=True)
class Policy:
    spec: PolicySpec
    rules: tuple[Rule, ...]
    path: Path
    sha256: str = ""  # of the policy file's bytes as loaded: recorded in every audit record

    @property
    def id(self) -> str:
        return self.spec.id

    def summary(self) -> dict[str, Any]:
        """JSON-ready description (GET /v1/policies)."""
        return {
            "id": self.id,
            "title": self.spec.title,
            "jurisdiction": self.spec.jurisdiction,
            "description": self.spec.description,
            "source_date": self.spec.source_date.isoformat(),
            "sha256": self.sha256,
            "sources": [s.model_dump(mode="json", exclude_none=True) for s in self.spec.sources],
            "notes": self.spec.notes,
            "rules": [
                {
                    **r.spec.model_dump(mode="json", exclude_none=True),
                    "products_label": r.products_label,
                }
                for r in self.rules
            ],
        }


def parse_product_prefixes(expr: str) -> tuple[tuple[str, ...], str]:
    """`chpl:tier1 + 8471,8542310010` -> sorted HS prefixes (2-12 digits) and a label."""
    prefixes: set[str] = set()
    labels: list[str] = []
    for term in (t.strip() for t in expr.split("+")):
        if not term:
            raise ValueError(f"empty term in product expression {expr!r}")
        if term.lower().startswith("chpl"):
            ps = _parse_products(term)
            prefixes |= set(ps.codes)
            labels.append(ps.label)
            continue
        for token in (t.strip().replace(".", "").replace(" ", "") for t in term.split(",")):
            if not token.isdigit() or not 2 <= len(token) <= 12 or len(token) % 2:
                raise ValueError(
                    f"bad product term {token!r}: expected chpl... or an HS prefix of "
                    "2, 4, 6, 8, 10 or 12 digits"
                )
            prefixes.add(token)
        labels.append("HS " + term)
    return tuple(sorted(prefixes)), " + ".join(labels)


# -- loading with line numbers ---------------------------------------------------------------
def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(policy)"


def load_policy_file(path: Path) -> Policy:
    """Parse and validate one policy file; InputError names the file, line and field."""
    import yaml

    name = str(path)
    import hashlib

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError("policy file not found", file=name) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 text: {e.reason}", file=name) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputError(
            f"invalid YAML: {getattr(e, 'problem', e)}",
            file=name,
            line=mark.line + 1 if mark else None,
        ) from None
    if root is None or not isinstance(data, dict):
        raise InputError("expected a mapping at top level", file=name, line=1)
    try:
        spec = PolicySpec.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = tuple(err["loc"])
        raise InputError(
            err["msg"], file=name, line=yaml_line(root, loc), column=_field(loc)
        ) from None
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, r in enumerate(spec.rules):
        if r.id in seen:
            loc = ("rules", i, "id")
            raise InputError(
                f"duplicate rule id {r.id!r}",
                file=name,
                line=yaml_line(root, loc),
                column=_field(loc),
            )
        seen.add(r.id)
        countries: dict[str, frozenset[str]] = {}
        prefixes: tuple[str, ...] | None = None
        label: str | None = None
        for cond, expr in r.when.model_dump(exclude_none=True).items():
            loc = ("rules", i, "when", cond)
            try:
                if cond == "products":
                    prefixes, label = parse_product_prefixes(expr)
                elif cond != "value_at_least":
                    countries[cond] = parse_countries(expr)
            except (ReferenceDataError, ValueError) as e:
                raise InputError(
                    str(e), file=name, line=yaml_line(root, loc), column=_field(loc)
                ) from None
        rules.append(Rule(r, prefixes, label, countries))
    return Policy(spec, tuple(rules), path, hashlib.sha256(raw).hexdigest())


def policy_names() -> list[str]:
    """Ids of the packaged policies."""
    return sorted(p.stem for p in POLICY_DIR.glob("*.yaml"))


@functools.cache
def _load_cached(path: Path, mtime_ns: int, size: int) -> Policy:
    return load_policy_file(path)


def load_policy(name_or_path: str | Path) -> Policy:
    """A packaged policy by id (`tr-customs-2024`) or a policy YAML file by path."""
    p = Path(name_or_path)
    if p.suffix not in (".yaml", ".yml") or not p.exists():
        p = POLICY_DIR / f"{name_or_path}.yaml"
        if not p.exists():
            from transship.reference._load import unknown

            raise UsageError(unknown("policy", str(name_or_path), policy_names()))
    p = p.resolve()
    st = p.stat()
    policy = _load_cached(p, st.st_mtime_ns, st.st_size)
    if policy.id != p.stem and p.parent == POLICY_DIR:
        raise InputError(f"policy id {policy.id!r} differs from its file name", file=str(p))
    return policy


def all_policies() -> list[Policy]:
    return [load_policy(n) for n in policy_names()]
