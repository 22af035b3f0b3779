"""Every route against every role, anonymous included, as a signed-in person and as an API token. The route
list comes from the app itself, so a new route without a permission, or with a different one than below, fails
here. Tokens are refused on the routes a person must use in person (accounts, tokens, authorising, adjudicating)."""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter, FastAPI

from openlfr.api import app as app_module
from openlfr.api.permissions import Permission, allows, app_routes, permission_matrix
from openlfr.auth.roles import Role
from tests.api.conftest import Api

ANON = "anonymous"
ALL = {ANON, "admin", "supervisor", "operator", "auditor"}
STAFF = {"admin", "supervisor", "operator", "auditor"}

# Who gets past authentication and authorisation on each route. Change it only with the policy.
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("GET", "/api/health"): ALL,
    ("POST", "/api/auth/login"): ALL,
    ("POST", "/api/auth/logout"): STAFF,
    ("GET", "/api/auth/session"): STAFF,
    # Each side manages its own accounts and mints tokens within its own powers (the domain checks which).
    ("GET", "/api/users"): {"admin", "supervisor"},
    ("POST", "/api/users"): {"admin", "supervisor"},
    ("PATCH", "/api/users/{user_id}"): {"admin", "supervisor"},
    # Supervisors record their officers' training; oversight reads it (issue 12 §6).
    ("GET", "/api/users/{username}/competence"): {"admin", "supervisor", "auditor"},
    ("POST", "/api/users/{username}/competence"): {"supervisor"},
    ("GET", "/api/tokens"): {"admin", "supervisor"},
    ("POST", "/api/tokens"): {"admin", "supervisor"},
    ("DELETE", "/api/tokens/{token_id}"): {"admin", "supervisor"},
    ("GET", "/api/watchlists"): STAFF,
    ("GET", "/api/watchlists/{name}"): STAFF,
    ("GET", "/api/watchlist-reviews"): STAFF,
    ("GET", "/api/watchlist-options"): STAFF,
    ("GET", "/api/competence"): {"admin", "auditor", "supervisor"},
    ("GET", "/api/subjects/{subject_id}"): STAFF,
    ("POST", "/api/watchlists"): {"supervisor"},
    ("POST", "/api/watchlists/{name}/snapshots"): {"supervisor"},
    ("DELETE", "/api/watchlists/{name}/members/{subject_id}"): {"supervisor"},
    ("POST", "/api/subjects"): {"supervisor"},
    ("PATCH", "/api/subjects/{subject_id}"): {"supervisor"},
    ("POST", "/api/subjects/{subject_id}/images"): {"supervisor"},
    ("GET", "/api/subjects/{subject_id}/images/{image_id}"): STAFF,
    ("POST", "/api/subjects/{subject_id}/erase"): {"supervisor"},
    ("GET", "/api/alerts"): STAFF,
    ("GET", "/api/alerts/encounters"): STAFF,
    ("GET", "/api/alerts/options"): STAFF,
    ("GET", "/api/alerts/stream"): STAFF,
    ("GET", "/api/alerts/{alert_id}"): STAFF,
    ("GET", "/api/alerts/{alert_id}/probe"): STAFF,
    ("GET", "/api/alerts/{alert_id}/context"): STAFF,
    ("GET", "/api/alerts/{alert_id}/reference"): STAFF,
    ("GET", "/api/alerts/{alert_id}/history"): STAFF,
    ("POST", "/api/alerts/{alert_id}/adjudication"): {"operator", "supervisor"},
    ("POST", "/api/alerts/{alert_id}/outcome"): {"operator", "supervisor"},
    ("GET", "/api/cameras"): STAFF,
    ("POST", "/api/cameras"): {"admin"},
    ("GET", "/api/cameras/health"): STAFF,
    ("GET", "/api/cameras/status"): STAFF,
    ("DELETE", "/api/cameras/{camera_id}"): {"admin"},
    ("GET", "/api/cameras/{camera_id}/preview"): STAFF,
    ("POST", "/api/cameras/{camera_id}/test-view"): STAFF,
    ("PUT", "/api/cameras/{camera_id}/zone"): {"admin"},
    ("GET", "/api/cameras/{camera_id}/wall.mjpg"): {"operator", "supervisor"},
    ("GET", "/api/deployments"): STAFF,
    ("POST", "/api/deployments"): {"supervisor", "operator"},
    ("GET", "/api/deployments/{deployment_id}"): STAFF,
    ("PATCH", "/api/deployments/{deployment_id}"): {"supervisor", "operator"},
    ("POST", "/api/deployments/{deployment_id}/authorise"): {"supervisor"},
    ("POST", "/api/deployments/{deployment_id}/start"): {"supervisor", "operator"},
    ("POST", "/api/deployments/{deployment_id}/end"): {"supervisor", "operator"},
    ("POST", "/api/deployments/{deployment_id}/cancel"): {"supervisor", "operator"},
    ("GET", "/api/deployments/{deployment_id}/record"): STAFF,
    ("GET", "/api/reports/transparency"): STAFF,
    ("GET", "/api/deployments/{deployment_id}/review"): STAFF,
    ("GET", "/api/deployments/{deployment_id}/composition"): STAFF,
    ("POST", "/api/deployments/{deployment_id}/sign-off"): {"supervisor"},
    ("GET", "/api/deployments/{deployment_id}/signage"): STAFF,
    ("POST", "/api/deployments/{deployment_id}/signage"): {"supervisor", "operator"},
    # The public notice: published deployments only, no personal data (tests/reports/test_public_feed.py).
    ("GET", "/public/notice"): ALL,
    ("GET", "/public/deployments/{deployment_id}"): ALL,
    ("GET", "/public/deployments/{deployment_id}/signage"): ALL,
    ("GET", "/public/deployments/{deployment_id}/leaflet"): ALL,
    ("GET", "/api/retention/holds"): {"supervisor"},
    ("POST", "/api/retention/holds/{alert_id}"): {"supervisor"},
    ("POST", "/api/retention/holds/{alert_id}/lift"): {"supervisor"},
    ("POST", "/api/retention/run"): {"supervisor"},
    ("GET", "/api/calibrations"): STAFF,
    ("POST", "/api/calibrations"): {"supervisor"},
    ("GET", "/api/audit/entries"): {"admin", "supervisor", "auditor"},
    ("GET", "/api/audit/anchor"): {"admin", "supervisor", "auditor"},
    ("GET", "/api/audit/verify"): {"admin", "supervisor", "auditor"},
    ("GET", "/metrics"): {"admin", "auditor"},
    # The console's static files: no data in them (everything comes from the API behind a login).
    ("GET", "/"): ALL,
    ("GET", "/console/"): ALL,
    ("GET", "/console/{name}"): ALL,
    ("GET", "/openapi.json"): STAFF,
    ("GET", "/docs"): STAFF,
}


