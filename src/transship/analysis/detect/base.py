"""What every detector is: a small class with a name, declared parameters (defaults and
descriptions) and a `run` that returns findings, each explaining itself.

A finding is one row of the triage table: kind (what is suspected), where (countries, code),
since when, size in USD, evidence (the numbers, in words), the detector, a score and a link to
the analysis that shows it. Detectors attach a p-value to each candidate; `detect` turns them
into q-values with the Benjamini-Hochberg procedure across all candidates of that detector
(false-discovery rate), and keeps those at or below the detector's `fdr`.

Registry: `@register` adds a detector class under its `name`; `registry()` lists them, so a
new detector is one class in one module.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, ClassVar

from transship.errors import UsageError


@dataclass(frozen=True)
class Parameter:
    """A detector parameter: its default and what it means."""

    name: str
    default: Any
    description: str


@dataclass
class Finding:
    """One suspected scheme, as the triage table shows it."""

    kind: str  # reroute_hub, surge, mirror_gap, code_shift, code_mismatch, unit_value
    where: str  # "TUR", "TUR->KAZ", "DEU->KAZ 8542"
    since: date | None
    size_usd: float  # USD a year of the suspicious excess (an estimate; see evidence)
    evidence: str
    detector: str
    p_value: float
    score: float = 0.0  # -log10(q), filled by `detect`
    q_value: float = 1.0
    link: str = ""  # the dashboard/CLI analysis that shows it
    # the unit, for scoring against labels: country codes and product where known
    exporter: str | None = None
    importer: str | None = None
    country: str | None = None
    hs: str | None = None
    key: tuple[str, ...] = ()  # the detector's own key for the candidate (not shown)
    # in the triage table: the other findings on the same subject (country or pair)
    also: tuple[Finding, ...] = ()

    def row(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "where": self.where,
            "since": self.since,
            "size_usd": round(self.size_usd, 0),
            "evidence": self.evidence,
            "detector": self.detector,
            "score": round(self.score, 2),
            "q_value": self.q_value,
            "link": self.link,
            "also": "; ".join(f"{g.detector}: {g.where} (score {g.score:.1f})" for g in self.also),
        }


class Detector(ABC):
    """Base class: subclasses set `name`, `kind`, `description`, `PARAMETERS`, and `run`."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = ""
    description: ClassVar[str] = ""
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = ()
    default: ClassVar[bool] = True  # run by `detect` when no detector is named

    def __init__(self, **params: Any) -> None:
        known = {p.name for p in self.PARAMETERS}
        unknown = sorted(set(params) - known)
        if unknown:
            raise UsageError(
                f"detector {self.name}: unknown parameter {', '.join(unknown)}; "
                f"parameters are {', '.join(sorted(known)) or 'none'}"
            )
        self.params: dict[str, Any] = {p.name: p.default for p in self.PARAMETERS}
        self.params.update(params)

    @property
    def parameters(self) -> Mapping[str, object]:
        return dict(self.params)

    @abstractmethod
    def run(self, ctx: Context) -> list[Finding]:
        """Candidates with p-values (before FDR)."""

    def memo(self, ctx: Context, what: str, make: Callable[[], Any]) -> Any:
        """`make()` once per run for this detector and its parameters: its tests before FDR,
        which another detector (`misdeclared`) pools too."""
        return ctx.memo(f"{self.name}:{what}:{sorted(self.params.items())!r}", make)

    def explain(self, finding: Finding) -> str:
        """Why this finding is in the table, in one sentence."""
        return (
            f"{self.description} {finding.evidence} (q = {finding.q_value:.3g} after "
            f"Benjamini-Hochberg at FDR {self.params.get('fdr', 0.05)})"
        )


@dataclass
class Context:
    """What detectors share in one run: the connection, the country groups, the periods."""

    con: Any
    target: str = "russia"
    neighbours: str = "caucasus_central_asia"
    coalition: str = "coalition"
    baseline: tuple[date, date] = (date(2019, 1, 1), date(2021, 12, 1))
    post_start: date = date(2022, 3, 1)  # the month after the invasion
    source: str | None = None
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)

    def memo(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]


