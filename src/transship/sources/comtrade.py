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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from transship import reference
from transship.errors import ComtradeError, InputError
from transship.schema import VALUATION_BY_FLOW
from transship.sources.comtrade_http import ComtradeClient, ResponseCache
from transship.sources.comtrade_plan import (
    BASE,
    CL_REVISION,
    FLOW_OF_CODE,
    TOTALS,
    Plan,
    Request,
    Tier,
    plan_comtrade,
    product_codes,
)
from transship.sources.records import RowsSource


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
    "Tier",
    "fetch_comtrade",
    "plan_comtrade",
    "product_codes",
    "rows_from_body",
    "tier_for",
]
