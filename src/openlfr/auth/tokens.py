"""API tokens for machine clients: random, shown once, stored as sha256, scoped to a role, revocable.

sha256 (not argon2) is enough here: a token carries 256 bits of randomness, so nobody can guess it from
its hash, and a fast hash keeps every bearer request cheap.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.auth.clock import as_utc
from openlfr.auth.errors import AccountInvalidError
from openlfr.auth.users import parse_role
from openlfr.store.auth_models import ApiToken
from openlfr.store.errors import NotFoundError
from openlfr.store.models import new_id

TOKEN_PREFIX = "lfr_"
# last_used_at is written at most this often, so a busy scraper does not turn every read into a write.
_TOUCH_EVERY = timedelta(minutes=1)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    record: ApiToken
    token: str
    """the only copy of the secret: give it to the client, then forget it"""


def create_token(
    session: Session, name: str, role: str, created_by: str, now: datetime, expires_in: timedelta | None = None
) -> IssuedToken:
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountInvalidError("a token name is 1-100 characters")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        id=new_id(),
        name=name,
        role=parse_role(role).value,
        token_hash=token_digest(secret),
        created_by=created_by,
        created_at=now,
        expires_at=now + expires_in if expires_in is not None else None,
    )
    session.add(record)
    session.flush()
    return IssuedToken(record, secret)


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at)))


def is_active(record: ApiToken, now: datetime) -> bool:
    return record.revoked_at is None and (record.expires_at is None or as_utc(record.expires_at) > now)


def authenticate_token(session: Session, token: str, now: datetime) -> ApiToken | None:
    """The active token record for a presented bearer token, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    record = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_digest(token))).one_or_none()
    if record is None or not is_active(record, now):
        return None
    if record.last_used_at is None or now - as_utc(record.last_used_at) >= _TOUCH_EVERY:
        record.last_used_at = now
    return record


def revoke_token(session: Session, token_id: str, now: datetime) -> ApiToken:
    """Revoke a token (idempotent: revoking a revoked token keeps its first revocation time)."""
    record = session.get(ApiToken, token_id)
    if record is None:
        raise NotFoundError(f"no API token with id {token_id!r}")
    if record.revoked_at is None:
        record.revoked_at = now
        session.flush()
    return record
