"""The dashboard's pages: one module each, found by the registry below.

To add a page, add a module here that defines `PAGE` (a `base.Page`), usually

    PAGE = filter_page("name", "/name", order=..., fields=(...), summary="...", compute=fn)

with `fn(con, filters) -> PageData` (`con` an Ibis DuckDB connection, `filters` the page's
fields from the URL or their DEFAULTS), and one test that opens its URL. The registry adds
its router, its nav link (by `order`) and its warm-up at startup; nothing else changes.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from transship.web.dashboard.base import Page


@functools.cache
def registry() -> dict[str, Page]:
    """Every page module's PAGE, by name, in nav order."""
    found: list[Page] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        page = getattr(module, "PAGE", None)
        if isinstance(page, Page):
            found.append(page)
    names = [p.name for p in found]
    if len(set(names)) != len(names):
        raise RuntimeError(f"two dashboard pages share a name: {sorted(names)}")
    return {p.name: p for p in sorted(found, key=lambda p: (p.order, p.name))}


def nav() -> tuple[tuple[str, str], ...]:
    """(label, URL) of every page, in order: the nav bar of every page (alerts' too)."""
    return tuple((p.name, p.path) for p in registry().values())
