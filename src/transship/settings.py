"""All settings in one place. Each is read from the environment with the TRANSSHIP_ prefix."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
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

    # -- UN Comtrade (sources/comtrade.py) --
    comtrade_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("TRANSSHIP_COMTRADE_KEY", "COMTRADE_PRIMARY"),
        description="UN Comtrade subscription key (TRANSSHIP_COMTRADE_KEY, or COMTRADE_PRIMARY); "
        "sent only in the Ocp-Apim-Subscription-Key header, never logged, printed or stored. "
        "Without it the public preview endpoint is used (500 records a call).",
    )
    comtrade_premium: bool = Field(
        False,
        description="The key is a premium subscription: 250,000 records a call instead of 100,000.",
    )
    comtrade_throttle_s: float = Field(
        6.0, ge=0, description="Seconds between two Comtrade calls (default one call per 6 s)."
    )
    comtrade_timeout_s: float = Field(
        120.0, gt=0, description="Seconds to wait for one Comtrade response before retrying."
    )
    cache_dir: Path = Field(
        Path(".transship-cache"),
        description="Raw API responses, one file per request (comtrade/ inside); a re-run "
        "costs no call for what is cached.",
    )


@cache
def get_settings() -> Settings:
    return Settings()
