"""All settings in one place. Each is read from the environment with the TRANSSHIP_ prefix."""

from __future__ import annotations

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


@cache
def get_settings() -> Settings:
    return Settings()
