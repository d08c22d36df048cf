"""Screening HTTP API: auth (401/403), screening, batch and size limits, policies, OpenAPI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import write
from transship.screening import load_lists, verify_audit
from transship.settings import Settings
from transship.web.app import create_app

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DECL = {
    "id": "T1",
    "date": "2024-11-05",
    "exporter": {"name": "Acme Elektronik Ltd. Şti.", "country": "TR"},
    "consignee_name": "ООО Ромашка",
    "consignee_country": "RUS",
    "origin_country": "USA",
    "destination_country": "RUS",
    "hs_code": "8542310010",
    "value": 12000,
    "currency": "USD",
    "broker_ref": "kept",
}


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    wh = tmp_path / "w.duckdb"
    load_lists(wh, "hand", [write(tmp_path / "l.csv", "id,name,country\ne1,Romashka LLC,RU\n")])
    settings = Settings(
        warehouse=wh, api_tokens=f"other,{TOKEN}", api_max_batch=3, api_max_request_bytes=4096
    )
    return TestClient(create_app(settings))


def test_auth_missing_is_401_and_wrong_is_403(client: TestClient) -> None:
    r = client.post("/v1/screen", json={"declaration": DECL})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = client.post("/v1/screen", json={"declaration": DECL}, headers={"Authorization": "Bearer x"})
    assert r.status_code == 403
    assert client.get("/v1/policies").status_code == 401
    assert client.get("/v1/health").status_code == 200


def test_screen_one_declaration_with_reasons_and_hits(client: TestClient, tmp_path: Path) -> None:
    r = client.post("/v1/screen", json={"declaration": DECL}, headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["policy"] == "tr-customs-2024" and body["lists"] == ["hand"]
    (d,) = body["decisions"]
    assert d["id"] == "T1" and d["decision"] == "BLOCK"
    assert d["rules"] == ["tr-us-chpl-russia"]
    (hit,) = d["hits"]
    assert hit["entity_id"] == "e1" and hit["role"] == "consignee" and hit["level"] == "BLOCK"
    assert hit["alias"] == "Romashka LLC" and hit["score"] == 100.0
    assert any("tr-us-chpl-russia" in x for x in d["reasons"])
    assert body["audit_seq"] == [1, 1]
    # The route builds the response itself (no model round-trip): exactly the documented
    # model's fields, in its order, and valid against it.
    from transship.web.schemas import DecisionOut, HitOut, ScreenResponse

    assert list(body) == list(ScreenResponse.model_fields)
    assert list(d) == list(DecisionOut.model_fields) and list(hit) == list(HitOut.model_fields)
    assert ScreenResponse.model_validate(body).model_dump(mode="json") == body
    health = client.get("/v1/health").json()
    assert health["audit_head"]["seq"] == 1 and health["lists"][0]["list"] == "hand"


def test_batch_policy_choice_and_malformed_rows(client: TestClient) -> None:
    ok = {**DECL, "id": "ok", "consignee_name": "Nobody"}
    bad = {**DECL, "id": "bad", "hs_code": "85"}
    kaz = {**ok, "id": "kaz", "destination_country": "KZ"}
    r = client.post(
        "/v1/screen",
        json={"policy": "us-bis-chpl", "declarations": [ok, bad, kaz]},
        headers=AUTH,
    )
    assert r.status_code == 200, r.text
    got = {d["id"]: d for d in r.json()["decisions"]}
    assert got["ok"]["decision"] == "BLOCK"
    assert got["bad"]["decision"] == "ERROR" and "hs_code" in got["bad"]["error"]
    assert got["kaz"]["decision"] == "FLAG" and got["kaz"]["rules"] == ["us-chpl-transshipment"]


def test_limits_and_validation(client: TestClient) -> None:
    r = client.post("/v1/screen", json={"declarations": [DECL] * 4}, headers=AUTH)
    assert r.status_code == 413
    big = {**DECL, "description": "x" * 5000}
    r = client.post("/v1/screen", json={"declaration": big}, headers=AUTH)
    assert r.status_code == 413
    r = client.post("/v1/screen", json={"declarations": []}, headers=AUTH)
    assert r.status_code == 200 and r.json()["decisions"] == []
    r = client.post("/v1/screen", json={"declaration": {"id": "x"}}, headers=AUTH)
    assert r.status_code == 422
    r = client.post("/v1/screen", json={"policy": "nope", "declaration": DECL}, headers=AUTH)
    assert r.status_code == 422 and "policy" in r.json()["error"]


def test_policies_and_openapi(client: TestClient) -> None:
    r = client.get("/v1/policies", headers=AUTH)
    assert r.status_code == 200
    ids = {p["id"] for p in r.json()}
    assert ids == {"tr-customs-2024", "eu-annex-xl", "us-bis-chpl"}
    spec = client.get("/openapi.json").json()
    assert {"/v1/screen", "/v1/policies", "/v1/health"} <= set(spec["paths"])


def test_api_decisions_are_in_the_audit_chain(client: TestClient, tmp_path: Path) -> None:
    for i in range(3):
        r = client.post("/v1/screen", json={"declaration": {**DECL, "id": f"a{i}"}}, headers=AUTH)
        assert r.status_code == 200
    client.app.state.lease.close()  # type: ignore[attr-defined]
    v = verify_audit(tmp_path / "w.duckdb")
    assert v.ok and v.records == 3


def test_reasons_are_one_item_each_even_with_semicolons(client: TestClient) -> None:
    body = {"policy": "eu-annex-xl", "declaration": DECL}
    (d,) = client.post("/v1/screen", json=body, headers=AUTH).json()["decisions"]
    assert d["decision"] == "BLOCK" and d["rules"] == ["eu-annex-xl-russia-belarus"]
    # the rule's legal source contains '; ' - it stays one reason, then one per list hit
    assert len(d["reasons"]) == 2
    assert "765/2006" in d["reasons"][0] and d["reasons"][1].startswith("list hit: consignee")


@pytest.mark.slow  # 13 requests through two servers, ~1.3 s
def test_fast_screen_path_answers_as_the_route_does(tmp_path: Path, monkeypatch: Any) -> None:
    """web/fastscreen.py answers ordinary POST /v1/screen requests itself and leaves the rest
    to the route: every request below gets the same status and body both ways."""
    from transship.web.fastscreen import FastScreen

    taken: list[bool] = []
    original = FastScreen._request

    def spy(self: FastScreen, scope: Any, body: bytes) -> Any:
        got = original(self, scope, body)
        taken.append(got is not None)
        return got

    monkeypatch.setattr(FastScreen, "_request", spy)
    nested = {**DECL, "id": "n", "exporter": {"name": "Romashka LLC", "country": "RU"}}
    cases: list[tuple[dict[str, Any], Any, dict[str, str]]] = [
        ({}, {"declaration": DECL}, AUTH),
        ({}, {"declarations": [DECL, {**DECL, "id": "b", "hs_code": "85"}, nested]}, AUTH),
        ({}, {"policy": "us-bis-chpl", "lists": ["hand"], "declaration": DECL}, AUTH),
        ({}, {"declaration": DECL}, {}),  # 401
        ({}, {"declaration": DECL}, {"Authorization": "Bearer nope"}),  # 403
        ({}, {"declaration": DECL}, {"Authorization": f"Basic {TOKEN}"}),  # 401
        ({}, {"declaration": {"id": "x"}}, AUTH),  # 422, FastAPI's validation
        ({}, {"declaration": DECL, "declarations": [DECL]}, AUTH),  # 422
        ({}, {"policy": "../etc/x", "declaration": DECL}, AUTH),  # 422, unknown policy
        ({}, {"lists": [], "declaration": DECL}, AUTH),  # 422, empty list set
        ({}, {"declarations": [DECL] * 4}, AUTH),  # 413, over api_max_batch
        ({"content": b"[1, 2]"}, None, AUTH),  # 422, not an object
        ({"content": b"declaration=x"}, None, {**AUTH, "Content-Type": "text/plain"}),
    ]
    answers = []
    for enabled in (True, False):
        wh = tmp_path / f"w{enabled}.duckdb"
        lst = write(tmp_path / "l.csv", "id,name,country\ne1,Romashka LLC,RU\n")
        load_lists(wh, "hand", [lst])
        settings = Settings(warehouse=wh, api_tokens=TOKEN, api_max_batch=3)
        app = create_app(settings)
        for m in app.user_middleware:
            if m.cls is FastScreen:
                m.kwargs["enabled"] = enabled
        with TestClient(app) as c:
            got = []
            for extra, body, headers in cases:
                r = c.post("/v1/screen", json=body, headers=headers, **extra)
                got.append((r.status_code, r.json(), r.headers.get("www-authenticate")))
            answers.append(got)
    assert answers[0] == answers[1]
    assert [a[0] for a in answers[0][:10]] == [200, 200, 200, 401, 403, 401, 422, 422, 422, 422]
    assert [a[0] for a in answers[0][10:]] == [413, 422, 422]
    # Valid requests take the fast path (their errors from screening too); the rest do not.
    fast = [True, True, True, False, False, False, False, False, True, True, True, False, False]
    assert taken == fast


def test_repeated_headers_are_read_as_the_route_reads_them(client: TestClient) -> None:
    """A repeated header counts by its first copy everywhere (Starlette's headers.get, which
    FastAPI's body parsing and HTTPBearer use): the body guard read the last Content-Type, so
    `application/json` then `text/plain` let NaN (row ERROR) and a lone surrogate (500) reach
    screening; the fast path read the last Authorization, accepting what the route refuses."""
    body = b'{"declaration": {"id": "R1", "date": "2024-11-05", "origin_country": "USA", '
    body += b'"destination_country": "RUS", "hs_code": "8542310010", "value": %s}}'
    auth = ("authorization", f"Bearer {TOKEN}")
    two_types = [auth, ("content-type", "application/json"), ("content-type", "text/plain")]
    for value in (b"NaN", b"1e400", b'"\\ud800"'):
        r = client.post("/v1/screen", content=body % value, headers=two_types)
        assert r.status_code == 422, (value, r.status_code, r.text)
        assert "error" in r.json()
    two_tokens = [("authorization", "Bearer nope"), auth, ("content-type", "application/json")]
    r = client.post("/v1/screen", content=body % b"1", headers=two_tokens)
    assert r.status_code == 403, r.text
    r = client.post("/v1/screen", content=body % b"1", headers=[*two_tokens[1:], two_tokens[0]])
    assert r.status_code == 200, r.text
    assert r.json()["audit_seq"] == [1, 1]  # only the accepted request was recorded
