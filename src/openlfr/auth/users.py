"""User accounts: create, find, list, change role, disable. Every change keeps at least one enabled admin."""

from __future__ import annotations

import re
from datetime import datetime

from argon2 import PasswordHasher
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from openlfr.auth.errors import AccountInvalidError, LastAdminError
from openlfr.auth.passwords import check_password_rules, hash_password
from openlfr.auth.roles import Role
from openlfr.store.auth_models import AuthSession, User
from openlfr.store.errors import ConflictError, NotFoundError

# Lower case so that "Alice" and "alice" cannot be two accounts; no spaces or quotes so names are safe in
# logs and audit lines.
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME_PATTERN.fullmatch(name):
        raise AccountInvalidError(
            "a username is 1-64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AccountInvalidError(f"unknown role {role!r}: one of {', '.join(r.value for r in Role)}") from None


def find_user(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username.strip().lower())).one_or_none()


def get_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"no user with id {user_id!r}")
    return user


def get_user_by_name(session: Session, username: str) -> User:
    user = find_user(session, username)
    if user is None:
        raise NotFoundError(f"no user named {username!r} (see `lfr user list`)")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def create_user(session: Session, hasher: PasswordHasher, username: str, password: str, role: Role | str) -> User:
    name = normalise_username(username)
    check_password_rules(password, name)
    if find_user(session, name) is not None:
        raise ConflictError(f"a user named {name!r} already exists")
    user = User(username=name, password_hash=hash_password(hasher, password), role=str(parse_role(str(role))))
    session.add(user)
    session.flush()
    return user


def _enabled_admins(session: Session) -> int:
    query = select(func.count()).select_from(User).where(User.role == Role.ADMIN.value, User.disabled.is_(False))
    return int(session.scalar(query) or 0)


def _guard_last_admin(session: Session, user: User) -> None:
    if user.role == Role.ADMIN.value and not user.disabled and _enabled_admins(session) <= 1:
        raise LastAdminError(f"{user.username!r} is the last enabled admin: make another admin first")


def set_role(session: Session, user: User, role: Role | str, now: datetime) -> User:
    new_role = parse_role(str(role))
    if new_role.value != user.role:
        _guard_last_admin(session, user)
        user.role = new_role.value
        user.updated_at = now
        session.flush()
    return user


def set_disabled(session: Session, user: User, disabled: bool, now: datetime) -> User:
    """Disable (ending every session of the user at once) or re-enable an account."""
    if disabled and not user.disabled:
        _guard_last_admin(session, user)
        session.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
    if disabled != user.disabled:
        user.disabled = disabled
        user.updated_at = now
        session.flush()
    return user


def set_password(session: Session, hasher: PasswordHasher, user: User, password: str, now: datetime) -> User:
    """Replace the password and end every session of the user."""
    check_password_rules(password, user.username)
    user.password_hash = hash_password(hasher, password)
    user.password_changed_at = now
    user.updated_at = now
    session.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
    session.flush()
    return user
