"""User accounts: create, find, list, change role, disable, re-enable, set a password — each change checked
against the principal making it and written to the audit chain in the same transaction.

Who may change an account (``openlfr.auth.permissions.GRANTS``): admins manage admin and auditor accounts,
supervisors manage supervisor and operator accounts; a role change must stay on the changer's side (nobody
can move an account across, so an admin can never make, or become, a supervisor). Nobody changes their own
role or enabled state; a password is changed by its owner or by whoever manages the account. The last
enabled admin and the last enabled supervisor cannot be disabled or moved. The very first account of each
side — on an empty database, or once no enabled admin (supervisor) is left — is made by ``bootstrap_user``,
which only the server's command line calls (whoever holds the database holds everything anyway).
"""

from __future__ import annotations

import re
from datetime import datetime

from argon2 import PasswordHasher
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from openlfr.audit import append_audit
from openlfr.auth.errors import AccountInvalidError, LastAdminError, LastSupervisorError, PermissionDeniedError
from openlfr.auth.passwords import check_password_rules, hash_password
from openlfr.auth.permissions import GRANTS, MANAGING_ROLE, Permission
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role
from openlfr.store.auth_models import ApiToken, AuthSession, User
from openlfr.store.errors import ConflictError, NotFoundError

# Lower case so that "Alice" and "alice" cannot be two accounts; no spaces, quotes or ':' so names are safe in
# logs and audit lines and can never look like "token:<name>" or "system:<name>".
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
BOOTSTRAP = Principal.system("bootstrap")


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


def user_principal(user: User, *, expires_at: datetime | None = None, session_value: str | None = None) -> Principal:
    return Principal(
        "user",
        user.id,
        user.username,
        Role(user.role),
        user.username,
        user.id,
        expires_at=expires_at,
        session_value=session_value,
    )


def _check_grants(by: Principal, *roles: Role, what: str) -> None:
    by.require(Permission.USERS_MANAGE)
    assert by.role is not None  # a user (USERS_MANAGE is for people only)
    granted = GRANTS[by.role]
    for role in roles:
        if role not in granted:
            manager = MANAGING_ROLE[role].value
            raise PermissionDeniedError(
                f"{by.role.value}s cannot {what} {role.value} accounts: {manager}s manage {role.value} accounts"
            )


def _not_self(by: Principal, user: User, what: str) -> None:
    if by.account_id == user.id:
        raise PermissionDeniedError(
            f"nobody may {what} their own account: ask another {MANAGING_ROLE[Role(user.role)]}"
        )


def _audit(session: Session, by: Principal, action: str, user: User, details: dict[str, object]) -> None:
    append_audit(
        session,
        actor=by.actor,
        action=action,
        target_type="user",
        target_id=user.id,
        details={"username": user.username, **details},
    )


def _check_name_free(session: Session, name: str) -> None:
    if find_user(session, name) is not None:
        raise ConflictError(f"a user named {name!r} already exists")
    if session.scalars(select(ApiToken.id).where(ApiToken.name == name)).first() is not None:
        raise ConflictError(f"{name!r} is the name of an API token: choose another username")


def _insert(session: Session, hasher: PasswordHasher, name: str, password: str, role: Role) -> User:
    check_password_rules(password, name)
    _check_name_free(session, name)
    user = User(username=name, password_hash=hash_password(hasher, password), role=role.value)
    session.add(user)
    session.flush()
    return user


def create_user(
    session: Session,
    hasher: PasswordHasher,
    username: str,
    password: str,
    role: Role | str,
    *,
    by: Principal,
) -> User:
    """A new account of a role ``by`` grants; audited as ``user.create``."""
    name, new_role = normalise_username(username), parse_role(str(role))
    _check_grants(by, new_role, what="create")
    user = _insert(session, hasher, name, password, new_role)
    _audit(session, by, "user.create", user, {"role": user.role})
    return user


