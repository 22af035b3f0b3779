"""The database: URL resolution, engine with SQLite pragmas, and migration to the latest schema on open."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from openlfr.config.models import Settings
from openlfr.files import DIR_MODE, private_dir, private_file
from openlfr.store.errors import StorageError

DEFAULT_DB_FILE = "openlfr.db"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def database_url(settings: Settings) -> URL:
    """The configured URL, or the embedded SQLite file under ``data_dir``; ``postgresql://`` means psycopg 3."""
    if not settings.database_url:
        return URL.create("sqlite+pysqlite", database=str(settings.data_dir / DEFAULT_DB_FILE))
    try:
        url = make_url(settings.database_url)
    except ArgumentError as exc:
        raise StorageError(f"database URL is not a valid SQLAlchemy URL: {exc}") from exc
    # SQLAlchemy's default PostgreSQL driver is psycopg2, which we do not ship.
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise StorageError(f"unsupported database {url.get_backend_name()!r}: use SQLite or PostgreSQL")
    return url


def safe_url(url: URL) -> str:
    """The URL without its password, for messages and logs."""
    return url.render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers (the API) do not block the writer (an import). secure_delete: erased rows are
    # overwritten in the file, not merely unlinked from the b-tree.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_db_engine(url: URL) -> Engine:
    try:
        if url.get_backend_name() == "sqlite":
            if url.database and url.database != ":memory:":
                # Templates and password hashes: the file is the owner's only (its -wal and -shm files
                # inherit its mode from SQLite), created so before SQLite first opens it.
                path = Path(url.database)
                path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
                private_file(path)
            engine = create_engine(url)
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True)
    except (NoSuchModuleError, ArgumentError) as exc:
        raise StorageError(f"cannot use database {safe_url(url)}: {exc}") from exc
    except OSError as exc:
        raise StorageError(f"cannot create the database directory for {safe_url(url)}: {exc}") from exc


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest Alembic revision (creates it on first use)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@dataclass(frozen=True, slots=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends normally and rolls back otherwise."""
        with self.sessions.begin() as session:
            yield session

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def close(self) -> None:
        self.engine.dispose()


def open_database(settings: Settings) -> Database:
    """Connect, migrate to the latest schema, and return the database; clear errors, never tracebacks. The
    data folder is made private (0700) first (created for the embedded database; tightened if it exists,
    whichever database is used: it holds the media store)."""
    try:
        if settings.database_url is None or settings.data_dir.exists():
            private_dir(settings.data_dir)
    except OSError as exc:
        raise StorageError(f"cannot create the data folder {settings.data_dir}: {exc.strerror or exc}") from exc
    url = database_url(settings)
    engine = create_db_engine(url)
    try:
        migrate(engine)
    except DBAPIError as exc:
        engine.dispose()
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StorageError(f"cannot open database {safe_url(url)}: {detail}") from exc
    return Database(engine, sessionmaker(engine, expire_on_commit=False))
