"""The camera service of ``lfr serve`` for tests: a recognition supervisor and the monitor that reports on it,
and cameras registered through the registry's domain function (by an admin unless told otherwise)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from openlfr.alerts.sinks import AlertBus
from openlfr.auth.principal import Principal
from openlfr.config.models import Settings
from openlfr.engine import FaceEngine
from openlfr.service.monitor import CameraMonitor
from openlfr.service.registry import add_camera
from openlfr.service.supervisor import RecognitionSupervisor
from openlfr.store.camera_models import CameraRecord
from openlfr.store.context import Store
from tests.helpers.accounts import person


@dataclass(frozen=True)
class CameraService:
    supervisor: RecognitionSupervisor
    monitor: CameraMonitor


def camera_service(
    settings: Settings,
    store: Store,
    bus: AlertBus,
    engine_factory: Callable[[], FaceEngine] | None = None,
    *,
    realtime_files: bool = False,
) -> CameraService:
    """``realtime_files`` False: files play as fast as they decode (nothing is dropped)."""
    supervisor = RecognitionSupervisor(
        settings, store.db, store.media, bus, engine_factory=engine_factory, realtime_files=realtime_files
    )
    return CameraService(supervisor, CameraMonitor(settings, store.db, supervisor))


def register_camera(
    session: Session, name: str, source: str, *, loop: bool = False, location: str = "", by: Principal | None = None
) -> CameraRecord:
    """A camera added through the registry (audited ``camera.add``) by ``by``, default the user ``admin``."""
    return add_camera(
        session, name=name, source=source, by=by or person(session, "admin", "admin"), location=location, loop=loop
    )
