"""Settings reads the environment as pydantic-settings' BaseSettings did (settings.py)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError, create_model

from transship.settings import Settings

ENVS: list[dict[str, str]] = [
    {},
    {"TRANSSHIP_THREADS": "3", "TRANSSHIP_LOCK_WAIT_S": "2.5", "transship_read_block_mb": "8"},
    {"COMTRADE_PRIMARY": "abc", "TRANSSHIP_SCREEN_WITHOUT_LISTS": "yes"},
    {"TRANSSHIP_COMTRADE_KEY": "x", "COMTRADE_PRIMARY": "y", "TRANSSHIP_CHROMIUM": "/x"},
    {"TRANSSHIP_WAREHOUSE": "/tmp/x.duckdb", "TRANSSHIP_FOO": "1", "WAREHOUSE": "/no"},
    {"TRANSSHIP_API_TOKENS": "alice:t1,t2", "TRANSSHIP_BLOCK_THRESHOLD": "95"},
    {"TRANSSHIP_THREADS": ""},
    {"TRANSSHIP_THREADS": "0"},
    {"TRANSSHIP_READ_BLOCK_MB": "2000", "TRANSSHIP_SCREEN_WITHOUT_LISTS": "maybe"},
]


def _reference() -> Any:
    """The same fields on pydantic-settings' BaseSettings, configured as settings.py was."""
    pydantic_settings = pytest.importorskip("pydantic_settings")
    fields = {n: (f.annotation, f) for n, f in Settings.model_fields.items()}
    return create_model(  # type: ignore[call-overload]
        "Reference",
        __base__=pydantic_settings.BaseSettings,
        __config__=None,
        **fields,
    )


def _read(cls: Any, **kwargs: Any) -> Any:
    try:
        s = cls(**kwargs)
    except ValidationError as e:
        return [(err["loc"], err["type"]) for err in e.errors()]
    d = s.model_dump()
    if d["comtrade_key"] is not None:
        d["comtrade_key"] = d["comtrade_key"].get_secret_value()
    return d


@pytest.mark.parametrize("env", ENVS)
def test_same_values_and_errors_as_base_settings(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = _reference()
    ref.model_config.update(env_prefix="TRANSSHIP_", env_file=None, extra="ignore")
    for k in [k for k in __import__("os").environ if k.upper().startswith("TRANSSHIP_")]:
        monkeypatch.delenv(k)
    monkeypatch.delenv("COMTRADE_PRIMARY", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert _read(Settings) == _read(ref)
    if env.get("TRANSSHIP_THREADS") == "3":  # the reference does read the environment
        assert _read(ref)["threads"] == 3 and _read(ref)["read_block_mb"] == 8
    if "COMTRADE_PRIMARY" in env:
        assert _read(Settings)["comtrade_key"] == env.get("TRANSSHIP_COMTRADE_KEY", "abc")
    # keyword arguments win over the environment
    assert _read(Settings, warehouse="kw.duckdb", threads=2) == _read(
        ref, warehouse="kw.duckdb", threads=2
    )
