"""All settings in one place. Each is read from the environment with the TRANSSHIP_ prefix."""

from __future__ import annotations

import shutil
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
    ingest_memory_limit: str = Field(
        "256MB",
        description="DuckDB memory limit while an ingest streams its rows in, so that its "
        "memory stays flat in the input's size (DuckDB would otherwise keep the written "
        "table cached up to memory_limit). Summing national codes, checking keys and "
        "replacing stored rows then run under memory_limit.",
    )
    lock_wait_s: float = Field(
        10.0,
        ge=0,
        description="Seconds a command waits for the warehouse while another process (an "
        "ingest, `transship serve` mid-request) holds DuckDB's file lock, before it fails "
        "saying which process holds it.",
    )
    serve_idle_s: float = Field(
        0.2,
        ge=0,
        description="`transship serve` closes the warehouse this many seconds after its last "
        "request, so CLI commands can use the file beside the server (0: after each request).",
    )
    read_block_mb: int = Field(
        4,
        ge=1,
        le=1024,
        description="CSV bytes parsed per batch when ingesting files; bounds ingest memory "
        "(a few blocks are in flight at once: 4 MB keeps a 10M-row BACI ingest within 1.3x "
        "of a 1M-row one; larger blocks are no faster).",
    )
    chromium: Path | None = Field(
        default_factory=lambda: _which_chromium(),
        description="Chromium used for PDF reports and browser tests (TRANSSHIP_CHROMIUM; "
        "default: chromium on PATH, else Playwright's own browser).",
    )

    # -- screening (party matching thresholds; scores are 0-100, see screening/matcher.py) --
    block_threshold: float = Field(
        92.0,
        gt=0,
        le=100,
        description="A list hit scoring at least this BLOCKs the declaration. 92 lets "
        "transliteration and spelling variants of the same name through (Romashka/Romaschka "
        "scores 94) while two different words rarely reach it.",
    )
    flag_threshold: float = Field(
        80.0,
        gt=0,
        le=100,
        description="A list hit scoring at least this (and below block_threshold) FLAGs "
        "the declaration for a human to review; below it, no hit is reported.",
    )
    country_bonus: float = Field(
        4.0,
        ge=0,
        le=20,
        description="Added to a hit's score when the party's country is "
        "one of the listed entity's countries.",
    )
    country_penalty: float = Field(
        10.0, ge=0, le=50, description="Subtracted when both countries are known and differ."
    )
    # -- screening HTTP API (transship serve) --
    api_tokens: str = Field(
        "",
        description="Comma-separated bearer tokens accepted by the screening API "
        "(TRANSSHIP_API_TOKENS). With none set, every API call except /v1/health is refused. "
        "An entry `name:token` also names the reviewer the token acts for (alerts API), "
        "e.g. alice:tok1,bob:tok2; the token is what follows the first colon.",
    )
    api_max_request_bytes: int = Field(
        1_000_000, ge=1024, description="Largest request body the API accepts (413 above)."
    )
    api_max_batch: int = Field(
        1000, ge=1, description="Most declarations one POST /v1/screen may carry (413 above)."
    )
    screening_lists: str = Field(
        "",
        description="Comma-separated sanctions lists every screening (API, dashboard upload, "
        "CLI `screen`) uses when the caller names none, and the only lists an API or dashboard "
        "caller may name (default: every list loaded in the warehouse).",
    )
    screen_without_lists: bool = Field(
        False,
        description="Let the API and the dashboard screen declarations by the policy's rules "
        "alone when no sanctions list is loaded. Off by default: without lists no party is "
        "screened, so the server refuses (503) rather than silently allowing them.",
    )
    policy_files: str = Field(
        "",
        description="Comma-separated policy YAML files the server may apply besides the packaged "
        "ones; API and dashboard callers name them by their policy id, never by path.",
    )
    api_policy: str = Field("tr-customs-2024", description="Policy used when a request names none.")
    # -- screening API under load (web/api.py; figures in README "Screening under load") --
    api_workers: int = Field(
        4,
        ge=1,
        le=64,
        description="Screening requests worked on at once (threads). Screening is CPU-bound "
        "Python, so more than a few only adds switching; waiting for the audit commit does "
        "not hold a worker's CPU.",
    )
    api_max_pending: int = Field(
        128,
        ge=1,
        description="Screening requests admitted at once, working or waiting for a worker "
        "(TRANSSHIP_API_MAX_PENDING). One more gets 503 with Retry-After at once instead of "
        "joining an unbounded backlog.",
    )
    api_queue_timeout_s: float = Field(
        2.0,
        gt=0,
        description="A request that waited this long for a worker gets 503 with Retry-After "
        "instead of being worked on late (its caller has most likely given up).",
    )
    api_retry_after_s: int = Field(
        1, ge=1, description="Seconds the 503 Retry-After header asks a shed client to wait."
    )
    api_audit_linger_s: float = Field(
        0.010,
        ge=0,
        le=0.1,
        description="Longest the audit committer waits for more records while more are "
        "coming (requests being screened, or appends arriving closer than this), so one "
        "transaction carries several: a commit costs ~3 ms of CPU however few records it "
        "holds. At 200 requests/s, 4 ms gave ~2 records a commit, 10 ms ~4 (0.3 ms of CPU "
        "a request less); 0 commits at once.",
    )
    api_fast_max: int = Field(
        1000,
        ge=0,
        description="Requests of up to this many declarations are screened in Python "
        "(screening/single.py: same decisions, no SQL setup cost); larger ones by the "
        "vectorised DuckDB engine.",
    )
    api_matcher_cache: int = Field(
        3,
        ge=1,
        le=32,
        description="List indexes kept in memory (one per list set and list versions, least "
        "recently used dropped first); each costs ~20 MB for the OFAC SDN list.",
    )
    api_party_cache: int = Field(
        50_000,
        ge=0,
        description="Party results (name, country -> list hits) kept per list index, least "
        "recently used dropped first; repeated exporters and consignees are then not "
        "matched again, and the candidates retrieved for a name's core are kept for its "
        "legal-form and country variants (at most 10,000 cores). 0 turns both off.",
    )
    api_lists_refresh_s: float = Field(
        2.0,
        ge=0,
        description="Seconds the server trusts its view of the loaded lists (names, versions) "
        "before reading it again, so a reloaded list is used at most this long afterwards.",
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

    def policy_paths(self) -> tuple[Path, ...]:
        return tuple(Path(p.strip()) for p in self.policy_files.split(",") if p.strip())

    def list_names(self) -> list[str]:
        return list(dict.fromkeys(x.strip() for x in self.screening_lists.split(",") if x.strip()))

    suppression_days: int = Field(
        180,
        ge=1,
        le=3650,
        description="Days a cleared (party name, list entity) pair stays a good-guy "
        "suppression: the same hit on the same name is shown as suppressed, not re-alerted, "
        "until then or until the entity changes in a new list version.",
    )

    rescreen_prescore: float = Field(
        60.0,
        ge=0,
        le=100,
        description="`rescreen` hands a past party to the matcher only when a changed list "
        "name scores at least this on a quick rapidfuzz test (screening/rescreen.py). 60 "
        "found every hit of screening each party on the real OFAC 2021->2024 change; 70 is "
        "~1.5x faster on 100k generated parties but found 225 of the 247 hits 60 found.",
    )

    def _token_entries(self) -> list[tuple[str | None, str]]:
        # `name:token` names the reviewer a token acts for; a bare token has no reviewer.
        out: list[tuple[str | None, str]] = []
        for entry in self.api_tokens.split(","):
            entry = entry.strip()
            if not entry:
                continue
            name, sep, token = entry.partition(":")
            out.append((name.strip(), token.strip()) if sep else (None, entry))
        return [(n, t) for n, t in out if t]

    def tokens(self) -> frozenset[str]:
        return frozenset(t for _, t in self._token_entries())

    def reviewers(self) -> dict[str, str]:
        """token -> reviewer name, for the tokens given as `name:token` (alert review)."""
        return {t: n for n, t in self._token_entries() if n}


def _which_chromium() -> Path | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


@cache
def get_settings() -> Settings:
    return Settings()
