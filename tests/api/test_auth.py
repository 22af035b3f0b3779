"""Console login: cookies, CSRF, session end, rate limits; bearer tokens need no CSRF."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from openlfr.audit import iter_entries
from openlfr.store.auth_models import AuthSession
from tests.api.conftest import PASSWORD, Api


def test_login_sets_strict_httponly_session_and_readable_csrf_cookie(api: Api) -> None:
    api.user("alice", "operator")
    client = api.client()
    response = client.post("/api/auth/login", json={"username": "Alice", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["role"], body["kind"]) == ("alice", "operator", "user")
    cookies = {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}
    session_cookie, csrf_cookie = cookies["lfr_session"], cookies["lfr_csrf"]
    assert "HttpOnly" in session_cookie and "SameSite=strict" in session_cookie
    assert "HttpOnly" not in csrf_cookie and "SameSite=strict" in csrf_cookie
    assert f"lfr_csrf={body['csrf_token']}" in csrf_cookie
    assert "Secure" not in session_cookie  # plain HTTP (development): a Secure cookie would never come back

    session = client.get("/api/auth/session").json()
    assert session["name"] == "alice" and session["csrf_token"] == body["csrf_token"]


def test_cookies_are_secure_over_https(api: Api) -> None:
    api.user("alice", "operator")
    response = api.client(https=True).post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert all("Secure" in c for c in response.headers.get_list("set-cookie"))
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_session_value_is_stored_hashed(api: Api) -> None:
    api.user("alice", "operator")
    client = api.client()
    api.login(client, "alice")
    value = client.cookies["lfr_session"]
    with api.db.session() as session:
        ids = list(session.scalars(select(AuthSession.id)))
    assert len(ids) == 1 and value not in ids[0] and len(ids[0]) == 64


def test_wrong_password_unknown_user_and_disabled_user_look_the_same(api: Api) -> None:
    api.user("alice", "operator")
    disabled_id = api.user("bob", "operator")
    client = api.client()
    manager, csrf = api.session_client("sgt", "supervisor")
    assert manager.patch(f"/api/users/{disabled_id}", json={"disabled": True}, headers=csrf).status_code == 200
    for username, password in (("alice", "wrong password!"), ("nobody", PASSWORD), ("bob", PASSWORD)):
        response = client.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 401
        assert response.json()["error"] == {
            "code": "invalid_credentials",
            "message": "wrong username or password",
            "details": None,
        }
    assert "lfr_session" not in client.cookies


def test_csrf_header_required_for_cookie_state_changes(api: Api) -> None:
    api.user("root", "admin")
    client = api.client()
    csrf = api.login(client, "root")
    new_user = {"username": "carol", "password": PASSWORD, "role": "auditor"}

    missing = client.post("/api/users", json=new_user)
    assert missing.status_code == 403 and missing.json()["error"]["code"] == "csrf_failed"
    wrong = client.post("/api/users", json=new_user, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "csrf_failed"
    assert client.get("/api/users").status_code == 200  # reads need no token
    ok = client.post("/api/users", json=new_user, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text


def test_csrf_token_of_another_session_is_refused(api: Api) -> None:
    api.user("root", "admin")
    first, second = api.client(), api.client()
    csrf_first = api.login(first, "root")
    api.login(second, "root")
    response = second.post("/api/tokens", json={"name": "x", "role": "auditor"}, headers={"X-CSRF-Token": csrf_first})
    assert response.json()["error"]["code"] == "csrf_failed"


def test_cross_origin_cookie_request_is_refused(api: Api) -> None:
    api.user("root", "admin")
    client = api.client()
    csrf = api.login(client, "root")
    headers = {"X-CSRF-Token": csrf, "Origin": "https://evil.example"}
    response = client.post("/api/tokens", json={"name": "x", "role": "auditor"}, headers=headers)
    assert response.status_code == 403 and response.json()["error"]["code"] == "origin_mismatch"
    same = client.post(
        "/api/tokens", json={"name": "x", "role": "auditor"}, headers={**headers, "Origin": "http://testserver"}
    )
    assert same.status_code == 201


def test_bearer_requests_need_no_csrf(api: Api) -> None:
    client = api.client()
    token = api.token("supervisor")
    response = client.post(
        "/api/watchlists", json={"name": "scraped", "description": ""}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201


def test_bad_bearer_does_not_fall_back_to_the_cookie(api: Api) -> None:
    api.user("root", "admin")
    client = api.client()
    api.login(client, "root")
    for header in ("Bearer lfr_nope", "Basic cm9vdDpyb290", "Bearer "):
        response = client.get("/api/users", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_logout_ends_the_session_server_side(api: Api) -> None:
    api.user("alice", "operator")
    client = api.client()
    csrf = api.login(client, "alice")
    stolen = client.cookies["lfr_session"]
    assert client.post("/api/auth/logout").status_code == 403  # CSRF applies to logout too
    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/auth/session").status_code == 401
    replay = api.client()
    replay.cookies.set("lfr_session", stolen)
    assert replay.get("/api/auth/session").status_code == 401
    with api.db.session() as session:
        (logout,) = list(iter_entries(session, action="auth.logout"))
    assert (logout.actor, logout.details) == ("user:alice", {"channel": "api"})  # as `lfr logout` records "cli"


def test_sessions_end_after_idle_time_and_max_age(api: Api) -> None:
    api.user("alice", "operator")
    client = api.client()
    api.login(client, "alice")
    api.clock.advance(minutes=29)
    assert client.get("/api/auth/session").status_code == 200  # use refreshes the idle timer
    api.clock.advance(minutes=29)
    assert client.get("/api/auth/session").status_code == 200
    api.clock.advance(minutes=31)
    response = client.get("/api/auth/session")
    assert response.status_code == 401 and "ended" in response.json()["error"]["message"]

    api.login(client, "alice")
    for _ in range(25):  # used every 29 minutes, but 12 hours is the end regardless
        api.clock.advance(minutes=29)
        last = client.get("/api/auth/session").status_code
    assert last == 401


def test_disabling_a_user_ends_their_sessions(api: Api) -> None:
    user_id = api.user("alice", "operator")
    client = api.client()
    api.login(client, "alice")
    manager, csrf = api.session_client("sgt", "supervisor")
    assert manager.patch(f"/api/users/{user_id}", json={"disabled": True}, headers=csrf).status_code == 200
    assert client.get("/api/auth/session").status_code == 401


def test_rate_limit_per_username(api: Api) -> None:
    api.user("alice", "operator")
    client = api.client()
    for _ in range(5):
        assert client.post("/api/auth/login", json={"username": "alice", "password": "nope" * 4}).status_code == 401
    blocked = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert blocked.status_code == 429  # even the right password waits: the attacker must not learn it is right
    assert blocked.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(blocked.headers["Retry-After"]) <= 300
    api.clock.advance(seconds=301)
    assert client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).status_code == 200


def test_rate_limit_per_client_address(api: Api) -> None:
    api.user("alice", "operator")
    client = api.client()
    for i in range(20):  # different usernames each time: only the address limit can stop this
        assert client.post("/api/auth/login", json={"username": f"guess{i}", "password": "x" * 12}).status_code == 401
    response = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 429 and "Retry-After" in response.headers


def test_successful_login_clears_the_username_failures(api: Api) -> None:
    api.user("alice", "operator")
    client = api.client()
    for _ in range(4):
        client.post("/api/auth/login", json={"username": "alice", "password": "wrong" * 3})
    api.login(client, "alice")
    for _ in range(4):
        assert client.post("/api/auth/login", json={"username": "alice", "password": "wrong" * 3}).status_code == 401


def test_validation_errors_do_not_count_or_echo_the_password(api: Api) -> None:
    client = api.client()
    secret = "my-secret-password-" + "x" * 2000
    response = client.post("/api/auth/login", json={"username": "alice", "password": secret})
    assert response.status_code == 422
    assert "my-secret-password" not in response.text


def test_passwords_tokens_and_sessions_never_reach_the_log(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    api.user("root", "admin")
    client = api.client()
    client.post("/api/auth/login", json={"username": "root", "password": "wrong password 1"})
    csrf = api.login(client, "root")
    created = client.post("/api/tokens", json={"name": "t", "role": "auditor"}, headers={"X-CSRF-Token": csrf})
    secrets_seen = [PASSWORD, "wrong password 1", created.json()["token"], client.cookies["lfr_session"], csrf]
    assert caplog.records, "the login should have been logged"
    for secret in secrets_seen:
        assert secret not in caplog.text


def test_expired_sessions_are_purged_at_the_next_login(api: Api) -> None:
    api.user("alice", "operator")
    api.login(api.client(), "alice")
    api.clock.advance(hours=13)
    api.login(api.client(), "alice")
    with api.db.session() as session:
        assert len(list(session.scalars(select(AuthSession.id)))) == 1
