"""Alembic environment: runs on the connection that ``openlfr.store.db.migrate`` passes in.

It deliberately does not configure logging: the application owns the logging setup.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

import openlfr.store.alert_models
import openlfr.store.auth_models
import openlfr.store.camera_models
import openlfr.store.governance_models
import openlfr.store.media_models
import openlfr.store.notice_models  # noqa: F401  (registers audit, deployment and signage tables)
from openlfr.store.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things in place: batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # Developer use (`alembic -c src/openlfr/store/alembic.ini revision --autogenerate`): a URL from the ini.
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "sqlite:///var/openlfr.db")
    with engine.begin() as connection:
        _run(connection)
    engine.dispose()


run()
