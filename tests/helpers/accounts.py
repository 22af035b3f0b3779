"""Accounts and principals for tests: users inserted directly (fixtures, not the rules under test), principals
for them, and tokens minted through the real rules by an owner of the same role."""

from __future__ import annotations

from datetime import datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role
from openlfr.auth.tokens import create_token
from openlfr.auth.users import find_user, user_principal
from openlfr.store.auth_models import User

PASSWORD = "correct horse battery staple"


def fast_hasher() -> PasswordHasher:
    # The production parameters cost ~100 ms per hash; the tests log in hundreds of times.
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def insert_user(
    session: Session, username: str, role: Role | str, password: str = PASSWORD, hasher: PasswordHasher | None = None
) -> User:
    """A user row as a fixture (no grant rules: the test is about something else)."""
    user = User(username=username, password_hash=(hasher or fast_hasher()).hash(password), role=str(Role(role)))
    session.add(user)
    session.flush()
    return user


def person(session: Session, username: str, role: Role | str) -> Principal:
    """The principal of ``username`` (inserted with ``role`` when it does not exist)."""
    user = find_user(session, username) or insert_user(session, username, role)
    return user_principal(user)


def mint_token(
    session: Session,
    role: Role | str,
    now: datetime,
    name: str = "machine",
    expires_in: timedelta | None = None,
    owner: str | None = None,
) -> str:
    """A token for ``role`` minted by ``owner`` (default ``owner-<role>``, a user of that same role)."""
    role = Role(role)
    by = person(session, owner or f"owner-{role.value}", role)
    return create_token(session, name, role, by=by, now=now, expires_in=expires_in).token
