"""Settings from the environment: TRANSSHIP_<NAME> in any case, alias choices, given values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from transship.settings import Settings


def test_environment_names_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRANSSHIP_WAREHOUSE", "/data/w.duckdb")
    monkeypatch.setenv("transship_threads", "3")
    monkeypatch.setenv("Transship_Lock_Wait_S", "1.5")
    monkeypatch.setenv("TRANSSHIP_COMTRADE_PREMIUM", "yes")
    monkeypatch.setenv("TRANSSHIP_NOT_A_SETTING", "x")  # ignored
    s = Settings()
    assert (s.warehouse, s.threads, s.lock_wait_s) == (Path("/data/w.duckdb"), 3, 1.5)
    assert s.comtrade_premium is True
    assert (s.read_block_mb, s.ingest_memory_limit) == (4, "256MB")  # the defaults


def test_alias_choices_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMTRADE_PRIMARY", "second")
    s = Settings()
    assert s.comtrade_key is not None and s.comtrade_key.get_secret_value() == "second"
    monkeypatch.setenv("TRANSSHIP_COMTRADE_KEY", "first")
    s = Settings()
    assert s.comtrade_key is not None and s.comtrade_key.get_secret_value() == "first"


def test_given_values_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRANSSHIP_API_TOKENS", "env")
    assert Settings(api_tokens="given").api_tokens == "given"
    assert Settings().api_tokens == "env"


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("TRANSSHIP_THREADS", "0", "greater_than_equal"),
        ("TRANSSHIP_THREADS", "", "int_parsing"),
        ("TRANSSHIP_READ_BLOCK_MB", "2000", "less_than_equal"),
        ("TRANSSHIP_COMTRADE_PREMIUM", "maybe", "bool_parsing"),
    ],
)
def test_a_bad_value_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, error: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as e:
        Settings()
    (only,) = e.value.errors()
    assert only["loc"] == (name.removeprefix("TRANSSHIP_").lower(),)
    assert only["type"] == error
