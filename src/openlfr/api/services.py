"""What the API is given to work with. ``create_app`` takes these instead of building them, so tests and
`lfr serve` decide what is real. Protocols name only what the API uses of a colleague's component."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from argon2 import PasswordHasher
from sqlalchemy.orm import Session, sessionmaker

from openlfr.api.metrics import MetricFamily
from openlfr.auth.clock import utcnow
from openlfr.auth.passwords import default_hasher


@runtime_checkable
class AlertCounter(Protocol):
    """The part of an alert store the API reads now (the /metrics count)."""

    def count(self) -> int: ...


@runtime_checkable
class MetricSource(Protocol):
    """Anything that adds metric families to /metrics (the camera pipelines will, later)."""

    def collect(self) -> Iterable[MetricFamily]: ...


@dataclass(frozen=True, slots=True)
class Services:
    sessions: sessionmaker[Session]
    """the database session factory (``openlfr.store.db.Database.sessions``)"""
    alerts: AlertCounter | None = None
    metric_sources: tuple[MetricSource, ...] = ()
    password_hasher: PasswordHasher = field(default_factory=default_hasher)
    clock: Callable[[], datetime] = utcnow
    """wall clock (UTC) for sessions, tokens and rate limits; tests move it"""
