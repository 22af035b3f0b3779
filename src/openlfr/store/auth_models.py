"""SQLAlchemy models of the operator accounts: users, console sessions, API tokens and competence records.

Nothing here holds a usable secret: passwords are argon2 hashes, and session and API token ids are the
sha256 of the random values handed to the client, so a copy of the database lets nobody log in.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from openlfr.store.models import Base, UTCDateTime, new_id
from openlfr.utc import utcnow


class User(Base):
    # "user" is a reserved word in PostgreSQL.
    __tablename__ = "app_user"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuthSession(Base):
    """A console login. ``id`` is the sha256 hex of the cookie value, never the value itself."""

    __tablename__ = "auth_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # "console" (a browser cookie) or "cli" (`lfr login`): a command-line session is no cookie.
    kind: Mapped[str] = mapped_column(String(10), default="console")


class ApiToken(Base):
    """A bearer token for a machine client, scoped to one role. Shown once at creation; stored as sha256."""

    __tablename__ = "api_token"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # A copy of the creator's username, not a foreign key: the record must outlive the account.
    created_by: Mapped[str] = mapped_column(String(64))
    # The creator's user id: every authentication checks that this account is enabled and that its role still
    # covers the token's (a token dies with its creator's disablement or demotion). None: refused.
    created_by_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class LoginGuard(Base):
    """One row that every login reservation updates first: it serialises the reservations (the database's
    write lock on SQLite, the row lock on PostgreSQL), so two parallel attempts cannot both see room."""

    __tablename__ = "login_guard"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    reservations: Mapped[int] = mapped_column(Integer, default=0)


class LoginAttempt(Base):
    """A login attempt inside the rate-limit window: reserved ("pending") before the password hash is
    checked, "failed" after a wrong password; deleted on success. Keys are sha256 digests, never raw
    usernames or addresses (a mistyped password often lands in the username field)."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pair_key: Mapped[str] = mapped_column(String(64), index=True)
    client_key: Mapped[str] = mapped_column(String(64), index=True)
    account_key: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LoginKnownClient(Base):
    """A client (address digest) from which an account logged in successfully: exempt from the account-wide
    backoff, so failures from elsewhere cannot lock the account out of the places it is used from."""

    __tablename__ = "login_known_client"

    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    client_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_success_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CompetenceRecord(Base):
    """A user's training in one competence (``openlfr.auth.competence``): never updated nor deleted while the
    account exists; a newer record (the next ``revision``) supersedes it and the history stays."""

    __tablename__ = "user_competence"
    # One record per revision: two supervisors recording at once cannot both supersede the same record.
    __table_args__ = (UniqueConstraint("user_id", "competence", "revision"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    competence: Mapped[str] = mapped_column(String(20))
    revision: Mapped[int] = mapped_column(Integer)
    supersedes_id: Mapped[str | None] = mapped_column(String(32), default=None)
    course: Mapped[str] = mapped_column(String(200))
    passed_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    """the last day on which the record counts"""
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_by_account: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
