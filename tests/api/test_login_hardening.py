"""Login hardening: atomic rate limits, proxies trusted only when configured, no lockout of the admins, weak
passwords refused, no raw unknown usernames in the audit chain; live streams close when credentials go."""

from __future__ import annotations

import json
import logging
import queue
import threading
from dataclasses import replace
from pathlib import Path

import httpx2 as httpx
import pytest
from argon2 import PasswordHasher

from openlfr.audit import iter_entries
from tests.api.conftest import PASSWORD, Api, build_api, make_settings
from tests.web.conftest import serve

WRONG = "not the password at all"


class GatedHasher(PasswordHasher):
    """Counts password checks and holds each one until released: every attempt that gets past the rate limit
    is in ``verify`` at the same time, whatever the machine's speed."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.changed = threading.Condition()
        self.checking = 0
        self.release = threading.Event()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self.changed:
            self.checking += 1
            self.changed.notify_all()
        self.release.wait()
        return super().verify(hash, password)


def _with_hasher(api: Api, hasher: PasswordHasher) -> None:
    ctx = api.app.state.ctx
    api.app.state.ctx = replace(ctx, services=replace(ctx.services, password_hasher=hasher))


def test_sixty_parallel_wrong_passwords_get_at_most_the_limit_checked(api: Api) -> None:
    api.user("root", "admin")
    gate = GatedHasher()
    _with_hasher(api, gate)
    statuses: list[int] = []

    def attempt() -> None:
        response = api.client().post("/api/auth/login", json={"username": "root", "password": WRONG})
        with gate.changed:
            statuses.append(response.status_code)
            gate.changed.notify_all()

    threads = [threading.Thread(target=attempt) for _ in range(60)]
    for thread in threads:
        thread.start()
    with gate.changed:
        # Every attempt either answered at once (refused) or waits inside the password check; more than five
        # inside it is the failure itself. (The timeout only keeps a broken build from hanging the suite.)
        gate.changed.wait_for(lambda: len(statuses) + gate.checking >= 60 or gate.checking > 5, timeout=120)
    gate.release.set()
    for thread in threads:
        thread.join()
    assert gate.checking <= 5
    assert sorted(statuses) == [401] * gate.checking + [429] * (60 - gate.checking)


def _failed_ips(api: Api) -> list[str]:
    with api.db.session() as session:
        return [e.details["ip"] for e in iter_entries(session, action="auth.login_failed")]


def test_x_forwarded_for_is_honoured_only_from_configured_proxies(tmp_path: Path) -> None:
    for api in build_api(make_settings(tmp_path, trusted_proxies=["10.0.0.0/8"])):
        forged = {"X-Forwarded-For": "6.6.6.6"}
        api.client().post("/api/auth/login", json={"username": "x", "password": WRONG}, headers=forged)
        proxy = api.client()
        proxy_client = type(proxy)(api.app, client=("10.1.2.3", 4000))
        chain = {"X-Forwarded-For": "203.0.113.9, 10.9.9.9"}  # client, then an inner proxy
        proxy_client.post("/api/auth/login", json={"username": "x", "password": WRONG}, headers=chain)
        stranger = type(proxy)(api.app, client=("192.0.2.1", 4000))
        stranger.post("/api/auth/login", json={"username": "x", "password": WRONG}, headers=forged)
        assert _failed_ips(api) == ["testclient", "203.0.113.9", "192.0.2.1"]
    for api in build_api(make_settings(tmp_path / "default")):  # default: no proxy is trusted
        loopback = type(api.client())(api.app, client=("127.0.0.1", 4000))
        loopback.post("/api/auth/login", json={"username": "x", "password": WRONG}, headers=forged)
        assert _failed_ips(api) == ["127.0.0.1"]


def test_failures_from_elsewhere_cannot_lock_the_admin_out(api: Api) -> None:
    api.user("root", "admin")
    desk = type(api.client())(api.app, client=("192.0.2.10", 4000))
    assert desk.post("/api/auth/login", json={"username": "root", "password": PASSWORD}).status_code == 200
    # An attacker locks only their own (username, client) pair ...
    attacker = type(api.client())(api.app, client=("198.51.100.1", 4000))
    for _ in range(5):
        assert attacker.post("/api/auth/login", json={"username": "root", "password": WRONG}).status_code == 401
    assert attacker.post("/api/auth/login", json={"username": "root", "password": PASSWORD}).status_code == 429
    # ... and guessing from many addresses slows new addresses down, never the admin's own desk.
    for i in range(2, 12):
        spray = type(api.client())(api.app, client=(f"198.51.100.{i}", 4000))
        spray.post("/api/auth/login", json={"username": "root", "password": WRONG})
    newcomer = type(api.client())(api.app, client=("203.0.113.50", 4000))
    slowed = newcomer.post("/api/auth/login", json={"username": "root", "password": PASSWORD})
    assert slowed.status_code == 429 and 1 <= int(slowed.headers["Retry-After"]) <= 300
    assert desk.post("/api/auth/login", json={"username": "root", "password": PASSWORD}).status_code == 200
    api.clock.advance(seconds=int(slowed.headers["Retry-After"]))
    assert newcomer.post("/api/auth/login", json={"username": "root", "password": PASSWORD}).status_code == 200


@pytest.mark.parametrize("password", ["password1234", " " * 12, "Password1234!", "aaaaaaabbbbbbb", "xxopxx-secret-1"])
def test_weak_passwords_are_refused(api: Api, password: str) -> None:
    client, csrf = api.session_client("sgt", "supervisor")
    response = client.post(
        "/api/users", json={"username": "opx", "password": password, "role": "operator"}, headers=csrf
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "account_invalid", password
    strong = client.post("/api/users", json={"username": "opx", "password": PASSWORD, "role": "operator"}, headers=csrf)
    assert strong.status_code == 201


def test_unknown_usernames_never_reach_the_audit_chain_or_the_log(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    api.user("root", "admin")
    typed = "Tr0ub4dor&3-typed-in-the-wrong-box"
    assert api.client().post("/api/auth/login", json={"username": typed, "password": WRONG}).status_code == 401
    assert api.client().post("/api/auth/login", json={"username": "root", "password": WRONG}).status_code == 401
    with api.db.session() as session:
        entries = [e.to_json() for e in iter_entries(session, action="auth.login_failed")]
    assert [e["details"]["account"] for e in entries] == ["unknown", "root"]
    assert typed not in json.dumps(entries) and typed not in caplog.text
    with api.db.engine.connect() as connection:  # the rate-limit rows keep digests only
        rows = connection.exec_driver_sql("SELECT * FROM login_attempt").all()
    assert typed not in repr(rows)


def _read_stream(url: str, headers: dict[str, str], lines: queue.Queue[str]) -> None:
    with httpx.stream("GET", f"{url}/api/alerts/stream", headers=headers, timeout=120) as response:
        for line in response.iter_lines():
            lines.put(line)
    lines.put("<closed>")


def _next_event(lines: queue.Queue[str]) -> str:
    while True:
        line = lines.get(timeout=60)  # a guard against a hang, not a speed assertion
        if line.startswith(("event:", "<closed>")):
            return line


@pytest.mark.parametrize("revoke", ["disable the account", "revoke the token", "disable the token's creator"])
def test_revoking_credentials_closes_open_alert_streams(tmp_path: Path, revoke: str) -> None:
    for api in build_api(make_settings(tmp_path, alert_stream_max_s=3600)):
        sgt, csrf = api.session_client("sgt", "supervisor")
        user_id = api.user("ann", "operator")
        if revoke == "disable the account":
            viewer = api.client()
            csrf_ann = api.login(viewer, "ann")
            headers = {"Cookie": f"lfr_session={viewer.cookies['lfr_session']}", "X-CSRF-Token": csrf_ann}
        else:
            token = api.token("operator", name="wall-screen", owner="sgt2")
            headers = {"Authorization": f"Bearer {token}"}
        live = serve(api.app)
        lines: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(target=_read_stream, args=(live.url, headers, lines), daemon=True)
        try:
            reader.start()
            assert lines.get(timeout=60).startswith("retry:")  # the stream is open
            if revoke == "disable the account":
                sgt.patch(f"/api/users/{user_id}", json={"disabled": True}, headers=csrf)
            elif revoke == "revoke the token":
                token_id = sgt.get("/api/tokens").json()[0]["id"]
                assert sgt.delete(f"/api/tokens/{token_id}", headers=csrf).status_code == 204
            else:
                sgt2_id = next(u["id"] for u in sgt.get("/api/users").json() if u["username"] == "sgt2")
                assert sgt.patch(f"/api/users/{sgt2_id}", json={"disabled": True}, headers=csrf).status_code == 200
            assert _next_event(lines) == "event: end"
            assert "credentials_revoked" in lines.get(timeout=60)
        finally:
            api.app.state.ctx.services.stopping.set()
            live.stop()
            reader.join(30)
