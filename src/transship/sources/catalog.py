"""What each source needs, what is cached from it, and what the warehouse holds from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transship.schema import table_exists


def sources_status(
    warehouse: Any | None, *, cache_dir: str | Path, key_set: bool
) -> list[dict[str, Any]]:
    """One row per source: needs, key set (never the key), cache, warehouse rows and periods.

    `warehouse` is an open `Warehouse` (read-only is enough) or None when there is none yet.
    Sources found only in the warehouse (csv --source labels) are listed too.
    """
    held: dict[str, dict[str, Any]] = {}
    if warehouse is not None:
        for source, rows, lo, hi in warehouse.con.execute(
            "SELECT source, count(*), min(period), max(period) FROM trade_flows GROUP BY source"
        ).fetchall():
            held[source] = {"rows": rows, "periods": f"{lo:%Y-%m}..{hi:%Y-%m}"}
        if table_exists(warehouse.con, "trade_levels"):
            for source, rows in warehouse.con.execute(
                "SELECT source, count(*) FROM trade_levels GROUP BY source"
            ).fetchall():
                held.setdefault(source, {"rows": 0, "periods": ""})["level_rows"] = rows
        for source, batch, finished, n in warehouse.con.execute(
            "SELECT source, arg_max(batch_id, started), max(finished), count(*) "
            "FROM ingest_batches WHERE status = 'ok' GROUP BY source"
        ).fetchall():
            held.setdefault(source, {"rows": 0, "periods": ""})
            held[source].update(
                last_batch=batch, last_finished=f"{finished:%Y-%m-%d %H:%M}", batches=n
            )
    from transship.sources.registry import connectors

    registry = connectors()
    cache = Path(cache_dir) / "comtrade"
    files = list(cache.glob("*.json")) if cache.is_dir() else []
    out = []
    for name in [*registry, *sorted(set(held) - set(registry))]:
        c = registry.get(name)
        what, needs = (
            (f"{c.what} (transship {c.command})", c.needs)
            if c
            else ("a generic file (transship ingest csv --source)", "the file")
        )
        h = held.get(name, {})
        cached = ""
        if name == "comtrade":
            size = sum(f.stat().st_size for f in files)
            cached = f"{len(files)} responses, {size / 1e6:.1f} MB"
        out.append(
            {
                "source": name,
                "what": what,
                "needs": needs,
                "capabilities": ",".join(sorted(c.capabilities)) if c else "",
                "key set": ("yes" if key_set else "no") if name == "comtrade" else "",
                "cached": cached,
                "rows": h.get("rows", 0),
                "level rows": h.get("level_rows", 0),
                "periods": h.get("periods", ""),
                "batches": h.get("batches", 0),
                "last batch": h.get("last_batch", ""),
                "last finished (UTC)": h.get("last_finished", ""),
            }
        )
    return out
