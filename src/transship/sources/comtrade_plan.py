"""UN Comtrade v1 requests planned within the API's limits (record cap, 12 periods, URL length):
the facts of the API (comtrade.py's docstring) as constants, and the requests a fetch makes."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

from transship import reference
from transship.errors import ComtradeError, ParameterError, UsageError
from transship.periods import PeriodRange, parse_period

if TYPE_CHECKING:
    from transship.sources.comtrade_http import ResponseCache

BASE = "https://comtradeapi.un.org"
DATA_PATH = "/data/v1/get"
PREVIEW_PATH = "/public/v1/preview"
Tier = Literal["preview", "free", "premium"]
RECORD_CAP: dict[str, int] = {"preview": 500, "free": 100_000, "premium": 250_000}
MAX_PERIODS = 12
MAX_URL = 4096
FLOW_CODES = {"export": "X", "import": "M", "re-export": "RX", "re-import": "RM"}
FLOW_OF_CODE = {v: k for k, v in FLOW_CODES.items()}
MIRROR_FLOW = {"export": "import", "import": "export", "re-export": "re-import"}
MIRROR_FLOW["re-import"] = "re-export"
CL_REVISION = {
    "H0": "HS1992",
    "H1": "HS1996",
    "H2": "HS2002",
    "H3": "HS2007",
    "H4": "HS2012",
    "H5": "HS2017",
    "H6": "HS2022",
}
RETRY_STATUS = frozenset({403, 429, 500, 502, 503, 504})
# Totals over the breakdowns the API can add: second partner, transport mode, customs procedure.
TOTALS = {"partner2Code": "0", "motCode": "0", "customsCode": "C00"}


# -- planning ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    """One API call: every combination of its lists (an upper bound on the records it returns)."""

    reporters: tuple[str, ...]  # Comtrade numeric codes
    partners: tuple[str, ...]
    cmds: tuple[str, ...]
    flows: tuple[str, ...]  # X, M, RX, RM
    periods: tuple[str, ...]  # YYYYMM or YYYY
    freq: str  # M or A

    def params(self) -> dict[str, str]:
        return {
            "reporterCode": ",".join(self.reporters),
            "partnerCode": ",".join(self.partners),
            "cmdCode": ",".join(self.cmds),
            "flowCode": ",".join(self.flows),
            "period": ",".join(self.periods),
            **TOTALS,
            "includeDesc": "false",
        }

    @property
    def estimate(self) -> int:
        return math.prod(
            len(x) for x in (self.reporters, self.partners, self.cmds, self.flows, self.periods)
        )

    def path(self, tier: Tier) -> str:
        return f"{PREVIEW_PATH if tier == 'preview' else DATA_PATH}/C/{self.freq}/HS"

    def url(self, tier: Tier) -> str:
        params = {**self.params(), "maxRecords": str(RECORD_CAP[tier])}
        return f"{BASE}{self.path(tier)}?{urlencode(params)}"

    def cache_key(self, tier: Tier) -> str:
        # maxRecords is left out: an uncapped answer is complete whatever cap was asked for.
        endpoint = "preview" if tier == "preview" else "data"
        text = json.dumps([endpoint, self.freq, sorted(self.params().items())])
        return hashlib.sha256(text.encode()).hexdigest()

    def split(self) -> tuple[Request, Request]:
        """Halve the longest list (the one that shrinks the request most)."""
        dims = ("cmds", "partners", "reporters", "periods", "flows")
        name = max(dims, key=lambda d: len(getattr(self, d)))
        values: tuple[str, ...] = getattr(self, name)
        if len(values) < 2:
            raise ComtradeError("a single-value request cannot be split further")
        half = len(values) // 2
        first: dict[str, Any] = {name: values[:half]}
        second: dict[str, Any] = {name: values[half:]}
        return replace(self, **first), replace(self, **second)


@dataclass
class Group:
    """Requests ingested together as one warehouse batch (one side of the flows)."""

    name: str  # "reported" or "mirror"
    reporters: tuple[str, ...]  # ISO alpha-3
    partners: tuple[str, ...]
    flows: tuple[str, ...]  # canonical flow names
    requests: list[Request]


@dataclass
class Plan:
    tier: Tier
    freq: str
    period: PeriodRange
    cmds: tuple[str, ...]
    groups: list[Group]

    @property
    def cap(self) -> int:
        return RECORD_CAP[self.tier]

    @property
    def requests(self) -> list[Request]:
        return [r for g in self.groups for r in g.requests]

    def rows(self, cache: ResponseCache | None = None) -> list[dict[str, Any]]:
        """One line per request, for `--dry-run`."""
        out = []
        for g in self.groups:
            for i, r in enumerate(g.requests, 1):
                out.append(
                    {
                        "group": g.name,
                        "request": i,
                        "reporters": len(r.reporters),
                        "partners": len(r.partners),
                        "products": len(r.cmds),
                        "flows": ",".join(r.flows),
                        "periods": f"{r.periods[0]}..{r.periods[-1]} ({len(r.periods)})",
                        "max records": r.estimate,
                        "url chars": len(r.url(self.tier)),
                        "cached": bool(cache and cache.has(r.cache_key(self.tier))),
                    }
                )
        return out


def _comtrade_codes(expr: str, option: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    isos = sorted(reference.parse_countries(expr))
    codes = []
    for iso in isos:
        code = reference.country(iso).comtrade
        if code is None:
            raise UsageError(
                "{" + option + "}" + f" {expr!r}: {iso} has no UN Comtrade code", params=(option,)
            )
        codes.append(code)
    return tuple(isos), tuple(codes)


def product_codes(
    products: str, revisions: Iterable[str] = ("HS2012", "HS2017", "HS2022")
) -> list[str]:
    """HS6 codes to ask for: the product set in every revision its data may be reported in.

    Comtrade answers in each reporter's own revision, so an HS2022 set is asked for with its
    older equivalents too; each row keeps the revision it was reported in.
    """
    pset = reference.parse_products(products)
    codes: set[str] = set()
    for rev in revisions:
        for olds in pset.in_revision(rev).codes.values():
            codes.update(olds)
    return sorted(codes)


def _periods(rng: PeriodRange, freq: str) -> list[list[str]]:
    """Periods in chunks of at most 12 (a calendar year of months, or 12 years)."""
    if freq == "A":
        years = [str(y) for y in range(rng.start.year, rng.end.year + 1)]
        return [years[i : i + MAX_PERIODS] for i in range(0, len(years), MAX_PERIODS)]
    chunks: dict[int, list[str]] = {}
    y, m = rng.start.year, rng.start.month
    while (y, m) <= (rng.end.year, rng.end.month):
        chunks.setdefault(y, []).append(f"{y}{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return list(chunks.values())


def fit(request: Request, cap: int, tier: Tier) -> list[Request]:
    """Split until every request is within the record cap and the URL limit."""
    if request.estimate <= cap and len(request.url(tier)) <= MAX_URL:
        return [request]
    a, b = request.split()
    return fit(a, cap, tier) + fit(b, cap, tier)


def plan_comtrade(
    *,
    reporters: str,
    partners: str,
    products: str = "chpl",
    period: str | PeriodRange,
    freq: str = "M",
    flows: Sequence[str] = ("export", "import"),
    mirror: bool = False,
    tier: Tier = "free",
) -> Plan:
    """The requests that fetch these flows (and, with `mirror`, the partners' side of them)."""
    if freq not in ("M", "A"):
        raise ParameterError("freq", f"{freq!r}: expected M or A")
    if tier not in RECORD_CAP:
        raise UsageError(f"unknown tier {tier!r}; expected preview, free or premium")
    bad = [f for f in flows if f not in FLOW_CODES]
    if bad or not flows:
        raise ParameterError(
            "flows", f"{','.join(flows)!r}: expected some of {', '.join(FLOW_CODES)}"
        )
    rng = period if isinstance(period, PeriodRange) else parse_period(period)
    rep_iso, rep_codes = _comtrade_codes(reporters, "reporters")
    par_iso, par_codes = _comtrade_codes(partners, "partners")
    cmds = tuple(product_codes(products))
    if not cmds:
        raise ParameterError("products", f"{products!r} selects no HS6 code")
    chunks = _periods(rng, freq)
    cap = RECORD_CAP[tier]

    def group(
        name: str, reps: tuple[str, ...], pars: tuple[str, ...], fl: Sequence[str]
    ) -> list[Request]:
        codes = tuple(FLOW_CODES[f] for f in fl)
        out: list[Request] = []
        for chunk in chunks:
            out.extend(fit(Request(reps, pars, cmds, codes, tuple(chunk), freq), cap, tier))
        return out

    groups = [
        Group(
            "reported",
            rep_iso,
            par_iso,
            tuple(flows),
            group("reported", rep_codes, par_codes, flows),
        )
    ]
    if mirror:
        mflows = tuple(dict.fromkeys(MIRROR_FLOW[f] for f in flows))
        groups.append(
            Group("mirror", par_iso, rep_iso, mflows, group("mirror", par_codes, rep_codes, mflows))
        )
    return Plan(tier=tier, freq=freq, period=rng, cmds=cmds, groups=groups)
