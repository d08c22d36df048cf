"""The connector registry: every source, what it needs, what it declares, how to open it.

Every connector yields the same batch-source shape (`schema.BatchSource`: canonical Arrow
batches plus provenance counters) and declares which optional capabilities it uses:

- `unique_keys`: proves its keys unique while reading (`keys_unique`), so the warehouse skips
  its duplicate-key check;
- `labels`: carries ground-truth `labels` (synthetic scenarios -> scenario_labels);
- `sums_to_hs6`: rows carry 6-12-digit national codes summed to HS6 by the warehouse
  (`hs_national` detail table on request);
- `levels`: may carry aggregate rows (TOTAL, chapters, headings) stored in trade_levels;
- `network`: reads from an API (cached), not a file.

`transship sources` lists this registry; `transship ingest NAME FILE` exists for every file
connector: the built-in ones have their own commands (their options differ), and a connector
registered with `params` and `open_file` gets a generated command, so adding a national
source is one module (see `sources/turkstat.py`) and one test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CAPABILITIES = ("unique_keys", "labels", "sums_to_hs6", "levels", "network")


@dataclass(frozen=True)
class Param:
    """One option of a generated `ingest NAME` command (also the factory's keyword)."""

    name: str
    type: type
    default: Any
    help: str


@dataclass(frozen=True)
class Connector:
    name: str
    what: str
    needs: str
    command: str  # the CLI command that feeds it
    capabilities: frozenset[str] = frozenset()
    # file connectors: path, **params -> a BatchSource; None for built-in commands
    open_file: Callable[..., Any] | None = None
    params: tuple[Param, ...] = ()
    file_help: str = "Input file."

    def __post_init__(self) -> None:
        unknown = set(self.capabilities) - set(CAPABILITIES)
        if unknown:
            raise ValueError(f"connector {self.name}: unknown capabilities {sorted(unknown)}")

    def open(self, path: str | Path, **params: Any) -> Any:
        if self.open_file is None:
            raise ValueError(f"connector {self.name} is fed by `transship {self.command}`")
        return self.open_file(path, **params)


_REGISTRY: dict[str, Connector] = {}


def register(connector: Connector) -> Connector:
    if connector.name in _REGISTRY and _REGISTRY[connector.name] != connector:
        raise ValueError(f"connector {connector.name!r} is already registered")
    _REGISTRY[connector.name] = connector
    return connector


def connectors() -> Mapping[str, Connector]:
    """Every registered connector, built-ins first (importing the plug-in modules)."""
    from transship.sources import turkstat  # noqa: F401  (registers itself)

    return dict(_REGISTRY)


register(Connector("comtrade", "UN Comtrade v1 API", "network; a key (TRANSSHIP_COMTRADE_KEY) "
                   "or the 500-record preview", "fetch comtrade",
                   frozenset({"network", "levels"})))  # fmt: skip
register(Connector("comext", "Eurostat Comext files: bulk, relational-view CSV, xlsx",
                   "Comext files (web export or bulk); no key", "ingest comext",
                   frozenset({"unique_keys", "levels"})))  # fmt: skip
register(Connector("baci", "CEPII BACI", "the BACI zip from CEPII; no key", "ingest baci",
                   frozenset({"unique_keys"})))  # fmt: skip
register(Connector("csv", "generic file: CSV, TSV, Parquet, xlsx (any --source label)",
                   "the file", "ingest csv", frozenset({"sums_to_hs6"})))  # fmt: skip
register(Connector("synthetic", "generated sample (SYNTHETIC, not real)", "nothing",
                   "ingest synthetic", frozenset({"labels"})))  # fmt: skip


__all__ = ["CAPABILITIES", "Connector", "Param", "connectors", "register"]
