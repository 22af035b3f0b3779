"""API token lifecycle: minted by a signed-in admin or supervisor, shown once, stored hashed, scoped to a role
within its creator's, revocable, dead with its creator."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from tests.api.conftest import PASSWORD, Api


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_token_lifecycle(api: Api) -> None:
    client, admin = api.session_client("root", "admin")
    created = client.post("/api/tokens", json={"name": "prometheus", "role": "auditor"}, headers=admin)
    assert created.status_code == 201
    body = created.json()
    secret, token_id = body["token"], body["id"]
    assert secret.startswith("lfr_") and len(secret) > 40
    assert (body["role"], body["active"], body["revoked_at"]) == ("auditor", True, None)

    listed = client.get("/api/tokens").json()
    assert all("token" not in row for row in listed)  # shown once: never again
    assert secret not in str(listed)

    assert client.get("/metrics", headers=_bearer(secret)).status_code == 200  # auditor scope admits /metrics
    assert client.get("/api/users", headers=_bearer(secret)).status_code == 403  # …and not admin routes

    assert client.delete(f"/api/tokens/{token_id}", headers=admin).status_code == 204
    refused = client.get("/metrics", headers=_bearer(secret))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "not_authenticated"
    row = next(r for r in client.get("/api/tokens").json() if r["id"] == token_id)
    assert row["active"] is False and row["revoked_at"] is not None and row["created_by"] == "root"
    assert client.delete(f"/api/tokens/{token_id}", headers=admin).status_code == 204  # idempotent
    assert client.delete("/api/tokens/unknown", headers=admin).status_code == 404


def test_token_is_hashed_at_rest(api: Api) -> None:
    client, supervisor = api.session_client("sgt", "supervisor")
    secret = client.post("/api/tokens", json={"name": "n", "role": "operator"}, headers=supervisor).json()["token"]
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
    client, admin = api.session_client("root", "admin")
    for payload in (
        {"name": "x", "role": "root"},
        {"name": "", "role": "admin"},
        {"name": "x", "role": "admin", "extra": 1},
    ):
        response = client.post("/api/tokens", json=payload, headers=admin)
        assert response.status_code == 422 and response.json()["error"]["code"] == "validation_failed", payload


def test_last_used_is_recorded(api: Api) -> None:
    token = api.token("auditor", name="adm")
    api.client().get("/metrics", headers=_bearer(token))
    client, _ = api.session_client("root", "admin")
    row = next(r for r in client.get("/api/tokens").json() if r["name"] == "adm")
    assert row["last_used_at"] is not None


def test_an_admin_cannot_mint_operational_powers_and_a_token_cannot_mint_at_all(api: Api) -> None:
    client, admin = api.session_client("root", "admin")
    for role in ("supervisor", "operator"):
        refused = client.post("/api/tokens", json={"name": "demo-supervisor", "role": role}, headers=admin)
        assert refused.status_code == 403 and "never holds a permission" in refused.json()["error"]["message"]
    api.user("sgt", "supervisor")
    named = client.post("/api/tokens", json={"name": "sgt", "role": "auditor"}, headers=admin)
    assert named.status_code == 409  # a token cannot take a person's name
    machine = api.token("admin", name="ops-bot")
    minted = api.client().post("/api/tokens", json={"name": "y", "role": "auditor"}, headers=_bearer(machine))
    assert minted.status_code == 403 and "signed-in person" in minted.json()["error"]["message"]
    promoted = api.client().post(
        "/api/users", json={"username": "x1", "password": PASSWORD, "role": "admin"}, headers=_bearer(machine)
    )
    assert promoted.status_code == 403


def test_a_token_dies_with_its_creators_disablement_or_demotion(api: Api) -> None:
    sgt_client, sgt = api.session_client("sgt", "supervisor")
    minted = sgt_client.post("/api/tokens", json={"name": "importer", "role": "supervisor"}, headers=sgt).json()
    token = minted["token"]
    assert api.client().get("/api/watchlists", headers=_bearer(token)).status_code == 200
    other, other_csrf = api.session_client("sgt2", "supervisor")
    sgt_id = next(u["id"] for u in other.get("/api/users").json() if u["username"] == "sgt")
    assert other.patch(f"/api/users/{sgt_id}", json={"disabled": True}, headers=other_csrf).status_code == 200
    assert api.client().get("/api/watchlists", headers=_bearer(token)).status_code == 401
    assert other.patch(f"/api/users/{sgt_id}", json={"disabled": False}, headers=other_csrf).status_code == 200
    assert api.client().get("/api/watchlists", headers=_bearer(token)).status_code == 200
    assert other.patch(f"/api/users/{sgt_id}", json={"role": "operator"}, headers=other_csrf).status_code == 200
    assert api.client().get("/api/watchlists", headers=_bearer(token)).status_code == 401
