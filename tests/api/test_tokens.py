"""API token lifecycle: created by an admin, shown once, stored hashed, scoped to a role, revocable."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from tests.api.conftest import Api


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_token_lifecycle(api: Api) -> None:
    admin = api.token("admin")
    client = api.client()
    created = client.post("/api/tokens", json={"name": "prometheus", "role": "auditor"}, headers=_bearer(admin))
    assert created.status_code == 201
    body = created.json()
    secret, token_id = body["token"], body["id"]
    assert secret.startswith("lfr_") and len(secret) > 40
    assert (body["role"], body["active"], body["revoked_at"]) == ("auditor", True, None)

    listed = client.get("/api/tokens", headers=_bearer(admin)).json()
    assert all("token" not in row for row in listed)  # shown once: never again
    assert secret not in str(listed)

    assert client.get("/metrics", headers=_bearer(secret)).status_code == 200  # auditor scope admits /metrics
    assert client.get("/api/users", headers=_bearer(secret)).status_code == 403  # …and not admin routes

    assert client.delete(f"/api/tokens/{token_id}", headers=_bearer(admin)).status_code == 204
    refused = client.get("/metrics", headers=_bearer(secret))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "not_authenticated"
    row = next(r for r in client.get("/api/tokens", headers=_bearer(admin)).json() if r["id"] == token_id)
    assert row["active"] is False and row["revoked_at"] is not None
    assert client.delete(f"/api/tokens/{token_id}", headers=_bearer(admin)).status_code == 204  # idempotent
    assert client.delete("/api/tokens/unknown", headers=_bearer(admin)).status_code == 404


def test_token_is_hashed_at_rest(api: Api) -> None:
    admin = api.token("admin")
    secret = (
        api.client().post("/api/tokens", json={"name": "n", "role": "operator"}, headers=_bearer(admin)).json()["token"]
    )
    body = secret.removeprefix("lfr_")
    with api.db.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM api_token")).all()
    dump = repr([tuple(row) for row in rows])
    assert body not in dump and body[:16] not in dump
    raw = api.db.engine.url.database
    assert raw is not None
    assert body.encode() not in Path(raw).read_bytes()  # the SQLite file itself


def test_expired_token_is_refused(api: Api) -> None:
    token = api.token("auditor", expires_in=timedelta(days=1))
    client = api.client()
    assert client.get("/metrics", headers=_bearer(token)).status_code == 200
    api.clock.advance(days=1, seconds=1)
    assert client.get("/metrics", headers=_bearer(token)).status_code == 401


def test_token_creation_validates_role_and_name(api: Api) -> None:
    admin = api.token("admin")
    client = api.client()
    for payload in (
        {"name": "x", "role": "root"},
        {"name": "", "role": "admin"},
        {"name": "x", "role": "admin", "extra": 1},
    ):
        response = client.post("/api/tokens", json=payload, headers=_bearer(admin))
        assert response.status_code == 422 and response.json()["error"]["code"] == "validation_failed", payload


def test_last_used_is_recorded(api: Api) -> None:
    admin = api.token("admin", name="adm")
    client = api.client()
    client.get("/api/tokens", headers=_bearer(admin))
    row = next(r for r in client.get("/api/tokens", headers=_bearer(admin)).json() if r["name"] == "adm")
    assert row["last_used_at"] is not None
