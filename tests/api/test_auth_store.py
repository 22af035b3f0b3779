"""The account tables on SQLite and PostgreSQL: migration in the chain, models match, rules hold."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from openlfr.audit import iter_entries
from openlfr.auth.errors import AccountInvalidError, LastAdminError, LastSupervisorError, PermissionDeniedError
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role
from openlfr.auth.tokens import authenticate_token, create_token, revoke_token
from openlfr.auth.users import bootstrap_user, create_user, find_user, set_disabled, set_role, user_principal
from openlfr.config.models import Settings
from openlfr.store.db import MIGRATIONS_DIR, open_database
from openlfr.store.errors import ConflictError
from openlfr.store.models import Base
from tests.api.conftest import PASSWORD, fast_hasher

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def test_auth_migration_is_in_the_chain_and_matches_the_models(database_url: str, tmp_path: Path) -> None:
    import openlfr.store.auth_models  # noqa: F401

    script = ScriptDirectory.from_config(_alembic_config())
    assert script.get_revision("0100").down_revision == "0001"
    db = open_database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        assert {"app_user", "auth_session", "api_token"} <= set(inspect(db.engine).get_table_names())
        with db.engine.connect() as connection:
            assert (
                connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
                == script.get_current_head()
            )
            diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
        assert diff == []
    finally:
        db.close()


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def test_account_rules(database_url: str, tmp_path: Path) -> None:
    db = open_database(Settings(data_dir=tmp_path, database_url=database_url))
    hasher = fast_hasher()
    try:
        with db.session() as session:
            # The first admin and the first supervisor come from the bootstrap, on the server, once.
            root = bootstrap_user(session, hasher, "Root", PASSWORD, "admin", os_user="ops")
            assert root.username == "root" and root.password_hash.startswith("$argon2id$")
            assert PASSWORD not in root.password_hash
            with pytest.raises(PermissionDeniedError, match="an enabled admin exists"):
                bootstrap_user(session, hasher, "root2", PASSWORD, "admin", os_user="ops")
            with pytest.raises(PermissionDeniedError, match="created by a signed-in"):
                bootstrap_user(session, hasher, "op", PASSWORD, "operator", os_user="ops")
            sgt = bootstrap_user(session, hasher, "sgt", PASSWORD, "supervisor", os_user="ops")
            admin, supervisor = user_principal(root), user_principal(sgt)
            with pytest.raises(ConflictError):
                create_user(session, hasher, "ROOT", PASSWORD, "auditor", by=admin)
            for name, password, role in (("a b", PASSWORD, "admin"), ("ok", "short", "admin"), ("ok", PASSWORD, "god")):
                with pytest.raises(AccountInvalidError):
                    create_user(session, hasher, name, password, role, by=admin)
            # Administration and operations are separate: an admin can neither make nor become a supervisor.
            for role in ("supervisor", "operator"):
                with pytest.raises(PermissionDeniedError, match="supervisors manage"):
                    create_user(session, hasher, "mole", PASSWORD, role, by=admin)
            with pytest.raises(PermissionDeniedError):
                create_user(session, hasher, "mole", PASSWORD, "admin", by=supervisor)
            auditor = create_user(session, hasher, "aud", PASSWORD, "auditor", by=admin)
            with pytest.raises(PermissionDeniedError, match="supervisors manage supervisor"):
                set_role(session, auditor, "supervisor", by=admin, now=NOW)
            op = create_user(session, hasher, "op", PASSWORD, "operator", by=supervisor)
            with pytest.raises(PermissionDeniedError):
                set_role(session, op, "admin", by=supervisor, now=NOW)
            # Nobody changes their own role or state.
            with pytest.raises(PermissionDeniedError, match="own account"):
                set_role(session, root, "auditor", by=admin, now=NOW)
            # The last enabled manager of each side stays (a second one could otherwise remove it).
            root2 = create_user(session, hasher, "root2", PASSWORD, "admin", by=admin)
            set_disabled(session, root2, True, by=admin, now=NOW)
            with pytest.raises(LastAdminError):
                set_disabled(session, root, True, by=user_principal(root2), now=NOW)
            with pytest.raises(LastSupervisorError):
                set_role(session, sgt, "operator", by=_other_supervisor(), now=NOW)
            (created,) = [e for e in iter_entries(session, action="user.create") if e.target_id == op.id]
            assert created.actor == "user:sgt" and created.details["role"] == "operator"
            (boot,) = [e for e in iter_entries(session, action="user.create") if e.target_id == root.id]
            assert boot.actor == "system:bootstrap" and boot.details["os_user"] == "ops"
        with db.session() as session:
            user = find_user(session, "root")
            assert user is not None and user.role == "admin"
    finally:
        db.close()


def _other_supervisor() -> Principal:
    # A supervisor principal that is not sgt (an account that no longer exists): the guard speaks first.
    return Principal("user", "0" * 32, "ghost", Role.SUPERVISOR, "ghost", "0" * 32)


def test_tokens_are_machine_identities_within_their_creators_powers(database_url: str, tmp_path: Path) -> None:
    db = open_database(Settings(data_dir=tmp_path, database_url=database_url))
    hasher = fast_hasher()
    try:
        with db.session() as session:
            root = bootstrap_user(session, hasher, "root", PASSWORD, "admin", os_user="ops")
            sgt = bootstrap_user(session, hasher, "sgt", PASSWORD, "supervisor", os_user="ops")
            sgt2 = create_user(session, hasher, "sgt2", PASSWORD, "supervisor", by=user_principal(sgt))
            admin, supervisor = user_principal(root), user_principal(sgt)
            # An admin cannot mint supervisor or operator powers (the finding: a token named "demo-supervisor").
            for role in ("supervisor", "operator"):
                with pytest.raises(PermissionDeniedError, match="never holds a permission"):
                    create_token(session, "demo-supervisor", role, by=admin, now=NOW)
            with pytest.raises(ConflictError, match="person's name"):
                create_token(session, "sgt2", "operator", by=supervisor, now=NOW)
            scraper = create_token(session, "scraper", "auditor", by=admin, now=NOW)
            with pytest.raises(ConflictError, match="API token"):
                create_user(session, hasher, "scraper", PASSWORD, "auditor", by=admin)
            machine = authenticate_token(session, scraper.token, NOW)
            assert machine is not None and (machine.label, machine.account) == ("token:scraper", "root")
            # A token cannot mint tokens or manage accounts, whatever its role.
            admin_token = create_token(session, "ops-bot", "admin", by=admin, now=NOW)
            bot = authenticate_token(session, admin_token.token, NOW)
            assert bot is not None
            with pytest.raises(PermissionDeniedError, match="signed-in person"):
                create_token(session, "x", "auditor", by=bot, now=NOW)
            with pytest.raises(PermissionDeniedError, match="signed-in person"):
                set_disabled(session, sgt2, True, by=bot, now=NOW)
            # It dies with its creator's demotion or disablement, and revocation.
            field_token = create_token(session, "field", "operator", by=user_principal(sgt2), now=NOW)
            assert authenticate_token(session, field_token.token, NOW) is not None
            set_role(session, sgt2, "operator", by=supervisor, now=NOW)
            assert authenticate_token(session, field_token.token, NOW) is not None  # operator still covers it
            own = create_token(session, "own", "supervisor", by=supervisor, now=NOW)
            sgt3 = create_user(session, hasher, "sgt3", PASSWORD, "supervisor", by=supervisor)
            set_disabled(session, sgt, True, by=user_principal(sgt3), now=NOW)
            assert authenticate_token(session, own.token, NOW) is None
            set_disabled(session, sgt, False, by=user_principal(sgt3), now=NOW)
            assert authenticate_token(session, own.token, NOW) is not None
            set_role(session, sgt, "operator", by=user_principal(sgt3), now=NOW)
            assert authenticate_token(session, own.token, NOW) is None  # demoted below the token's role
            revoke_token(session, scraper.record.id, by=admin, now=NOW)
            assert authenticate_token(session, scraper.token, NOW) is None
    finally:
        db.close()