def test_every_route_is_in_the_expected_table(api: Api) -> None:
    routes = {(row.method, row.path) for row in permission_matrix(api.app)}
    assert routes == set(EXPECTED), "a route was added or removed: give it a permission and a row in EXPECTED"
    for row in permission_matrix(api.app):
        admitted = {ANON} if allows(row.permission, None) else set()
        admitted |= {role.value for role in Role if allows(row.permission, role)}
        assert admitted == EXPECTED[(row.method, row.path)], (row.method, row.path)


# Routes a person must use in person: an API token of an allowed role is refused (403).
PERSON_ONLY: set[tuple[str, str]] = {
    ("GET", "/api/users"),
    ("POST", "/api/users"),
    ("PATCH", "/api/users/{user_id}"),
    ("POST", "/api/users/{username}/competence"),
    ("GET", "/api/tokens"),
    ("POST", "/api/tokens"),
    ("DELETE", "/api/tokens/{token_id}"),
    ("POST", "/api/deployments/{deployment_id}/authorise"),
    ("POST", "/api/deployments/{deployment_id}/sign-off"),
    ("POST", "/api/calibrations"),
    ("POST", "/api/alerts/{alert_id}/adjudication"),
    ("POST", "/api/alerts/{alert_id}/outcome"),
}


def test_person_only_routes_are_the_human_only_permissions(api: Api) -> None:
    assert {(row.method, row.path) for row in permission_matrix(api.app) if not row.tokens} == PERSON_ONLY


@pytest.mark.slow
@pytest.mark.parametrize("as_", ["token", "person"])
def test_every_route_against_every_role(api: Api, as_: str) -> None:
    credentials: dict[str, tuple[object, dict[str, str]]] = {}
    for role in Role:
        if as_ == "token":
            token = api.token(role, name=f"matrix-{role.value}")
            credentials[role.value] = (api.client(), {"Authorization": f"Bearer {token}"})
        else:
            credentials[role.value] = api.session_client(f"matrix-{role.value}", role)
    anonymous = api.client()
    checked = 0
    for route in app_routes(api.app):
        path = re.sub(r"\{[^}]+\}", "does-not-exist", route.path)
        for method in sorted(route.methods):
            for who in sorted(ALL):
                client, headers = (anonymous, {}) if who == ANON else credentials[who]
                response = client.request(method, path, headers=headers, json={})  # type: ignore[attr-defined]
                if as_ == "person" and who != ANON and route.path == "/api/auth/logout":
                    credentials[who] = api.session_client(f"matrix-{who}", who)  # that ended the session
                allowed = who in EXPECTED[(method, route.path)]
                if as_ == "token" and (method, route.path) in PERSON_ONLY:
                    allowed = who == ANON and allowed
                if allowed:
                    assert response.status_code not in (401, 403), (method, route.path, who, response.text)
                    assert response.status_code < 500, (method, route.path, who, response.text)
                else:
                    expected_status = 401 if who == ANON else 403
                    assert response.status_code == expected_status, (method, route.path, who, response.text)
                    code = response.json()["error"]["code"]
                    assert code == ("not_authenticated" if who == ANON else "forbidden")
                checked += 1
    assert checked == len(EXPECTED) * len(ALL)


