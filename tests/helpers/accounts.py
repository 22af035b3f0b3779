"""Accounts and principals for tests: users inserted directly (fixtures, not the rules under test), principals
for them, and tokens minted through the real rules by an owner of the same role.

Operator and supervisor accounts made here are trained: they get current competence records (operator; and
supervisor for supervisors, who decide escalations too), so that tests about something else can adjudicate and
authorise (``governance.require_competence`` is on by default). Tests of the requirement itself pass
``competent=False``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from openlfr.auth.permissions import MANAGING_ROLE
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role
from openlfr.auth.tokens import create_token
from openlfr.auth.users import find_user, user_principal
from openlfr.store.auth_models import CompetenceRecord, User

PASSWORD = "correct horse battery staple"


def fast_hasher() -> PasswordHasher:
    # The production parameters cost ~100 ms per hash; the tests log in hundreds of times.
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


# Long enough on both sides for every fixed clock the tests use.
TRAINED_FROM, TRAINED_UNTIL = date(2000, 1, 1), date(2099, 12, 31)
TRAINED_FOR = {Role.OPERATOR: ("operator",), Role.SUPERVISOR: ("operator", "supervisor")}


def train(session: Session, user: User) -> None:
    """Current competence records for what ``user``'s role does (as a fixture, recorded by nobody real)."""
    for competence in TRAINED_FOR.get(Role(user.role), ()):
        session.add(
            CompetenceRecord(
                user_id=user.id,
                competence=competence,
                revision=1,
                course=f"LFR {competence} course (test fixture)",
                passed_on=TRAINED_FROM,
                expires_on=TRAINED_UNTIL,
                recorded_by="training-unit",
                recorded_by_account="training-unit",
                recorded_at=datetime(2000, 1, 1, tzinfo=UTC),
            )
        )
    session.flush()


def insert_user(
    session: Session,
    username: str,
    role: Role | str,
    password: str = PASSWORD,
    hasher: PasswordHasher | None = None,
    *,
    competent: bool = True,
) -> User:
    """A user row as a fixture (no grant rules: the test is about something else); trained for its role
    unless ``competent`` is False."""
    user = User(username=username, password_hash=(hasher or fast_hasher()).hash(password), role=str(Role(role)))
    session.add(user)
    session.flush()
    if competent:
        train(session, user)
    return user


def person(session: Session, username: str, role: Role | str, *, competent: bool = True) -> Principal:
    """The principal of ``username`` (inserted with ``role`` — trained unless ``competent`` is False — when it
    does not exist)."""
    user = find_user(session, username) or insert_user(session, username, role, competent=competent)
    return user_principal(user)


def mint_token(
    session: Session,
    role: Role | str,
    now: datetime,
    name: str = "machine",
    expires_in: timedelta | None = None,
    owner: str | None = None,
) -> str:
    """A token for ``role`` minted by ``owner`` (default ``owner-<role that grants it>``: an admin mints admin
    and auditor tokens, a supervisor supervisor and operator tokens)."""
    role = Role(role)
    minter = MANAGING_ROLE[role]
    by = person(session, owner or f"owner-{minter.value}", minter)
    return create_token(session, name, role, by=by, now=now, expires_in=expires_in).token


def cli_token(url: str, data_dir: Path, role: Role | str = "supervisor", owner: str = "sgt") -> str:
    """An API token for command-line tests (``LFR_TOKEN``), minted in the database at ``url`` by ``owner``."""
    from openlfr.config.models import Settings
    from openlfr.store.db import open_database
    from openlfr.utc import utcnow

    db = open_database(Settings(data_dir=data_dir, database_url=url))
    try:
        with db.session() as session:
            return mint_token(session, role, utcnow(), name=f"cli-{owner}", owner=owner)
    finally:
        db.close()


def cli_sign_in(
    url: str, data_dir: Path, username: str = "sgt", role: Role | str = "supervisor", *, competent: bool = True
) -> None:
    """What `lfr login` leaves behind, for ``username`` (inserted with ``role`` — trained unless ``competent``
    is False — if needed): a CLI session in the database at ``url`` and its file in ``data_dir`` (the tests of
    `lfr login` itself go through the command)."""
    from openlfr.auth.sessions import start_session
    from openlfr.commands.common import cli_session_policy, database_identity, write_cli_session
    from openlfr.config.models import Settings
    from openlfr.store.db import open_database
    from openlfr.utc import utcnow

    settings = Settings(data_dir=data_dir, database_url=url)
    db = open_database(settings)
    try:
        with db.session() as session:
            user = find_user(session, username) or insert_user(session, username, role, competent=competent)
            issued = start_session(session, user, cli_session_policy(settings), utcnow(), kind="cli")
            write_cli_session(settings, issued.value, database_identity(session))
    finally:
        db.close()


def stand_in_supervisor(monkeypatch: object) -> Principal:
    """For command-line tests about something else than signing in: every governed command runs as the
    supervisor ``tester`` (signing in itself is tested in tests/api/test_user_cli.py)."""
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    tester = Principal("user", "0" * 32, "tester", Role.SUPERVISOR, "tester", "0" * 32)
    # Every command module is imported before the patch, and each one's own name for cli_principal patched:
    # a module imported for the first time under the patch would otherwise keep the stand-in for good (and
    # `lfr user create` in a later test would see a signed-in supervisor that is not there).
    import importlib
    import pkgutil

    import openlfr.commands

    modules = [
        importlib.import_module(m.name) for m in pkgutil.iter_modules(openlfr.commands.__path__, "openlfr.commands.")
    ]
    for module in modules:  # all imported first: none may import the stand-in in place of the real function
        if hasattr(module, "cli_principal"):
            monkeypatch.setattr(module, "cli_principal", lambda settings, session: tester)
    return tester
