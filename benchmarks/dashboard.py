"""Dashboard latency of a new filter set: `python benchmarks/dashboard.py [WAREHOUSE] [--n N]`
(without a warehouse it builds the demo's, as `transship demo` does, in a temp dir).

A "new filter set" is a URL the server has not computed yet (not one of the default pages it
warms at startup, not a repeat), so the page is computed: from the cube beside the warehouse
(analysis.cube, built at startup like the default pages) in DuckDB SQL, or by the Ibis
analyses where the cube cannot answer; charts built by Altair. Prints, from one run over
real HTTP (uvicorn on loopback), p50/p95 of N such first requests across the overview, hub,
product and mirror
pages, the ratio of p95 to the 300 ms target (<= 1 meets it), and where the time goes
(Ibis compilation, Altair specs, the rest: expression building, DuckDB, templates), plus
p95 of repeated requests (the page cache) for contrast.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

TARGET_MS = 300.0
PAGES = ("/", "/hub", "/product", "/mirror")


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[-1] if len(xs) >= 2 else xs[0]


def filter_sets(n: int, seed: int = 7) -> list[str]:
    """n distinct URLs, none a page's default filters: other periods, hubs and products."""
    rng = random.Random(seed)
    periods = [f"2023-01..2023-{m:02d}" for m in range(2, 13) if m != 9]
    periods += [f"2022-{a:02d}..2022-{a + 2:02d}" for a in range(1, 11)]
    periods += ["2022-03..2023-02", "2022-06..2023-05", "2023-04..2023-06"]
    hubs = ("TUR", "KAZ", "ARE", "CHN", "ARM", "IND")
    products = ("chpl", "chpl:tier1", "chpl:tier1,tier2", "chpl:tier2")
    seen: set[str] = set()
    while len(seen) < n:
        page = rng.choice(PAGES)
        q = [f"period={rng.choice(periods)}"]
        if page != "/":
            q.append(f"hub={rng.choice(hubs)}")
        q.append(f"products={rng.choice(products)}")
        seen.add(page + "?" + "&".join(q))
    return sorted(seen, key=lambda _: rng.random())


class Clock:
    """Seconds spent in Ibis compilation and in Altair's to_dict, in this process."""

    def __init__(self) -> None:
        self.compile = 0.0
        self.charts = 0.0
        self._lock = threading.Lock()

    def install(self) -> None:
        import altair as alt
        from ibis.backends.duckdb import Backend

        def timed(fn: Any, attr: str) -> Any:
            def wrapper(*a: Any, **k: Any) -> Any:
                t = time.perf_counter()
                try:
                    return fn(*a, **k)
                finally:
                    with self._lock:
                        setattr(self, attr, getattr(self, attr) + time.perf_counter() - t)

            return wrapper

        Backend.compile = timed(Backend.compile, "compile")  # type: ignore[method-assign]
        alt.TopLevelMixin.to_dict = timed(alt.TopLevelMixin.to_dict, "charts")  # type: ignore[method-assign]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("warehouse", nargs="?", type=Path)
    ap.add_argument("--n", type=int, default=40, help="new filter sets to request")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="transship-bench-"))
    os.environ.setdefault("TRANSSHIP_CACHE_DIR", str(tmp / "cache"))
    import httpx

    import _serve
    from transship.demo import run_demo
    from transship.settings import get_settings
    from transship.warehouse import Warehouse
    from transship.web.app import create_app

    db = args.warehouse
    if db is None:
        db = tmp / "demo.duckdb"
        with contextlib.redirect_stdout(io.StringIO()):
            run_demo(db)
    with Warehouse(db, read_only=True) as wh:
        rows = wh.count()
    load = os.getloadavg()[0]
    print(f"warehouse {db}: {rows:,} rows (SYNTHETIC demo unless given); load {load:.1f}")

    app = create_app(get_settings().model_copy(update={"warehouse": db}))
    server, port = _serve.serve(app)
    app.state.dashboard.wait_warm()  # the default pages: not what this measures
    clock = Clock()
    clock.install()
    base = f"http://127.0.0.1:{port}"
    urls = filter_sets(args.n)
    first: list[float] = []
    again: list[float] = []
    errors = 0
    with httpx.Client(timeout=120) as client:
        client.get(base + "/static/vega.js").raise_for_status()
        t0 = time.perf_counter()
        for u in urls:
            t = time.perf_counter()
            status = client.get(base + u).status_code  # an error page answers too (4xx)
            first.append((time.perf_counter() - t) * 1000)
            errors += status != 200
        wall = time.perf_counter() - t0
        compile_s, charts_s = clock.compile, clock.charts
        for u in urls:
            t = time.perf_counter()
            client.get(base + u)
            again.append((time.perf_counter() - t) * 1000)
    server.should_exit = True
    by_page: dict[str, list[float]] = {}
    for u, ms in zip(urls, first, strict=True):
        by_page.setdefault(u.split("?")[0], []).append(ms)
    for page, xs in sorted(by_page.items()):
        print(
            f"  {page:<9} n={len(xs):>2} p50 {statistics.median(xs):5.0f} ms  max {max(xs):5.0f} ms"
        )
    print(
        f"new filter sets: n={len(first)} p50 {statistics.median(first):.0f} ms, "
        f"p95 {p95(first):.0f} ms -> ratio to the {TARGET_MS:.0f} ms target "
        f"{p95(first) / TARGET_MS:.2f} (<= 1 meets it); {errors} answered with an error page"
    )
    print(
        f"  of {wall:.1f} s: Ibis compilation {compile_s:.1f} s ({compile_s / wall:.0%}), "
        f"Altair specs {charts_s:.1f} s ({charts_s / wall:.0%}), the rest "
        f"{wall - compile_s - charts_s:.1f} s (expressions, DuckDB, templates, HTTP)"
    )
    print(f"repeated (page cache): p95 {p95(again):.0f} ms -> ratio {p95(again) / TARGET_MS:.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
