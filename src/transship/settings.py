"""All settings in one place. Each is read from the environment with the TRANSSHIP_ prefix."""

from __future__ import annotations

import os
import shutil
from functools import cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRANSSHIP_", env_file=None, extra="ignore")

    warehouse: Path = Field(
        Path("transship.duckdb"),
        description="DuckDB warehouse file (TRANSSHIP_WAREHOUSE; --warehouse overrides).",
    )
    memory_limit: str = Field(
        "2GB",
        description="DuckDB memory limit; larger intermediates spill to disk, so ingest "
        "memory stays flat in input size.",
    )
    threads: int | None = Field(
        None, ge=1, description="DuckDB worker threads (default: one per core)."
    )
    read_block_mb: int = Field(
        16,
        ge=1,
        le=1024,
        description="CSV bytes parsed per batch when ingesting files; bounds ingest memory.",
    )
    cache_dir: Path = Field(
        default_factory=lambda: (
            Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "transship"
        ),
        description="Cache for derived files such as the Vega JavaScript bundle "
        "(TRANSSHIP_CACHE_DIR; default $XDG_CACHE_HOME/transship or ~/.cache/transship).",
    )
    chromium: Path | None = Field(
        default_factory=lambda: _which_chromium(),
        description="Chromium used for PDF reports and browser tests (TRANSSHIP_CHROMIUM; "
        "default: chromium on PATH, else Playwright's own browser).",
    )


def _which_chromium() -> Path | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


@cache
def get_settings() -> Settings:
    return Settings()
