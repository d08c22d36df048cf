"""Shared helpers of the UN Comtrade tests: recorded responses, a recording MockTransport
handler and a fake clock."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from transship.sources import comtrade as ct
from transship.sources.comtrade import fetch_comtrade
from transship.sources.comtrade_plan import (
    Plan,
    Request,
    Tier,
    plan_comtrade,
)
from transship.warehouse import Warehouse

FIX = Path(__file__).parent / "fixtures" / "comtrade"
KEY = "k3y-never-to-be-seen-0123456789"
FT_PARTNERS = ("AZE", "GEO", "KAZ", "KGZ", "RUS", "UZB")


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIX / name).read_text(encoding="utf-8"))
    return data


def respond(name: str) -> httpx.Response:
    f = fixture(name)
    return httpx.Response(f["status"], json=f["body"], headers=f["headers"])


class Api:
    """A MockTransport handler: answers by the request's query, records every call."""

    def __init__(self, route: Any) -> None:
        self.route = route
        self.calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        q = {k: v[0] for k, v in parse_qs(urlparse(str(request.url)).query).items()}
        return self.route(q, request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


class Clock:
    """Fake monotonic clock; sleeping advances it and is recorded."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s


def run(plan: Plan, wh: Warehouse, api: Api, tmp_path: Path, **kw: Any) -> ct.FetchResult:
    clock = Clock()
    kw.setdefault("key", KEY)
    return fetch_comtrade(
        plan,
        wh,
        cache_dir=tmp_path / "cache",
        transport=api.transport,
        sleep=clock.sleep,
        clock=clock,
        **kw,
    )


def one_month_plan(mirror: bool = False, tier: Tier = "free") -> Plan:
    return plan_comtrade(
        reporters="TUR",
        partners="RUS+KAZ",
        products="854231,847130",
        period="2023-01",
        mirror=mirror,
        tier=tier,
    )


def combos(requests: list[Request]) -> Counter[tuple[str, ...]]:
    return Counter(
        c
        for r in requests
        for c in itertools.product(r.reporters, r.partners, r.cmds, r.flows, r.periods)
    )


def normal_route(q: dict[str, str], _: httpx.Request) -> httpx.Response:
    """normal.json / mirror.json, dated in the first period asked (they are recorded 2023-01)."""
    f = fixture("mirror.json" if q["reporterCode"] != "792" else "normal.json")
    period = q["period"].split(",")[0]
    for rec in f["body"]["data"]:
        rec["period"], rec["refYear"] = period, int(period[:4])
        rec["refMonth"] = int(period[4:]) if len(period) == 6 else 52
    return httpx.Response(f["status"], json=f["body"], headers=f["headers"])
