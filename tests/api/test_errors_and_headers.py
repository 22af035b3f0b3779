"""One error envelope for every failure, and the security headers on every kind of response."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from openlfr.api.middleware import CSP
from tests.api.conftest import PASSWORD, Api, build_api, make_settings


def assert_envelope(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def assert_security_headers(response: Response) -> None:
    headers = response.headers
    assert headers["Content-Security-Policy"] == CSP
    assert "'unsafe-inline'" not in CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"


@pytest.fixture
def admin(api: Api) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.token('admin')}"}


def test_unknown_route_is_404_envelope(api: Api) -> None:
    response = api.client().get("/api/nothing-here")
    assert_envelope(response, 404, "not_found")
    assert_security_headers(response)


def test_wrong_method_is_405_envelope(api: Api) -> None:
    response = api.client().delete("/api/health")
    assert_envelope(response, 405, "method_not_allowed")
    assert_security_headers(response)


def test_validation_errors_are_422_envelopes_with_locations(api: Api) -> None:
    client, admin = api.session_client("root", "admin")
    response = client.post("/api/users", json={"username": "x", "role": "emperor"}, headers=admin)
    assert_envelope(response, 422, "validation_failed")
    locations = {tuple(d["loc"]) for d in response.json()["error"]["details"]}
    assert ("body", "password") in locations and ("body", "role") in locations
    malformed = client.post("/api/users", content=b"{not json", headers={**admin, "Content-Type": "application/json"})
    assert_envelope(malformed, 422, "validation_failed")
    assert_security_headers(malformed)


def test_domain_errors_keep_their_codes(api: Api) -> None:
    client, admin = api.session_client("root", "admin")
    api.user("alice", "auditor")
    duplicate = client.post(
        "/api/users", json={"username": "alice", "password": PASSWORD, "role": "auditor"}, headers=admin
    )
    assert_envelope(duplicate, 409, "conflict")
    weak = client.post("/api/users", json={"username": "bob", "password": "short", "role": "auditor"}, headers=admin)
    assert_envelope(weak, 422, "account_invalid")
    assert_envelope(client.patch("/api/users/nobody", json={"role": "admin"}, headers=admin), 404, "not_found")
    assert_envelope(client.get("/api/watchlists/none", headers=admin), 404, "not_found")


def test_nobody_demotes_or_disables_their_own_account(api: Api) -> None:
    root_id = api.user("root", "admin")
    client = api.client()
    csrf = api.login(client, "root")
    headers = {"X-CSRF-Token": csrf}
    # (It is also the last enabled admin: the account-level guard `last_admin` stays behind this rule.)
    assert_envelope(client.patch(f"/api/users/{root_id}", json={"role": "auditor"}, headers=headers), 403, "forbidden")
    assert_envelope(client.patch(f"/api/users/{root_id}", json={"disabled": True}, headers=headers), 403, "forbidden")
    second = client.post(
        "/api/users", json={"username": "root2", "password": PASSWORD, "role": "admin"}, headers=headers
    )
    assert second.status_code == 201
    other = api.client()
    other_headers = {"X-CSRF-Token": api.login(other, "root2")}
    demoted = other.patch(f"/api/users/{root_id}", json={"role": "auditor"}, headers=other_headers)
    assert demoted.json()["role"] == "auditor"
    # root2 is now the last enabled admin; root (an auditor) cannot touch it.
    assert_envelope(
        client.patch(f"/api/users/{second.json()['id']}", json={"disabled": True}, headers=headers),
        401,
        "not_authenticated",
    )


def test_oversized_body_is_413_envelope(api: Api, admin: dict[str, str]) -> None:
    limit = api.settings.api.max_upload_bytes + 64 * 1024
    client = api.client()
    declared = client.post(
        "/api/users", content=b"x" * (limit + 1), headers={**admin, "Content-Type": "application/json"}
    )
    assert_envelope(declared, 413, "payload_too_large")
    assert_security_headers(declared)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap must trip while streaming
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    streamed = client.post("/api/users", content=chunks(), headers={**admin, "Content-Type": "application/json"})
    assert_envelope(streamed, 413, "payload_too_large")


@pytest.fixture
def exploding_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    from openlfr.api.routes import health

    def boom(*_args: object) -> None:
        raise RuntimeError("boom: internal detail /srv/secret/path")

    monkeypatch.setattr(health, "HealthPublic", boom)
    yield from build_api(make_settings(tmp_path))


def test_unexpected_errors_are_500_envelopes_with_headers_and_no_detail(exploding_api: Api) -> None:
    client = TestClient(exploding_api.app, raise_server_exceptions=False)
    response = client.get("/api/health")
    assert_envelope(response, 500, "internal_error")
    assert_security_headers(response)
    assert "boom" not in response.text and "/srv" not in response.text


def test_headers_on_json_docs_openapi_and_metrics(api: Api, admin: dict[str, str]) -> None:
    client = api.client()
    health = client.get("/api/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    docs = client.get("/docs", headers=admin)
    assert docs.status_code == 200 and docs.headers["content-type"].startswith("text/html")
    assert "<script" not in docs.text.lower()  # the CSP allows no inline script: the page has none
    assert "/api/users" in docs.text
    openapi = client.get("/openapi.json", headers=admin)
    assert "/api/auth/login" in openapi.json()["paths"]
    metrics = client.get("/metrics", headers=admin)
    for response in (health, docs, openapi, metrics):
        assert_security_headers(response)
    assert "Strict-Transport-Security" not in health.headers  # only over HTTPS
