"""``/api/auth``: log in (cookie session + CSRF token), log out, who am I."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response, status

from openlfr.api.audit import audit
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
from openlfr.api.permissions import Permission, held_by
from openlfr.api.schemas.auth import LoginRequest, SessionPublic
from openlfr.audit import append_audit
from openlfr.auth.passwords import hash_password, verify_password
from openlfr.auth.roles import Role
from openlfr.auth.sessions import csrf_token_for, end_session, purge_expired, start_session
from openlfr.auth.users import find_user

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
    check_origin(request)
    ip = client_ip(request)
    wait = ctx.limiter.retry_after(body.username, ip)
    if wait is not None:
        log.warning("login refused (rate limit) for %r from %s", body.username[:64], ip)
        raise RateLimitedError(wait)
    hasher = ctx.services.password_hasher
    user = find_user(db, body.username)
    password = body.password.get_secret_value()
    if not verify_password(hasher, user.password_hash if user else None, password) or user is None or user.disabled:
        ctx.limiter.record_failure(body.username, ip)
        log.info("failed login for %r from %s", body.username[:64], ip)
        append_audit(
            db,
            actor="anonymous",
            action="auth.login_failed",
            target_type="user",
            target_id=user.id if user is not None else None,
            details={"username": body.username[:64], "ip": ip},
        )
        db.commit()
        raise InvalidCredentialsError("wrong username or password")
    ctx.limiter.record_success(body.username, ip)
    now = ctx.services.clock()
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(hasher, password)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        end_session(db, previous)
    purge_expired(db, ctx.session_policy, now)  # sessions nobody came back for would otherwise pile up
    issued = start_session(db, user, ctx.session_policy, now)
    append_audit(
        db,
        actor=f"user:{user.username}",
        action="auth.login",
        target_type="user",
        target_id=user.id,
        details={"ip": ip},
    )
    db.commit()
    csrf = csrf_token_for(ctx.session_secret, issued.value)
    _set_cookies(request, response, issued.value, csrf, int(ctx.session_policy.max_age.total_seconds()))
    log.info("login: %s (%s) from %s", user.username, user.role, ip)
    return SessionPublic(
        kind="user",
        id=user.id,
        name=user.username,
        role=Role(user.role),
        expires_at=issued.record.expires_at,
        csrf_token=csrf,
        permissions=held_by(Role(user.role)),
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, dependencies=[require(Permission.AUTHENTICATED)])
def logout(principal: CurrentUser, response: Response, db: SessionDep) -> None:
    """End the cookie session (a no-op for API tokens: revoke those with DELETE /api/tokens/{id})."""
    if principal.session_value is not None:
        end_session(db, principal.session_value)
        audit(db, principal, "auth.logout", "user", principal.id, {})
        db.commit()
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="strict")


@router.get("/session", dependencies=[require(Permission.AUTHENTICATED)])
def current_session(principal: CurrentUser, ctx: ContextDep) -> SessionPublic:
    csrf = csrf_token_for(ctx.session_secret, principal.session_value) if principal.session_value else None
    return SessionPublic(
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        role=principal.role,
        expires_at=principal.expires_at,
        csrf_token=csrf,
        permissions=held_by(principal.role),
    )
