"""Issue 12 controls over HTTP: the server decides which policies and lists a caller may use,
every screening entry point needs the token once tokens are configured, tokens never travel
in (or get logged from) a query string, and hostile JSON gets a clear 4xx. Each of these
turned a BLOCK into an ALLOW (or a 500) before the fix; the matching and input-column
bypasses are in tests/test_screening_security.py."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import write
from transship.screening.lists import load_list

DECL = {
    "id": "D1",
    "date": "2024-11-05",
    "origin_country": "USA",
    "destination_country": "RUS",
    "hs_code": "8542310010",
}


# -- controls: the server decides which policies and lists exist ------------------------------
LIST_CSV = "id,name,country\ne1,Romashka LLC,RU\n"
PARTY = {**DECL, "consignee_name": "Romashka", "consignee_country": "RU"}
POLICY_YAML = """id: site-policy
title: Site policy
jurisdiction: test
description: every microprocessor is flagged
source_date: 2024-01-01
retrieved: 2024-01-01
sources: [{title: test}]
rules:
  - id: site-flag
    description: flag
    legal_source: test
    when: {products: "8542"}
    action: FLAG
"""


def _api(tmp_path: Path, *, lists: bool = True, **settings: object) -> object:
    from fastapi.testclient import TestClient

    from transship.settings import Settings
    from transship.web.app import create_app

    tmp_path.mkdir(exist_ok=True)
    wh = tmp_path / "w.duckdb"
    con = duckdb.connect(str(wh))
    if lists:
        load_list(con, "hand", [write(tmp_path / "l.csv", LIST_CSV)])
        load_list(con, "other", [write(tmp_path / "o.csv", "id,name\nx1,Nobody Inc\n")])
    con.close()
    settings.setdefault("api_tokens", "t")
    return TestClient(create_app(Settings(warehouse=wh, **settings)))  # type: ignore[arg-type]


AUTH = {"Authorization": "Bearer t"}


def test_api_policy_is_a_configured_name_never_a_path(tmp_path: Path) -> None:
    from transship.screening.policies import POLICY_DIR

    site = write(tmp_path / "site.yaml", POLICY_YAML)
    client = _api(tmp_path, policy_files=str(site))
    ok = client.post(
        "/v1/screen", json={"policy": "site-policy", "declaration": DECL}, headers=AUTH
    )  # type: ignore[attr-defined]
    assert ok.status_code == 200, ok.text
    assert ok.json()["decisions"][0]["rules"] == ["site-flag"]
    messages = []
    for name in (
        str(site),  # configured, but by path
        str(POLICY_DIR / "us-bis-chpl.yaml"),  # exists
        str(tmp_path / "missing.yaml"),  # does not
        "../../../../etc/passwd",
        "../policies/us-bis-chpl",
        "nope",
    ):
        r = client.post("/v1/screen", json={"policy": name, "declaration": DECL}, headers=AUTH)  # type: ignore[attr-defined]
        assert r.status_code == 422, (name, r.status_code, r.text)
        msg = r.json()["error"]
        assert "not found" not in msg and "exist" not in msg
        messages.append(msg.replace(repr(name), "NAME"))
    assert len(set(messages)) == 1, messages  # same answer whether a file exists or not
    ids = {p["id"] for p in client.get("/v1/policies", headers=AUTH).json()}  # type: ignore[attr-defined]
    assert ids == {"tr-customs-2024", "eu-annex-xl", "us-bis-chpl", "site-policy"}


def test_api_lists_default_empty_and_unknown(tmp_path: Path) -> None:
    client = _api(tmp_path, screening_lists="hand")
    r = client.post("/v1/screen", json={"declaration": PARTY}, headers=AUTH)  # type: ignore[attr-defined]
    assert r.status_code == 200 and r.json()["lists"] == ["hand"]
    assert r.json()["decisions"][0]["hits"][0]["entity_id"] == "e1"
    for lists in ([], ["nope"], ["hand", "nope"], ["other"]):  # other: loaded, not configured
        r = client.post("/v1/screen", json={"lists": lists, "declaration": PARTY}, headers=AUTH)  # type: ignore[attr-defined]
        assert r.status_code == 422, (lists, r.text)
        assert "list" in r.json()["error"]


def test_api_without_any_list_is_an_error_unless_configured(tmp_path: Path) -> None:
    client = _api(tmp_path, lists=False)
    r = client.post("/v1/screen", json={"declaration": PARTY}, headers=AUTH)  # type: ignore[attr-defined]
    assert r.status_code == 503 and "no sanctions lists" in r.json()["error"]
    client = _api(tmp_path / "x", lists=False, screen_without_lists=True)
    r = client.post("/v1/screen", json={"declaration": PARTY}, headers=AUTH)  # type: ignore[attr-defined]
    assert r.status_code == 200 and r.json()["lists"] == []


def test_cli_screen_uses_the_configured_lists_and_refuses_empty_or_unknown(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from transship.cli import app

    runner = CliRunner()
    wh = tmp_path / "w.duckdb"
    decls = write(
        tmp_path / "d.csv",
        ",".join(PARTY) + "\n" + ",".join(str(v) for v in PARTY.values()) + "\n",
    )
    out = tmp_path / "o.csv"
    r = runner.invoke(app, ["-w", str(wh), "screen", str(decls), "--out", str(out)])
    assert r.exit_code != 0 and "no sanctions lists" in r.output  # nothing loaded
    r = runner.invoke(app, ["-w", str(wh), "screen", str(decls), "--no-lists", "--out", str(out)])
    assert r.exit_code == 0, r.output
    load = ["-w", str(wh), "lists", "load"]
    assert (
        runner.invoke(app, [*load, "hand", str(write(tmp_path / "l.csv", LIST_CSV))]).exit_code == 0
    )
    r = runner.invoke(app, ["-w", str(wh), "screen", str(decls), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "e1" in out.read_text(encoding="utf-8")  # the loaded list was used by default
    for bad in (["--lists", "nope"], ["--lists", ","], ["--lists", "hand", "--no-lists"]):
        r = runner.invoke(app, ["-w", str(wh), "screen", str(decls), *bad, "--out", str(out)])
        assert r.exit_code == 2, (bad, r.output)


def test_dashboard_upload_policy_is_a_name_and_lists_default(tmp_path: Path) -> None:
    client = _api(tmp_path, screening_lists="hand", api_tokens="")
    csv = ",".join(PARTY) + "\n" + ",".join(str(v) for v in PARTY.values()) + "\n"
    files = {"file": ("d.csv", csv.encode(), "text/csv")}
    r = client.post(  # type: ignore[attr-defined]
        "/screening",
        data={"policy": "../policies/us-bis-chpl"},
        files=files,
        follow_redirects=False,
    )
    assert r.status_code == 422
    r = client.post(  # type: ignore[attr-defined]
        "/screening", data={"policy": "us-bis-chpl"}, files=files, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"]).text  # type: ignore[attr-defined]
    assert "lists hand" in page and "e1" in page
    before = _audit_count(client)
    for lists in (["nope"], ["other"], ["hand", "nope"]):  # other: loaded, not configured
        r = client.post(  # type: ignore[attr-defined]
            "/screening",
            data={"policy": "us-bis-chpl", "lists": lists},
            files=files,
            follow_redirects=False,
        )
        assert r.status_code == 422 and "list" in r.text, (lists, r.status_code, r.text)
    assert _audit_count(client) == before  # refused: nothing screened, nothing audited


# -- web auth: every screening entry point, no tokens in URLs or logs -------------------------
def _audit_count(client: object) -> int:
    svc = client.app.state.screening  # type: ignore[attr-defined]
    health = svc.health()
    return int(health["audit_head"]["seq"]) if health["audit_head"] else 0


def test_dashboard_upload_requires_the_token_when_configured(tmp_path: Path) -> None:
    client = _api(tmp_path, api_tokens="t,u")
    csv = ",".join(PARTY) + "\n" + ",".join(str(v) for v in PARTY.values()) + "\n"

    def upload(data: dict[str, str], headers: dict[str, str] | None = None) -> object:
        files = {"file": ("d.csv", csv.encode(), "text/csv")}
        return client.post(  # type: ignore[attr-defined]
            "/screening",
            data={"policy": "tr-customs-2024", **data},
            files=files,
            headers=headers or {},
            follow_redirects=False,
        )

    assert upload({}).status_code == 401  # type: ignore[attr-defined]
    assert upload({"token": "wrong"}).status_code == 403  # type: ignore[attr-defined]
    assert upload({}, {"Authorization": "Bearer wrong"}).status_code == 403  # type: ignore[attr-defined]
    assert _audit_count(client) == 0  # nothing screened, nothing audited
    assert upload({"token": "u"}).status_code == 303  # type: ignore[attr-defined]
    assert upload({}, {"Authorization": "Bearer t"}).status_code == 303  # type: ignore[attr-defined]
    assert _audit_count(client) == 2
    page = client.get("/screening").text  # type: ignore[attr-defined]
    assert 'type="password" name="token"' in page


def test_dashboard_upload_without_configured_tokens_stays_open(tmp_path: Path) -> None:
    client = _api(tmp_path, api_tokens="")
    assert 'name="token"' not in client.get("/screening").text  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "query",
    [
        "token=t",
        "access_token=t",
        "api_key=t",
        "apikey=zzz",
        "Authorization=Bearer%20t",
        "x=1&auth_token=abc",
        "q=t",  # a configured token as any value
    ],
)
def test_tokens_in_the_query_string_are_refused(tmp_path: Path, query: str) -> None:
    client = _api(tmp_path)
    for path in ("/v1/screen", "/v1/health", "/screening", "/"):
        if path == "/v1/screen":
            r = client.post(f"{path}?{query}", json={"declaration": DECL}, headers=AUTH)  # type: ignore[attr-defined]
        else:
            r = client.get(f"{path}?{query}")  # type: ignore[attr-defined]
        assert r.status_code == 400, (path, query, r.status_code)
        assert "Authorization" in r.json()["error"]
        assert "=t" not in r.text and "zzz" not in r.text and "abc" not in r.text
    assert _audit_count(client) == 0
    assert client.get("/v1/health?verbose=1").status_code == 200  # type: ignore[attr-defined]


def test_access_log_redacts_token_like_query_strings() -> None:
    import logging

    from uvicorn.logging import AccessFormatter

    from transship.web.auth import RedactQueryTokens

    fmt = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False)
    filt = RedactQueryTokens(frozenset({"s3cret"}))

    def line(path: str) -> str:
        rec = logging.LogRecord(
            "uvicorn.access",
            logging.INFO,
            __file__,
            1,
            '%s - "%s %s HTTP/%s" %d',
            ("127.0.0.1:5", "GET", path, "1.1", 400),
            None,
        )
        assert filt.filter(rec)
        return fmt.format(rec)

    for path in ("/v1/screen?token=abc123", "/?a=1&access_token=abc123", "/x?q=s3cret"):
        out = line(path)
        assert "abc123" not in out and "s3cret" not in out and "redacted" in out, out
    assert "hub=TUR" in line("/hub?hub=TUR")


def test_the_app_installs_the_log_filter(tmp_path: Path) -> None:
    import logging

    from transship.web.auth import RedactQueryTokens

    _api(tmp_path)
    assert any(
        isinstance(f, RedactQueryTokens) for f in logging.getLogger("uvicorn.access").filters
    )


# -- JSON hardening: a clear 4xx, never ALLOW, 500 or a generic 400 ---------------------------
def _raw(client: object, body: bytes | object, **kw: object) -> object:
    headers = {**AUTH, "Content-Type": "application/json", **kw.pop("headers", {})}  # type: ignore[dict-item]
    return client.post("/v1/screen", content=body, headers=headers, **kw)  # type: ignore[attr-defined]


# A CHPL good to Russia with a declared value: BLOCK when the value can be read.
VALUED = (
    '{"declaration": {"id": "J1", "date": "2024-11-05", "origin_country": "USA", '
    '"destination_country": "RUS", "hs_code": "8542310010", "value": %s}}'
)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"])
def test_non_finite_json_numbers_are_422(tmp_path: Path, value: str) -> None:
    client = _api(tmp_path)
    r = _raw(client, (VALUED % value).encode())
    assert r.status_code == 422, r.text  # type: ignore[attr-defined]
    assert "finite" in r.json()["error"] or "NaN" in r.json()["error"]  # type: ignore[attr-defined]
    assert _audit_count(client) == 0


@pytest.mark.parametrize("value", ['"NaN"', '"inf"', '"-Infinity"'])
def test_non_finite_value_strings_are_a_row_error_not_allow(tmp_path: Path, value: str) -> None:
    client = _api(tmp_path)
    r = _raw(client, (VALUED % value).encode())
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    (d,) = r.json()["decisions"]  # type: ignore[attr-defined]
    assert d["decision"] == "ERROR" and "value" in d["error"]


def test_lone_surrogates_and_bad_utf8_are_422(tmp_path: Path) -> None:
    client = _api(tmp_path)
    body = VALUED.replace('"J1"', '"\\ud800"') % "1"
    r = _raw(client, body.encode())
    assert r.status_code == 422 and "surrogate" in r.json()["error"]  # type: ignore[attr-defined]
    body = VALUED.replace('"USA"', '"\\udfff"') % "1"
    assert _raw(client, body.encode()).status_code == 422  # type: ignore[attr-defined]
    ok = VALUED.replace('"J1"', '"\\ud83d\\ude00"') % "1"  # a proper pair is fine
    assert _raw(client, ok.encode()).status_code == 200  # type: ignore[attr-defined]
    r = _raw(client, (VALUED % "1").encode().replace(b"J1", b"J\xff"))
    assert r.status_code == 422 and "UTF-8" in r.json()["error"]  # type: ignore[attr-defined]


def test_deep_nesting_is_422(tmp_path: Path) -> None:
    client = _api(tmp_path)
    for depth in (40, 100_000):
        nested = "[" * depth + "]" * depth
        body = VALUED.replace('"date"', f'"x": {nested}, "date"') % "1"
        r = _raw(client, body.encode())
        assert r.status_code in (413, 422), (depth, r.status_code)  # type: ignore[attr-defined]
        if r.status_code == 422:  # type: ignore[attr-defined]
            assert "nest" in r.json()["error"]  # type: ignore[attr-defined]
    shallow = VALUED.replace('"date"', '"x": [[["a"]]], "date"') % "1"
    assert _raw(client, shallow.encode()).status_code == 200  # type: ignore[attr-defined]
    strings = VALUED.replace('"date"', '"x": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "date"')
    assert _raw(client, (strings % "1").encode()).status_code == 200  # type: ignore[attr-defined]


def test_malformed_json_is_a_clear_422(tmp_path: Path) -> None:
    client = _api(tmp_path)
    r = _raw(client, b'{"declaration": ')
    assert r.status_code == 422 and "JSON" in r.json()["error"]  # type: ignore[attr-defined]
    assert "line 1" in r.json()["error"]  # type: ignore[attr-defined]


def test_chunked_body_over_the_limit_is_413(tmp_path: Path) -> None:
    client = _api(tmp_path, api_max_request_bytes=4096)

    def chunks() -> object:
        yield b'{"declaration": {"id": "C1", "description": "'
        for _ in range(20):
            yield b"x" * 1000
        yield b'"}}'

    r = _raw(client, chunks())
    assert r.status_code == 413, (r.status_code, r.text)  # type: ignore[attr-defined]
    assert "4096" in r.json()["error"]  # type: ignore[attr-defined]
    assert _audit_count(client) == 0

    def small() -> object:
        yield (VALUED % "1")[:30].encode()
        yield (VALUED % "1")[30:].encode()

    assert _raw(client, small()).status_code == 200  # type: ignore[attr-defined]