def test_only_health_login_and_the_public_notice_are_public(api: Api) -> None:
    public = {(row.method, row.path) for row in permission_matrix(api.app) if row.permission is Permission.PUBLIC}
    console = {("GET", "/"), ("GET", "/console/"), ("GET", "/console/{name}")}  # static files, no data
    notice = {("GET", p) for p in ("/public/notice", "/public/deployments/{deployment_id}")} | {
        ("GET", f"/public/deployments/{{deployment_id}}/{kind}") for kind in ("signage", "leaflet")
    }
    assert public == {("GET", "/api/health"), ("POST", "/api/auth/login"), *console, *notice}


def test_a_route_without_a_permission_is_refused_at_start_up(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    stray = APIRouter()

    @stray.get("/api/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    monkeypatch.setattr(app_module, "ROUTERS", (*app_module.ROUTERS, stray))
    with pytest.raises(ValueError, match="/api/forgotten declares 0 permissions"):
        app_module.create_app(api.settings, api.app.state.ctx.services)


def test_router_level_rules_count_and_plain_routes_are_refused() -> None:
    from openlfr.api.routes import users

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.include_router(users.router)
    assert {entry.permission for entry in app_routes(app)} == {Permission.USERS_MANAGE}
    app.add_route("/plain", lambda request: None)
    with pytest.raises(ValueError, match="/plain declares 0 permissions"):
        app_routes(app)


def test_the_grant_and_token_ceilings_keep_administration_and_operations_apart() -> None:
    from openlfr.auth.permissions import GRANTS, HUMAN_ONLY, within

    operational = {Role.SUPERVISOR, Role.OPERATOR}
    # An admin can neither give an account nor mint a token with supervisor or operator powers...
    assert not GRANTS[Role.ADMIN] & operational
    assert not any(within(role, Role.ADMIN) for role in operational)
    # ... and a supervisor no administration powers.
    assert GRANTS[Role.SUPERVISOR] == operational
    assert not within(Role.ADMIN, Role.SUPERVISOR) and not within(Role.AUDITOR, Role.SUPERVISOR)
    # Nobody grants a role with powers beyond their own; operators and auditors grant nothing.
    assert all(within(granted, granter) for granter, roles in GRANTS.items() for granted in roles)
    assert GRANTS[Role.OPERATOR] == GRANTS[Role.AUDITOR] == frozenset()
    # The decisions an officer answers for, and making identities, are never a token's.
    assert {
        Permission.USERS_MANAGE,
        Permission.TOKENS_MANAGE,
        Permission.DEPLOYMENTS_AUTHORISE,
        Permission.ALERTS_ADJUDICATE,
        Permission.COMPETENCE_MANAGE,
    } == HUMAN_ONLY


def test_separation_of_duties_is_on_by_default() -> None:
    from openlfr.config.governance import GovernanceConfig

    assert GovernanceConfig().separation_of_duties is True


@pytest.mark.slow
@pytest.mark.parametrize("role", list(Role))
def test_the_session_offers_exactly_the_roles_the_server_accepts(api: Api, role: Role) -> None:
    """The console takes the roles it offers from the session; each offered role is accepted, the others refused."""
    client, csrf = api.session_client(f"who-{role}", role)
    session = client.get("/api/auth/session").json()
    for index, other in enumerate(Role):
        made = client.post(
            "/api/users", json={"username": f"new{index}", "password": "a long password 1", "role": other}, headers=csrf
        )
        assert (made.status_code == 201) == (other in session["account_roles"]), (other, made.json())
        minted = client.post("/api/tokens", json={"name": f"tok{index}", "role": other}, headers=csrf)
        assert (minted.status_code == 201) == (other in session["token_roles"]), (other, minted.json())
    assert bool(session["account_roles"]) == ("users:manage" in session["permissions"])


def test_a_token_is_offered_no_roles_to_grant(api: Api) -> None:
    secret = api.token("admin")
    seen = api.client().get("/api/auth/session", headers={"Authorization": f"Bearer {secret}"}).json()
    assert seen["kind"] == "token" and seen["account_roles"] == [] and seen["token_roles"] == []
