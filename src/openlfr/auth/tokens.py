"""API tokens for machine clients: random, shown once, stored as sha256, scoped to a role, revocable.

A token is a machine identity, never a person: its name has a namespace of its own (records show
``token:<name>``, and no token may be named like an account), it is minted by a signed-in person only, its
role may hold no permission its creator's role lacks, and it works only while its creator is enabled and
still holds a role that covers it — checked on every request, so disabling or demoting the creator stops
the token at once.

sha256 (not argon2) is enough here: a token carries 256 bits of randomness, so nobody can guess it from
its hash, and a fast hash keeps every bearer request cheap.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.audit import append_audit
from openlfr.auth.errors import AccountInvalidError, PermissionDeniedError
from openlfr.auth.permissions import Permission, within
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role
from openlfr.auth.users import find_user, parse_role
from openlfr.store.auth_models import ApiToken, User
from openlfr.store.errors import ConflictError, NotFoundError
from openlfr.store.models import new_id
from openlfr.utc import as_utc

TOKEN_PREFIX = "lfr_"
# "token:" + 58 characters fits every 64-character "by" column.
TOKEN_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,57}$")
# last_used_at is written at most this often, so a busy scraper does not turn every read into a write.
_TOUCH_EVERY = timedelta(minutes=1)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    record: ApiToken
    token: str
    """the only copy of the secret: give it to the client, then forget it"""


def normalise_token_name(name: str) -> str:
    value = name.strip().lower()
    if not TOKEN_NAME_PATTERN.fullmatch(value):
        raise AccountInvalidError(
            "a token name is 1-58 characters: letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


def create_token(
    session: Session,
    name: str,
    role: Role | str,
    *,
    by: Principal,
    now: datetime,
    expires_in: timedelta | None = None,
) -> IssuedToken:
    """Mint a token for ``role``, which must lie within ``by``'s own role; audited as ``token.create``."""
    by.require(Permission.TOKENS_MANAGE)
    token_role = parse_role(str(role))
    assert by.role is not None and by.account_id is not None  # a signed-in person (TOKENS_MANAGE)
    if not within(token_role, by.role):
        raise PermissionDeniedError(
            f"{by.role.value}s cannot mint {token_role.value} tokens: a token never holds a permission its "
            "creator's role lacks"
        )
    value = normalise_token_name(name)
    if find_user(session, value) is not None:
        raise ConflictError(f"{value!r} is a username: a token cannot take a person's name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        id=new_id(),
        name=value,
        role=token_role.value,
        token_hash=token_digest(secret),
        created_by=by.account,
        created_by_id=by.account_id,
        created_at=now,
        expires_at=now + expires_in if expires_in is not None else None,
    )
    session.add(record)
    session.flush()
    append_audit(
        session,
        actor=by.actor,
        action="token.create",
        target_type="api_token",
        target_id=record.id,
        details={
            "name": record.name,
            "role": record.role,
            "expires_at": None if expires_in is None else str(now + expires_in),
        },
    )
    return IssuedToken(record, secret)


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at)))


def is_active(record: ApiToken, now: datetime) -> bool:
    return record.revoked_at is None and (record.expires_at is None or as_utc(record.expires_at) > now)


def creator_covers(session: Session, record: ApiToken) -> User | None:
    """The token's creator when it is enabled and its role still covers the token's; else None."""
    creator = session.get(User, record.created_by_id) if record.created_by_id else None
    if creator is None or creator.disabled or not within(Role(record.role), Role(creator.role)):
        return None
    return creator


def token_principal(record: ApiToken, creator: User) -> Principal:
    return Principal(
        "token",
        record.id,
        record.name,
        Role(record.role),
        creator.username,
        creator.id,
        expires_at=as_utc(record.expires_at) if record.expires_at is not None else None,
    )


def authenticate_token(session: Session, token: str, now: datetime) -> Principal | None:
    """The principal of a presented bearer token, or None (unknown, expired, revoked, or its creator
    disabled or demoted)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    record = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_digest(token))).one_or_none()
    if record is None or not is_active(record, now):
        return None
    creator = creator_covers(session, record)
    if creator is None:
        return None
    if record.last_used_at is None or now - as_utc(record.last_used_at) >= _TOUCH_EVERY:
        record.last_used_at = now
    return token_principal(record, creator)


def still_valid(session: Session, token_id: str, role: Role, now: datetime) -> bool:
    """Whether the token ``token_id`` would still authenticate with ``role`` (the live stream re-checks)."""
    record = session.get(ApiToken, token_id)
    return (
        record is not None
        and record.role == role.value
        and is_active(record, now)
        and creator_covers(session, record) is not None
    )


def revoke_token(session: Session, token_id: str, *, by: Principal, now: datetime) -> ApiToken:
    """Revoke a token (idempotent: revoking a revoked token keeps its first revocation time). Revoking is a
    safety step: whoever holds tokens:manage may revoke any token."""
    by.require(Permission.TOKENS_MANAGE)
    record = session.get(ApiToken, token_id)
    if record is None:
        raise NotFoundError(f"no API token with id {token_id!r}")
    if record.revoked_at is None:
        record.revoked_at = now
        session.flush()
        append_audit(
            session,
            actor=by.actor,
            action="token.revoke",
            target_type="api_token",
            target_id=record.id,
            details={"name": record.name},
        )
    return record
