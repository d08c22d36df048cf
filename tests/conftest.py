from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from transship.warehouse import Warehouse

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TRANSSHIP_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.skip(
            f"real public data not found at {SHARED} (../shared/data); set TRANSSHIP_SHARED_DATA"
        )
    return SHARED


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[Warehouse]:
    w = Warehouse(tmp_path / "t.duckdb")
    yield w
    w.close()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path
