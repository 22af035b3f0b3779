"""Logging in, for the API and the command line alike: rate limits, the password check, the audit entry.

Rate limits (kept in the database, so `lfr serve` and every `lfr login` share them and a restart forgets
nothing):

- **per (username, client)**: ``per_pair`` failures in ``window_s`` and that client gets 429 for that
  username — the classic lockout, but only for the place the guesses come from;
- **per client**: ``per_client`` failures in the window, whatever the usernames (password spraying);
- **per account, across clients**: no hard lock, which anyone could turn against the admins. After
  ``backoff_after`` failures in the window, attempts for that account from clients it has never logged in
  from wait an exponentially growing delay (1 s, 2 s, 4 s … up to ``backoff_max_s``) after the last one;
  clients it has logged in from before are not slowed. A distributed guesser gets a handful of guesses per
  delay; the account's owner, at their usual workstation, is never locked out.

Atomic: an attempt is *reserved* (counted) before the slow password hash runs, in a transaction serialised
by the one-row ``login_guard``, so 60 parallel wrong passwords get at most ``per_pair`` of them checked.

The audit chain records every success and failure. A failure for a username that is no account is recorded
as ``"account": "unknown"``: a password typed into the username field must not be kept forever.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from openlfr.audit import append_audit
from openlfr.auth.errors import InvalidLoginError, LoginRefusedError
from openlfr.auth.passwords import hash_password, verify_password
from openlfr.auth.users import find_user
from openlfr.store.auth_models import LoginAttempt, LoginGuard, LoginKnownClient, User
from openlfr.utc import as_utc

log = logging.getLogger(__name__)

GUARD_ID = 1
PENDING, FAILED = "pending", "failed"


@dataclass(frozen=True, slots=True)
class LoginLimits:
    per_pair: int
    per_client: int
    window_s: float
    backoff_after: int
    backoff_max_s: float


@dataclass
class LoginCounters:
    """Process-wide counts for /metrics."""

    failures_total: int = 0
    blocked_total: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, *, failures: int = 0, blocked: int = 0) -> None:
        with self._lock:
            self.failures_total += failures
            self.blocked_total += blocked


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class _Keys:
    pair: str
    client: str
    account: str

    @classmethod
    def of(cls, username: str, client: str) -> _Keys:
        name = username.strip().lower()
        return cls(_digest("pair", name, client), _digest("client", client), _digest("account", name))


def _retry(oldest: datetime, window_s: float, now: datetime) -> int:
    return max(1, math.ceil((as_utc(oldest) + timedelta(seconds=window_s) - now).total_seconds()))


def _window_wait(
    session: Session, column: InstrumentedAttribute[str], key: str, limit: int, window_s: float, now: datetime
) -> int | None:
    query = select(LoginAttempt.at).where(column == key).order_by(LoginAttempt.at.desc()).limit(limit)
    times = list(session.scalars(query))
    if len(times) < limit:
        return None
    return _retry(times[-1], window_s, now)


def _backoff_wait(session: Session, keys: _Keys, user: User | None, limits: LoginLimits, now: datetime) -> int | None:
    failed = session.scalar(
        select(func.count()).where(LoginAttempt.account_key == keys.account, LoginAttempt.state == FAILED)
    )
    excess = int(failed or 0) - limits.backoff_after
    if excess < 0:
        return None
    if user is not None and session.get(LoginKnownClient, (user.id, keys.client)) is not None:
        return None
    delay = min(limits.backoff_max_s, float(2 ** min(excess, 30)))
    last = session.scalar(select(func.max(LoginAttempt.at)).where(LoginAttempt.account_key == keys.account))
    if last is None:
        return None
    remaining = (as_utc(last) + timedelta(seconds=delay) - now).total_seconds()
    return math.ceil(remaining) if remaining > 0 else None


def reserve_attempt(session: Session, username: str, client: str, limits: LoginLimits, now: datetime) -> int:
    """Count an attempt before its password is checked (LoginRefusedError when a limit is reached); the
    caller commits at once, so parallel attempts see it. Returns the reservation id."""
    # First statement of the transaction: takes the write lock, so the counts below cannot go stale.
    session.execute(
        update(LoginGuard).where(LoginGuard.id == GUARD_ID).values(reservations=LoginGuard.reservations + 1)
    )
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - timedelta(seconds=limits.window_s)))
    keys = _Keys.of(username, client)
    waits = (
        _window_wait(session, LoginAttempt.pair_key, keys.pair, limits.per_pair, limits.window_s, now),
        _window_wait(session, LoginAttempt.client_key, keys.client, limits.per_client, limits.window_s, now),
        _backoff_wait(session, keys, find_user(session, username), limits, now),
    )
    worst = max((w for w in waits if w is not None), default=None)
    if worst is not None:
        raise LoginRefusedError(worst)
    attempt = LoginAttempt(pair_key=keys.pair, client_key=keys.client, account_key=keys.account, state=PENDING, at=now)
    session.add(attempt)
    session.flush()
    return attempt.id


@dataclass(frozen=True, slots=True)
class LoginRequest:
    username: str
    password: str
    client: str
    """the client address (API) or ``cli:<os user>@local`` (command line)"""
    channel: str
    """"api" or "cli": recorded in the audit entry"""


def login(
    sessions: sessionmaker[Session],
    hasher: PasswordHasher,
    limits: LoginLimits,
    request: LoginRequest,
    now: Callable[[], datetime],
    counters: LoginCounters | None = None,
) -> User:
    """The enabled user whose password this is (detached from any session), after the rate limits; every
    outcome but a refusal by the limits is audited. LoginRefusedError or InvalidLoginError otherwise."""
    counters = counters or LoginCounters()
    try:
        with sessions() as session:
            reservation = reserve_attempt(session, request.username, request.client, limits, now())
            session.commit()
            user = find_user(session, request.username)
            stored = user.password_hash if user is not None else None
    except LoginRefusedError:
        counters.add(blocked=1)
        log.warning("login refused (rate limit) from %s", request.client)
        raise
    correct = verify_password(hasher, stored, request.password)  # the slow part, outside any transaction
    with sessions() as session:
        user = find_user(session, request.username)
        attempt = session.get(LoginAttempt, reservation)
        if not correct or user is None or user.disabled:
            counters.add(failures=1)
            if attempt is not None:
                attempt.state, attempt.at = FAILED, now()
            append_audit(
                session,
                actor="anonymous",
                action="auth.login_failed",
                target_type="user",
                target_id=user.id if user is not None else None,
                details={
                    "account": user.username if user is not None else "unknown",
                    "ip": request.client,
                    "channel": request.channel,
                },
            )
            session.commit()
            log.info(
                "failed login for %s from %s",
                user.username if user is not None else "an unknown account",
                request.client,
            )
            raise InvalidLoginError("wrong username or password")
        keys = _Keys.of(request.username, request.client)
        session.execute(delete(LoginAttempt).where(LoginAttempt.pair_key == keys.pair, LoginAttempt.state == FAILED))
        if attempt is not None:
            session.delete(attempt)
        known_client = session.get(LoginKnownClient, (user.id, keys.client))
        if known_client is None:
            session.add(LoginKnownClient(user_id=user.id, client_key=keys.client, last_success_at=now()))
        else:
            known_client.last_success_at = now()
        if hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(hasher, request.password)
        append_audit(
            session,
            actor=f"user:{user.username}",
            action="auth.login",
            target_type="user",
            target_id=user.id,
            details={"ip": request.client, "channel": request.channel},
        )
        session.commit()
        session.refresh(user)
        session.expunge(user)
        return user