def _enabled(session: Session, role: Role) -> int:
    query = select(func.count()).select_from(User).where(User.role == role.value, User.disabled.is_(False))
    return int(session.scalar(query) or 0)


def bootstrap_needed(session: Session, role: Role) -> bool:
    """Whether nobody could create an account of ``role`` (no enabled account of the role that grants it)."""
    return _enabled(session, MANAGING_ROLE[role]) == 0


def bootstrap_user(
    session: Session, hasher: PasswordHasher, username: str, password: str, role: Role | str, *, os_user: str
) -> User:
    """The first admin, or the first supervisor: only while no enabled account of that role exists (the
    server's command line; audited as ``system:bootstrap`` with the operating-system user)."""
    name, new_role = normalise_username(username), parse_role(str(role))
    if new_role not in (Role.ADMIN, Role.SUPERVISOR):
        manager = MANAGING_ROLE[new_role].value
        raise PermissionDeniedError(f"{new_role.value} accounts are created by a signed-in {manager} (lfr login)")
    if not bootstrap_needed(session, new_role):
        raise PermissionDeniedError(
            f"an enabled {new_role.value} exists: sign in as one (lfr login) to create {new_role.value} accounts"
        )
    user = _insert(session, hasher, name, password, new_role)
    _audit(session, BOOTSTRAP, "user.create", user, {"role": user.role, "bootstrap": True, "os_user": os_user})
    return user


def _guard_last_manager(session: Session, user: User) -> None:
    role = Role(user.role)
    if user.disabled or role not in (Role.ADMIN, Role.SUPERVISOR) or _enabled(session, role) > 1:
        return
    if role is Role.ADMIN:
        raise LastAdminError(f"{user.username!r} is the last enabled admin: make another admin first")
    raise LastSupervisorError(f"{user.username!r} is the last enabled supervisor: make another supervisor first")


def _end_sessions(session: Session, user: User) -> None:
    session.execute(delete(AuthSession).where(AuthSession.user_id == user.id))


def set_role(session: Session, user: User, role: Role | str, *, by: Principal, now: datetime) -> User:
    """Move an account to another role on the same side; its sessions end (they carry the old role)."""
    new_role = parse_role(str(role))
    _check_grants(by, Role(user.role), new_role, what="change the role of")
    _not_self(by, user, "change the role of")
    if new_role.value != user.role:
        _guard_last_manager(session, user)
        previous = user.role
        user.role = new_role.value
        user.updated_at = now
        _end_sessions(session, user)
        session.flush()
        _audit(session, by, "user.update", user, {"role": user.role, "previous_role": previous})
    return user


def set_disabled(session: Session, user: User, disabled: bool, *, by: Principal, now: datetime) -> User:
    """Disable (ending every session at once; its tokens stop working too) or re-enable an account."""
    _check_grants(by, Role(user.role), what="disable" if disabled else "re-enable")
    _not_self(by, user, "disable" if disabled else "re-enable")
    if disabled and not user.disabled:
        _guard_last_manager(session, user)
        _end_sessions(session, user)
    if disabled != user.disabled:
        user.disabled = disabled
        user.updated_at = now
        session.flush()
        _audit(session, by, "user.update", user, {"disabled": disabled})
    return user


def set_password(
    session: Session, hasher: PasswordHasher, user: User, password: str, *, by: Principal, now: datetime
) -> User:
    """Replace the password (its owner, or whoever manages the account) and end every session of the user."""
    if by.account_id != user.id:
        _check_grants(by, Role(user.role), what="set the password of")
    elif by.kind != "user":
        raise PermissionDeniedError("a password is changed by a signed-in person, not an API token")
    check_password_rules(password, user.username)
    user.password_hash = hash_password(hasher, password)
    user.password_changed_at = now
    user.updated_at = now
    _end_sessions(session, user)
    session.flush()
    _audit(session, by, "user.set_password", user, {})
    return user