_REGISTRY: dict[str, type[Detector]] = {}


def register(cls: type[Detector]) -> type[Detector]:
    if not cls.name or cls.name in _REGISTRY:
        raise ValueError(f"detector name {cls.name!r} missing or taken")
    _REGISTRY[cls.name] = cls
    return cls


def registry() -> dict[str, type[Detector]]:
    from transship.analysis.detect import (  # noqa: F401  (each module registers its classes)
        blocks,
        codeshift,
        hubs,
        mirror,
        misdeclare,
        pooled,
        surges,
        unitvalues,
    )

    return dict(_REGISTRY)


def bh(pvalues: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg q-values (monotone, capped at 1), in the input order."""
    n = len(pvalues)
    order = sorted(range(n), key=lambda i: pvalues[i])
    q = [1.0] * n
    running = 1.0
    for rank in range(n, 0, -1):
        i = order[rank - 1]
        running = min(running, pvalues[i] * n / rank)
        q[i] = min(running, 1.0)
    return q


def apply_fdr(findings: list[Finding], fdr: float, n_tests: int | None = None) -> list[Finding]:
    """Keep the findings whose BH q-value is at most `fdr`; score = -log10(q).

    `n_tests` counts every candidate tested, also those left out before (with p near 1, they
    cannot pass but they count in the correction)."""
    ps = [f.p_value for f in findings]
    ps += [1.0] * max(0, (n_tests or 0) - len(ps))
    qs = bh(ps)[: len(findings)]
    out = []
    for f, q in zip(findings, qs, strict=True):
        if q <= fdr:
            out.append(replace(f, q_value=q, score=min(-math.log10(max(q, 1e-300)), 300.0)))
    return out


def binom_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    # exact upper tail, term by term in logs (n is a count of months or products: small)
    lp, lq = math.log(p), math.log1p(-p)
    terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp
             + (n - i) * lq for i in range(k, n + 1)]  # fmt: skip
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def hypergeom_sf(k: int, total: int, good: int, draws: int) -> float:
    """P(X >= k) for X ~ Hypergeometric: `draws` from `total` items of which `good` are good
    (one-sided Fisher exact test of `k` good among the drawn)."""
    lo, hi = max(0, draws - (total - good)), min(draws, good)
    if k <= lo:
        return 1.0
    if k > hi:
        return 0.0

    def lchoose(n: int, r: int) -> float:
        return math.lgamma(n + 1) - math.lgamma(r + 1) - math.lgamma(n - r + 1)

    terms = [lchoose(good, i) + lchoose(total - good, draws - i) for i in range(k, hi + 1)]
    top = max(terms)
    log_p = top + math.log(sum(math.exp(t - top) for t in terms)) - lchoose(total, draws)
    return min(1.0, math.exp(log_p))


def norm_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def fisher(ps: Iterable[float]) -> float:
    """Fisher's combined p-value: P(chi2 with 2k df >= -2 sum ln p) (closed form)."""
    ps = [min(max(p, 1e-300), 1.0) for p in ps]
    if not ps:
        return 1.0
    half = -sum(math.log(p) for p in ps)  # X / 2
    term, tot = 1.0, 1.0
    for j in range(1, len(ps)):
        term *= half / j
        tot += term
    return min(1.0, math.exp(-half) * tot)


def stouffer(ps: Iterable[float]) -> float:
    """Stouffer's combined p-value: sum of the normal quantiles over sqrt(k)."""
    from statistics import NormalDist

    nd = NormalDist()
    zs = [nd.inv_cdf(1.0 - min(max(p, 1e-300), 1.0 - 1e-16)) for p in ps]
    if not zs:
        return 1.0
    return norm_sf(sum(zs) / math.sqrt(len(zs)))


def money(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "n/a"
    a = abs(v)
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"${v / div:.1f}{unit}"
    return f"${v:.0f}"


def as_iter(v: Any) -> Iterable[Any]:
    return v if isinstance(v, list | tuple) else [v]
