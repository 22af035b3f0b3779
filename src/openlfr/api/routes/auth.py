"""``/api/auth``: log in (cookie session + CSRF token), log out, who am I."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response, status

from openlfr.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    ContextDep,
    CurrentUser,
    SessionDep,
    check_origin,
    client_ip,
    require,
)
from openlfr.api.errors import InvalidCredentialsError, RateLimitedError
from openlfr.api.permissions import Permission, account_roles_of, held_by, token_roles_of
from openlfr.api.schemas.auth import LoginRequest, SessionPublic
from openlfr.auth.errors import InvalidLoginError, LoginRefusedError
from openlfr.auth.login import LoginRequest as Attempt
from openlfr.auth.login import login as check_login
from openlfr.auth.roles import Role
from openlfr.auth.sessions import csrf_token_for, end_session, purge_expired, sign_out, start_session

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/auth", tags=["auth"])


def _set_cookies(request: Request, response: Response, session_value: str, csrf: str, max_age: int) -> None:
    secure = request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE, session_value, max_age=max_age, path="/", secure=secure, httponly=True, samesite="strict"
    )
    # Readable by the console's script (not HttpOnly) so it can echo it in X-CSRF-Token.
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, path="/", secure=secure, httponly=False, samesite="strict")


@router.post("/login", dependencies=[require(Permission.PUBLIC)])
def login(body: LoginRequest, request: Request, response: Response, db: SessionDep, ctx: ContextDep) -> SessionPublic:
    """Rate limits, password check and audit are ``openlfr.auth.login`` (shared with `lfr login`)."""
    check_origin(request)
    ip = client_ip(request)
    attempt = Attempt(body.username, body.password.get_secret_value(), ip, "api")
    try:
        user = check_login(
            ctx.services.sessions,
            ctx.services.password_hasher,
            ctx.login_limits,
            attempt,
            ctx.services.clock,
            ctx.login_counters,
        )
    except LoginRefusedError as exc:
        raise RateLimitedError(exc.retry_after_s) from None
    except InvalidLoginError:
        raise InvalidCredentialsError("wrong username or password") from None
    now = ctx.services.clock()
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        end_session(db, previous)
    purge_expired(db, ctx.session_policy, now)  # sessions nobody came back for would otherwise pile up
    issued = start_session(db, user, ctx.session_policy, now)
    db.commit()
    csrf = csrf_token_for(ctx.session_secret, issued.value)
    _set_cookies(request, response, issued.value, csrf, int(ctx.session_policy.max_age.total_seconds()))
    log.info("login: %s (%s) from %s", user.username, user.role, ip)
    return SessionPublic(
        kind="user",
        id=user.id,
        name=user.username,
        role=Role(user.role),
        account=user.username,
        expires_at=issued.record.expires_at,
        csrf_token=csrf,
        permissions=held_by(Role(user.role)),
        account_roles=account_roles_of(Role(user.role)),
        token_roles=token_roles_of(Role(user.role)),
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, dependencies=[require(Permission.AUTHENTICATED)])
def logout(principal: CurrentUser, response: Response, db: SessionDep, ctx: ContextDep) -> None:
    """End the cookie session (a no-op for API tokens: revoke those with DELETE /api/tokens/{id})."""
    if principal.session_value is not None:
        sign_out(db, principal.session_value, by=principal, channel="api")
        db.commit()
        ctx.services.credentials.changed()
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="strict")


@router.get("/session", dependencies=[require(Permission.AUTHENTICATED)])
def current_session(principal: CurrentUser, ctx: ContextDep) -> SessionPublic:
    csrf = csrf_token_for(ctx.session_secret, principal.session_value) if principal.session_value else None
    assert principal.role is not None and principal.kind != "system"
    return SessionPublic(
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        role=principal.role,
        account=principal.account,
        expires_at=principal.expires_at,
        csrf_token=csrf,
        permissions=held_by(principal.role),
        # Accounts and tokens are made by people in person (HUMAN_ONLY): a token is offered neither.
        account_roles=account_roles_of(principal.role) if principal.kind == "user" else [],
        token_roles=token_roles_of(principal.role) if principal.kind == "user" else [],
    )
