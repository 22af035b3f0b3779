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

from openlfr.auth.errors import AccountInvalidError, LastAdminError
from openlfr.auth.tokens import authenticate_token, create_token, revoke_token
from openlfr.auth.users import create_user, find_user, set_disabled, set_role
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
            root = create_user(session, hasher, "Root", PASSWORD, "admin")
            assert root.username == "root" and root.password_hash.startswith("$argon2id$")
            assert PASSWORD not in root.password_hash
            with pytest.raises(ConflictError):
                create_user(session, hasher, "ROOT", PASSWORD, "operator")
            for name, password, role in (("a b", PASSWORD, "admin"), ("ok", "short", "admin"), ("ok", PASSWORD, "god")):
                with pytest.raises(AccountInvalidError):
                    create_user(session, hasher, name, password, role)
            with pytest.raises(LastAdminError):
                set_role(session, root, "operator", NOW)
            with pytest.raises(LastAdminError):
                set_disabled(session, root, True, NOW)
            issued = create_token(session, "scraper", "auditor", "root", NOW)
            assert authenticate_token(session, issued.token, NOW) is not None
            revoke_token(session, issued.record.id, NOW)
            assert authenticate_token(session, issued.token, NOW) is None
        with db.session() as session:
            user = find_user(session, "root")
            assert user is not None and user.role == "admin"
    finally:
        db.close()
