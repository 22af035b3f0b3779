"""Named dependencies: ``SessionDep``, ``ContextDep``, ``CurrentUser`` and ``require(Permission.X)``.

``Principal`` (``openlfr.auth.principal``) is who calls; governed domain functions take it and check it too.

Authentication order: an ``Authorization: Bearer`` header (API token) wins; otherwise the session cookie,
which must come with a matching ``X-CSRF-Token`` header on state-changing methods. A bad bearer token is
refused, never "fallen back" from to the cookie.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from openlfr.api.context import AppContext
from openlfr.api.errors import CsrfError, ForbiddenError, NotAuthenticatedError
from openlfr.api.permissions import AccessRule, Permission
from openlfr.auth.errors import PermissionDeniedError
from openlfr.auth.principal import Principal
from openlfr.auth.sessions import csrf_token_valid, resume_session
from openlfr.auth.tokens import authenticate_token
from openlfr.auth.users import user_principal
from openlfr.utc import as_utc

SESSION_COOKIE = "lfr_session"
CSRF_COOKIE = "lfr_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_db(ctx: ContextDep) -> Iterator[Session]:
    """A database session for the request; routes commit what they change, the rest is rolled back."""
    with ctx.services.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]


def client_ip(request: Request) -> str:
    """The client's address: the peer, or — when the peer is a configured trusted proxy — the last address in
    X-Forwarded-For that is not itself a trusted proxy. From anyone else the header is ignored, so nobody
    picks the address that the rate limits and the audit chain see."""
    peer = request.client.host if request.client else "unknown"
    ctx: AppContext = request.app.state.ctx
    trusted = [ip_network(net, strict=False) for net in ctx.settings.api.trusted_proxies]
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded = [part.strip() for part in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
    for hop in reversed([part for part in forwarded if part]):
        if not _is_trusted(hop, trusted):
            return hop if _is_address(hop) else peer
    return peer


def _is_address(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


def _is_trusted(text: str, networks: list[IPv4Network | IPv6Network]) -> bool:
    try:
        address = ip_address(text)
    except ValueError:
        return False
    return any(address in network for network in networks)


def check_origin(request: Request) -> None:
    """Refuse a state-changing browser request whose Origin is another site (defence in depth beside
    SameSite=Strict cookies and the CSRF token). Requests without Origin (non-browser clients) pass."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    if origin == "null" or urlsplit(origin).netloc != request.headers.get("host", ""):
        raise CsrfError("cross-origin request refused", code="origin_mismatch")


def _bearer(request: Request, db: Session, now: datetime, header: str) -> Principal:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise NotAuthenticatedError("the Authorization header must be 'Bearer <API token>'")
    principal = authenticate_token(db, value.strip(), now)
    if principal is None:
        raise NotAuthenticatedError("the API token is invalid, expired or revoked, or its creator can no longer use it")
    db.commit()  # last_used_at
    return principal


def authenticate(request: Request, db: SessionDep, ctx: ContextDep) -> Principal | None:
    """The caller, or None when the request carries no credentials at all."""
    now = ctx.services.clock()
    header = request.headers.get("authorization")
    if header is not None:
        return _bearer(request, db, now, header)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    found = resume_session(db, cookie, ctx.session_policy, now)
    db.commit()  # last_seen_at, or the deletion of an expired session
    if found is None:
        raise NotAuthenticatedError("the session has ended: log in again")
    record, user = found
    if request.method not in SAFE_METHODS:
        check_origin(request)
        if not csrf_token_valid(ctx.session_secret, cookie, request.headers.get(CSRF_HEADER)):
            raise CsrfError(f"missing or wrong {CSRF_HEADER} header (see GET /api/auth/session)")
    return user_principal(user, expires_at=as_utc(record.expires_at), session_value=cookie)


OptionalPrincipal = Annotated[Principal | None, Depends(authenticate)]


def current_principal(principal: OptionalPrincipal) -> Principal:
    if principal is None:
        raise NotAuthenticatedError()
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


class _Public(AccessRule):
    def __init__(self) -> None:
        self.permission = Permission.PUBLIC

    def __call__(self) -> None:
        return None


class _Restricted(AccessRule):
    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(self, principal: OptionalPrincipal) -> None:
        if principal is None:
            raise NotAuthenticatedError()
        try:
            principal.require(self.permission)
        except PermissionDeniedError as exc:
            raise ForbiddenError(str(exc)) from None


def require(permission: Permission) -> Any:
    """The route dependency that declares (and enforces) a route's permission: ``dependencies=[require(...)]``.
    Which roles hold it is decided in ``openlfr.api.permissions.POLICY`` only."""
    return Depends(_Public() if permission is Permission.PUBLIC else _Restricted(permission))
