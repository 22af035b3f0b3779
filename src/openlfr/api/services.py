"""What the API is given to work with. ``create_app`` takes these instead of building them, so tests and
`lfr serve` decide what is real. Protocols name only what the API uses of another package's component."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from argon2 import PasswordHasher
from prometheus_client.core import Metric
from sqlalchemy.orm import Session, sessionmaker

from openlfr.alerts.sinks import AlertBus
from openlfr.auth.passwords import default_hasher
from openlfr.auth.revocation import CredentialEvents
from openlfr.utc import utcnow

if TYPE_CHECKING:
    from openlfr.api.enrolment import UploadEnroller
    from openlfr.service.monitor import CameraMonitor
    from openlfr.store.context import Store


@runtime_checkable
class AlertCounter(Protocol):
    """Counts alerts for /metrics (``openlfr_alerts_total``); without one, the alert bus counts them."""

    def count(self) -> int: ...


@runtime_checkable
class MetricSource(Protocol):
    """Anything that adds metric families to /metrics: a prometheus_client collector (the camera monitor is one)."""

    def collect(self) -> Iterable[Metric]: ...


@dataclass(frozen=True, slots=True)
class Services:
    sessions: sessionmaker[Session]
    """the database session factory (``openlfr.store.db.Database.sessions``)"""
    alerts: AlertCounter | None = None
    metric_sources: tuple[MetricSource, ...] = ()
    password_hasher: PasswordHasher = field(default_factory=default_hasher)
    store: Store | None = None
    """the database and media store together (images, enrolment, erasure); None: those routes answer 503"""
    bus: AlertBus | None = None
    """the in-process alert bus the live stream listens to (it also polls the database)"""
    cameras: CameraMonitor | None = None
    """health, status and preview of the cameras and the recognition reading them; None: camera routes answer
    503"""
    enroller: UploadEnroller | None = None
    """enrols uploaded reference images (quality gate, duplicate check); None: uploads answer 503"""
    stopping: threading.Event = field(default_factory=threading.Event)
    """set by the server owner when it shuts down: long-lived responses (the live stream) end at once"""
    clock: Callable[[], datetime] = utcnow
    """wall clock (UTC) for sessions, tokens and rate limits; tests move it"""
    credentials: CredentialEvents = field(default_factory=CredentialEvents)
    """bumped when an account or token changes, so open live streams re-check their caller at once"""
