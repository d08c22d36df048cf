"""UN Comtrade v1 API: plan, fetch (throttled, retried, cached) and map to the canonical schema.

API facts (UN Comtrade API portal, comtradedeveloper.un.org; v1 "get" and "preview" operations):
- data: GET https://comtradeapi.un.org/data/v1/get/{typeCode}/{freqCode}/{clCode}, key in the
  `Ocp-Apim-Subscription-Key` header; at most 100,000 records a call (250,000 premium).
- preview: GET https://comtradeapi.un.org/public/v1/preview/{typeCode}/{freqCode}/{clCode}, no
  key, at most 500 records a call.
- reporterCode, partnerCode, cmdCode, flowCode, period take comma-separated lists; at most 12
  periods a call; URLs over 4,096 characters are refused.
- The answer is `{"elapsedTime", "count", "data": [...], "error": ""}`; a refusal by the
  gateway is `{"statusCode": 401, "message": ...}`. clCode HS returns each reporter's data in
  the HS revision it reported (`classificationCode` H0..H6); `primaryValue` is USD (CIF for
  imports, FOB for exports); `refMonth` 52 marks annual data.

A response whose record count reaches the cap may be truncated: it is split and re-asked, never
kept. Every answered request is cached on disk (keyed by the request, without the key), so a
re-run or a resumed run costs no call for what it already has.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

from transship import reference
from transship.errors import ComtradeError, InputError, ParameterError, UsageError
from transship.periods import PeriodRange, parse_period
from transship.schema import VALUATION_BY_FLOW
from transship.sources.records import RowsSource

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


# -- cache ---------------------------------------------------------------------------------------
class ResponseCache:
    """Raw answers on disk, one JSON file per request key; written atomically."""

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)

    def path(self, key: str) -> Path:
        return self.dir / f"{key}.json"

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def get(self, key: str) -> dict[str, Any] | None:
        p = self.path(key)
        if not p.is_file():
            return None
        try:
            entry: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # a damaged entry is fetched again
        return entry if isinstance(entry.get("body"), dict) else None

    def put(self, key: str, entry: Mapping[str, Any]) -> None:
        from transship.safepath import write_text

        write_text(self.path(key), json.dumps(entry, ensure_ascii=False), parameter="cache_dir")

    def stats(self) -> dict[str, Any]:
        files = list(self.dir.glob("*.json")) if self.dir.is_dir() else []
        return {"responses": len(files), "bytes": sum(f.stat().st_size for f in files)}


# -- HTTP ----------------------------------------------------------------------------------------
class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _message(body: Any, text: str) -> str:
    if isinstance(body, dict):
        for k in ("error", "message"):
            if body.get(k):
                return str(body[k])
    return " ".join(text.split())[:200]


class ComtradeClient:
    """Throttled, retrying GETs. `sleep` and `clock` are injectable so tests never wait."""

    def __init__(
        self,
        key: str | None,
        *,
        tier: Tier,
        throttle_s: float = 6.0,
        timeout_s: float = 120.0,
        attempts: int = 5,
        transport: Any | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import httpx

        if tier != "preview" and not key:
            raise UsageError(
                "no UN Comtrade key: set TRANSSHIP_COMTRADE_KEY (or COMTRADE_PRIMARY), "
                "or use the public preview (500 records a call)"
            )
        headers = {"Ocp-Apim-Subscription-Key": key} if key and tier != "preview" else {}
        self._http = httpx.Client(
            headers=headers, timeout=timeout_s, transport=transport, follow_redirects=True
        )
        self.tier: Tier = tier
        self.throttle_s = throttle_s
        self.attempts = attempts
        self._sleep = sleep
        self._clock = clock
        self._last: float | None = None
        self.calls = 0

    def close(self) -> None:
        self._http.close()

    def _throttle(self) -> None:
        if self._last is not None:
            wait = self._last + self.throttle_s - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last = self._clock()

    def _once(self, url: str) -> dict[str, Any]:
        import httpx

        self._throttle()
        self.calls += 1
        try:
            resp = self._http.get(url)
        except httpx.TimeoutException as e:
            raise _Retryable(f"no answer within the timeout ({type(e).__name__})", None) from None
        except httpx.TransportError as e:
            raise _Retryable(f"network error ({type(e).__name__}: {e})", None) from None
        try:
            body: Any = resp.json()
        except ValueError:
            body = None
        status = resp.status_code
        if status in RETRY_STATUS:
            what = _message(body, resp.text)
            raise _Retryable(
                f"HTTP {status}: {what}", _retry_after(resp.headers.get("Retry-After"))
            )
        if status == 401:
            raise ComtradeError(
                f"UN Comtrade refused the key (HTTP 401: {_message(body, resp.text)}); check "
                "TRANSSHIP_COMTRADE_KEY / COMTRADE_PRIMARY, or unset it to use the public preview"
            )
        if status >= 400:
            raise ComtradeError(
                f"UN Comtrade answered HTTP {status}: {_message(body, resp.text)}; "
                "check the reporters, partners, products and period asked for"
            )
        if not isinstance(body, dict) or not isinstance(body.get("data", []), list):
            raise ComtradeError("UN Comtrade answered something that is not its JSON format")
        if body.get("error") or (body.get("statusCode") not in (None, 200)):
            raise ComtradeError(
                f"UN Comtrade reported an error: {_message(body, '')}; "
                "check the request (see --dry-run) and try again"
            )
        if "data" not in body:
            raise ComtradeError("UN Comtrade answered without a data list")
        return body

    def get(self, request: Request) -> dict[str, Any]:
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

        def wait(state: Any) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Retryable) and exc.retry_after is not None:
                return float(exc.retry_after)
            return float(min(60.0, 2.0**state.attempt_number))

        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(request.url(self.tier))
        except _Retryable as e:
            raise ComtradeError(
                f"UN Comtrade still failing after {self.attempts} attempts ({e}); wait "
                "(quota or service) and run the same command again: answers already "
                "received are cached"
            ) from None
        raise AssertionError("unreachable")


# -- mapping -------------------------------------------------------------------------------------
def _code(v: Any) -> str:
    return str(int(v)) if isinstance(v, int | float) and not isinstance(v, bool) else str(v)


def rows_from_body(
    body: Mapping[str, Any],
    *,
    label: str,
    all_levels: bool = False,
    skipped: Counter[str] | None = None,
) -> list[dict[str, Any]]:
    """Canonical rows of one answer. Non-HS6 rows (TOTAL, chapters, headings) are skipped
    unless `all_levels`, rows of a breakdown (2nd partner, transport, procedure) always."""
    lookup = reference.country_lookup("comtrade")
    skipped = skipped if skipped is not None else Counter()
    out: list[dict[str, Any]] = []
    for i, rec in enumerate(body.get("data") or []):
        where = f"record {i}"

        def bad(column: str, reason: str, value: Any, where: str = where) -> InputError:
            return InputError(f"{where}: {reason}", file=label, column=column, value=str(value))

        # Only totals over 2nd partner, transport mode and customs procedure are kept; such a
        # total may carry isAggregate (UNSD summed it from the breakdown), which is no reason
        # to drop it.
        if any(_code(rec.get(k, v)) != v for k, v in TOTALS.items()):
            skipped["breakdown rows (not totals)"] += 1
            continue
        cmd = str(rec.get("cmdCode", ""))
        if not (len(cmd) == 6 and cmd.isdigit()) and not all_levels:
            skipped[f"non-HS6 rows ({'TOTAL' if cmd == 'TOTAL' else f'{len(cmd)}-digit'})"] += 1
            continue
        flow = FLOW_OF_CODE.get(str(rec.get("flowCode")))
        if flow is None:
            skipped[f"flow {rec.get('flowCode')} rows"] += 1
            continue
        rev = CL_REVISION.get(str(rec.get("classificationCode")))
        if rev is None:
            raise bad("classificationCode", "not an HS revision", rec.get("classificationCode"))
        reporter = lookup.get(_code(rec.get("reporterCode")))
        if reporter is None:
            raise bad("reporterCode", "unknown Comtrade country code", rec.get("reporterCode"))
        partner = lookup.get(_code(rec.get("partnerCode")))
        if partner is None:
            raise bad("partnerCode", "unknown Comtrade country code", rec.get("partnerCode"))
        try:
            year, mon = int(rec["refYear"]), int(rec.get("refMonth") or 52)
        except (KeyError, TypeError, ValueError):
            raise bad("refYear", "missing or not a year", rec.get("refYear")) from None
        annual = rec.get("freqCode") == "A" or mon == 52  # refMonth 52 marks annual data
        if not annual and not 1 <= mon <= 12:
            raise bad("refMonth", "not a month", mon)
        value = rec.get("primaryValue")
        if not isinstance(value, int | float) or value < 0 or not math.isfinite(value):
            raise bad("primaryValue", "missing or not a non-negative number", value)
        unit = rec.get("qtyUnitAbbr")
        has_qty = rec.get("qty") is not None and unit not in (None, "", "N/A")
        out.append(
            {
                "source": "comtrade",
                "reporter": reporter,
                "partner": partner,
                "flow": flow,
                "hs": cmd,
                "hs_rev": rev,
                "period": date(year, 1 if annual else mon, 1),
                "freq": "A" if annual else "M",
                "value_usd": float(value),
                "net_kg": float(rec["netWgt"]) if rec.get("netWgt") is not None else None,
                "qty": float(rec["qty"]) if has_qty else None,
                "qty_unit": str(unit) if has_qty else None,
                "valuation": VALUATION_BY_FLOW[flow],
            }
        )
    return out


# -- fetching ------------------------------------------------------------------------------------
@dataclass
class GroupResult:
    group: str
    requests: int
    calls: int
    from_cache: int
    splits: int
    rows: int
    batch_id: str | None
    rows_written: int
    rows_replaced: int


@dataclass
class FetchResult:
    tier: Tier
    groups: list[GroupResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


Progress = Callable[[int, int, bool], None]  # done, total, from_cache


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def fetch_comtrade(
    plan: Plan,
    warehouse: Any,
    *,
    key: str | None,
    cache_dir: str | Path,
    refresh: bool = False,
    all_levels: bool = False,
    throttle_s: float = 6.0,
    timeout_s: float = 120.0,
    transport: Any | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    progress: Progress | None = None,
) -> FetchResult:
    """Fetch every request of `plan` (from the cache where possible) and ingest each group as
    one batch. A group is ingested only once all its answers are in: an interrupted run
    writes nothing for the group it was in, and the next run takes what it got from the cache."""
    cache = ResponseCache(cache_dir)
    client = ComtradeClient(
        key,
        tier=plan.tier,
        throttle_s=throttle_s,
        timeout_s=timeout_s,
        transport=transport,
        sleep=sleep,
        clock=clock,
    )
    result = FetchResult(tier=plan.tier)
    total = len(plan.requests)
    done = 0
    skipped: Counter[str] = Counter()
    endpoint = f"{BASE}{plan.requests[0].path(plan.tier)}" if plan.requests else BASE
    try:
        for group in plan.groups:
            pending = list(group.requests)
            answers: list[tuple[str, dict[str, Any]]] = []
            calls0, cached, splits = client.calls, 0, 0
            while pending:
                req = pending.pop(0)
                ck = req.cache_key(plan.tier)
                entry = None if refresh else cache.get(ck)
                hit = entry is not None
                if entry is None:
                    body = client.get(req)
                    records = body.get("data") or []
                    if max(len(records), int(body.get("count") or 0)) >= plan.cap:
                        # The answer may be truncated: ask again in two halves, keep nothing.
                        if req.estimate <= 1:
                            raise ComtradeError(
                                "UN Comtrade capped a one-record request; cannot split it"
                            )
                        pending[:0] = list(req.split())
                        splits += 1
                        total += 1
                        continue
                    entry = {
                        "url": req.url(plan.tier),  # the key is a header, never in the URL
                        "retrieved": _now(),
                        "body": body,
                    }
                    cache.put(ck, entry)
                else:
                    cached += 1
                answers.append((ck, entry))
                done += 1
                if progress:
                    progress(done, total, hit)
            rows: list[dict[str, Any]] = []
            digest = hashlib.sha256()
            for ck, entry in answers:
                digest.update(json.dumps(entry["body"], sort_keys=True).encode())
                rows.extend(
                    rows_from_body(
                        entry["body"],
                        label=str(cache.path(ck)),
                        all_levels=all_levels,
                        skipped=skipped,
                    )
                )
            retrieved = sorted(e["retrieved"] for _, e in answers)
            params = {
                "endpoint": endpoint,
                "tier": plan.tier,
                "group": group.name,
                "reporters": list(group.reporters),
                "partners": list(group.partners),
                "flows": list(group.flows),
                "products": list(plan.cmds),
                "period": str(plan.period),
                "freq": plan.freq,
                "requests": len(answers),
                "retrieved": [retrieved[0], retrieved[-1]] if retrieved else [],
                "cache_keys": [ck for ck, _ in answers],
            }
            name = (
                f"comtrade {group.name}: {'+'.join(group.reporters)} -> "
                f"{'+'.join(group.partners)} {plan.period} {plan.freq}"
            )
            src = RowsSource(
                "comtrade", name[:500], rows, parameters=params, sha256=digest.hexdigest()
            )
            src.has_levels = all_levels  # TOTAL/chapter/heading rows go to trade_levels
            ingested = warehouse.ingest(src)
            result.groups.append(
                GroupResult(
                    group=group.name,
                    requests=len(answers),
                    calls=client.calls - calls0,
                    from_cache=cached,
                    splits=splits,
                    rows=len(rows),
                    batch_id=ingested.batch_id,
                    rows_written=ingested.rows_written,
                    rows_replaced=ingested.rows_replaced,
                )
            )
    finally:
        client.close()
    for what, n in sorted(skipped.items()):
        result.notes.append(f"{n:,} {what} not stored")
    if plan.tier == "preview":
        result.notes.append(
            "no subscription key: used the public preview endpoint, 500 records a call, so "
            "far more calls; set TRANSSHIP_COMTRADE_KEY for 100,000 records a call"
        )
    return result


def tier_for(key: str | None, premium: bool) -> Tier:
    if not key:
        return "preview"
    return "premium" if premium else "free"


__all__ = [
    "ComtradeClient",
    "ComtradeError",
    "FetchResult",
    "Plan",
    "Request",
    "ResponseCache",
    "fetch_comtrade",
    "plan_comtrade",
    "product_codes",
    "rows_from_body",
    "tier_for",
]
