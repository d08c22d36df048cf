"""The OpenAPI docs page works offline: every asset it loads is served by transship."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from transship.settings import Settings
from transship.web.app import create_app


def test_docs_page_loads_only_local_assets(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(warehouse=tmp_path / "w.duckdb")))
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    urls += re.findall(r"""url:\\s*['"]([^'"]+)['"]""", page.text)
    assert urls and all(u.startswith("/") for u in urls), urls  # no CDN, no other host
    for u in urls:
        assert client.get(u).status_code == 200, u
    js = client.get("/docs-assets/swagger-ui-bundle.js")
    assert len(js.content) > 100_000  # the real bundle, not a stub
    assert client.get("/redoc").status_code == 404  # ReDoc would need a CDN: not offered
