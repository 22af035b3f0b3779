"""The database: URL resolution, engine with SQLite pragmas, and migration to the latest schema on open."""

from __future__ import annotations

import threading
import weakref
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


# What a database says when it cannot write (disk or quota full, I/O error, read-only file): SQLite's messages,
# PostgreSQL's SQLSTATE classes 53 (insufficient resources: disk_full …) and 58 (system error: io_error …).
_SQLITE_STORAGE_FAILURES = ("disk is full", "disk i/o error", "readonly database", "no space left")
_STORAGE_SQLSTATES = ("53", "58", "25006")


def storage_failure(error: BaseException) -> str | None:
    """ "full" or "failing" when ``error`` (a DBAPI error, wrapped or not) says the database cannot write."""
    original = getattr(error, "orig", None) or error
    sqlstate = str(getattr(original, "sqlstate", "") or getattr(original, "pgcode", "") or "")
    message = str(original).lower()
    if sqlstate.startswith("53100") or "disk is full" in message or "no space left" in message:
        return "full"
    if sqlstate.startswith(_STORAGE_SQLSTATES) or any(m in message for m in _SQLITE_STORAGE_FAILURES):
        return "failing"
    return None


class StorageHealth:
    """Whether the database's last write failed for lack of storage, until a write succeeds again: what
    ``/api/health`` reports besides reachability (a full disk still answers SELECT 1)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._problem: str | None = None

    def failed(self, problem: str) -> None:
        with self._lock:
            self._problem = problem

    def wrote(self) -> None:
        with self._lock:
            self._problem = None

    @property
    def problem(self) -> str | None:
        with self._lock:
            return self._problem


_HEALTH: weakref.WeakKeyDictionary[Engine, StorageHealth] = weakref.WeakKeyDictionary()


def storage_health(engine: Engine) -> StorageHealth:
    """The write health of ``engine`` (tracked from its first use)."""
    health = _HEALTH.get(engine)
    if health is None:
        health = _HEALTH[engine] = StorageHealth()
        event.listen(engine, "handle_error", lambda context: _on_error(health, context.original_exception))
    return health


def _on_error(health: StorageHealth, error: BaseException) -> None:
    problem = storage_failure(error)
    if problem is not None:
        health.failed(problem)


def _track_writes(sessions: sessionmaker[Session], health: StorageHealth) -> None:
    """A committed transaction that wrote something proves the database writes again."""

    def flushed(session: Session, _context: Any) -> None:
        session.info["lfr_wrote"] = True

    def committed(session: Session) -> None:
        if session.info.pop("lfr_wrote", False):
            health.wrote()

    event.listen(sessions, "after_flush", flushed)
    event.listen(sessions, "after_commit", committed)


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
    def health(self) -> StorageHealth:
        return storage_health(self.engine)

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
    sessions = sessionmaker(engine, expire_on_commit=False)
    _track_writes(sessions, storage_health(engine))
    return Database(engine, sessions)
