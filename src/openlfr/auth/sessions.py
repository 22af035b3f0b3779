"""Console sessions: a random cookie value whose sha256 is the row id; CSRF tokens derived from it.

The CSRF token is an HMAC of the session value under the session secret ("signed double submit"): the
server can check it without storing it, and a token from one session is useless in another.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from openlfr.audit import append_audit
from openlfr.auth.principal import Principal
from openlfr.store.auth_models import AuthSession, User
from openlfr.utc import as_utc

_TOUCH_EVERY = timedelta(minutes=1)


def session_digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def csrf_token_for(secret: bytes, session_value: str) -> str:
    return hmac.new(secret, b"csrf:" + session_value.encode("utf-8"), hashlib.sha256).hexdigest()


def csrf_token_valid(secret: bytes, session_value: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(csrf_token_for(secret, session_value), presented)


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta
    max_age: timedelta


@dataclass(frozen=True, slots=True)
class IssuedSession:
    record: AuthSession
    value: str
    """the cookie value: only the client keeps it"""


def start_session(
    session: Session, user: User, policy: SessionPolicy, now: datetime, kind: str = "console"
) -> IssuedSession:
    value = secrets.token_urlsafe(32)
    record = AuthSession(
        id=session_digest(value),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.max_age,
        kind=kind,
    )
    session.add(record)
    session.flush()
    return IssuedSession(record, value)


def resume_session(
    session: Session, value: str, policy: SessionPolicy, now: datetime, kind: str = "console"
) -> tuple[AuthSession, User] | None:
    """The live session of ``kind`` and its (enabled) user for a session value; expired sessions are deleted.
    A command-line session is refused as a cookie and the other way round."""
    if not value or len(value) > 200:
        return None
    record = session.get(AuthSession, session_digest(value))
    if record is None or record.kind != kind:
        return None
    if as_utc(record.expires_at) <= now or now - as_utc(record.last_seen_at) >= policy.idle:
        session.delete(record)
        session.flush()
        return None
    user = session.get(User, record.user_id)
    if user is None or user.disabled:
        return None
    if now - as_utc(record.last_seen_at) >= _TOUCH_EVERY:
        record.last_seen_at = now
    return record, user


def end_session(session: Session, value: str) -> None:
    """Delete the session ``value`` (a login replacing the browser's previous session; ``sign_out`` for a
    person signing out)."""
    session.execute(delete(AuthSession).where(AuthSession.id == session_digest(value)))


def sign_out(session: Session, value: str, *, by: Principal | None, channel: str) -> None:
    """Sign out: delete the session ``value`` and record ``auth.logout`` for ``by`` with its ``channel``
    (``api`` or ``cli``). ``by`` is None when the session had already lapsed: there is no one to name, and
    nothing is recorded."""
    end_session(session, value)
    if by is not None:
        append_audit(
            session,
            actor=by.actor,
            action="auth.logout",
            target_type="user",
            target_id=by.id,
            details={"channel": channel},
        )


def purge_expired(session: Session, policy: SessionPolicy, now: datetime) -> int:
    result = session.execute(
        delete(AuthSession).where((AuthSession.expires_at <= now) | (AuthSession.last_seen_at <= now - policy.idle))
    )
    return int(getattr(result, "rowcount", 0) or 0)


def still_valid(session: Session, value: str, role: str, policy: SessionPolicy, now: datetime, kind: str) -> bool:
    """Whether the session ``value`` is still live for an enabled user of ``role`` (the live stream re-checks;
    nothing is written)."""
    record = session.get(AuthSession, session_digest(value))
    if record is None or record.kind != kind:
        return False
    if as_utc(record.expires_at) <= now or now - as_utc(record.last_seen_at) >= policy.idle:
        return False
    user = session.get(User, record.user_id)
    return user is not None and not user.disabled and user.role == role
