"""The service's composition root: ``create_app()`` returns the whole OpenLFR service as one ASGI app whose
lifespan starts it in ordered steps and stops it in reverse, so any ASGI host can run it:

    uvicorn --factory openlfr.api.factory:create_app --host 127.0.0.1 --port 8000 \\
        --no-proxy-headers --no-server-header --timeout-graceful-shutdown 5

Settings come from ``$LFR_CONFIG`` (a YAML file) and ``LFR_*`` environment variables, as for ``lfr``.
``lfr serve`` runs the same app (``openlfr.commands.serve``). Steps, in order: the session secret (the
configured one, else one kept under the data folder), the database, the cameras (the alert bus, the
recognition supervisor and the camera monitor), the deployment scheduler (recognition runs only for a live,
authorised deployment inside its window), the retention purge, and http (the app gets its services and
answers requests). Shutdown runs the stop steps of whatever started, in reverse; a step that fails to start
unwinds those before it and the host refuses to serve.

Nothing happens at import time, nor when the app is created: the lifespan does the work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio.to_thread
from fastapi import FastAPI

from openlfr.config.models import Settings
from openlfr.lifecycle import Lifecycle, Step

if TYPE_CHECKING:
    from openlfr.alerts.sinks import AlertBus
    from openlfr.api.services import Services
    from openlfr.cluster.supervisor import ClusterSupervisor
    from openlfr.deployments.scheduler import DeploymentScheduler
    from openlfr.retention.purge import RetentionScheduler
    from openlfr.service.monitor import CameraMonitor
    from openlfr.service.supervisor import RecognitionSupervisor
    from openlfr.store.context import Store
    from openlfr.store.db import Database

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The OpenLFR service (``uvicorn --factory openlfr.api.factory:create_app``); ``settings``: default the
    configuration of ``$LFR_CONFIG`` and the ``LFR_*`` environment."""
    if settings is None:
        from openlfr.config.loader import load_settings

        settings = load_settings()
    return ServiceRuntime(settings).app


class ServiceRuntime:
    """What the start-up steps build, in the order they build it, and the app they serve."""

    def __init__(self, settings: Settings, on_started: Callable[[Settings], None] | None = None) -> None:
        """``on_started``: called (on a worker thread) once every step has started, with the settings in
        force (the resolved session secret included)."""
        from openlfr.api.app import build_app

        self.settings = settings
        self.on_started = on_started
        self.stopping = threading.Event()
        """set when the service begins to stop: long-lived responses (the live stream) end at once"""
        self.db: Database | None = None
        self.store: Store | None = None
        self.bus: AlertBus | None = None
        self.supervisor: RecognitionSupervisor | ClusterSupervisor | None = None
        self.monitor: CameraMonitor | None = None
        self.services: Services | None = None
        self.scheduler: DeploymentScheduler | None = None
        self.retention: RetentionScheduler | None = None
        self.failure: Exception | None = None
        """why start-up failed, if it did"""
        self.lifecycle = Lifecycle(
            [
                Step("session secret", self.resolve_secret),
                Step("database", self.open_database, self.close_database),
                # After the database, before the API that reports on them; pipelines run per live deployment.
                Step("cameras", self.start_cameras, self.stop_cameras),
                Step("deployment scheduler", self.start_scheduler, self.stop_scheduler),
                Step("retention", self.start_retention, self.stop_retention),
                Step("http", self.start_http, self.stop_http),
            ]
        )
        self.app = build_app(settings, lifespan=self.lifespan)
        self.app.state.runtime = self

    @asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        # The steps block (files, the database, loading models): off the event loop.
        try:
            await anyio.to_thread.run_sync(self.lifecycle.start)
        except Exception as exc:
            self.failure = exc  # for `lfr serve`, which reports it (the host only logs it)
            raise
        try:
            if self.on_started is not None:
                await anyio.to_thread.run_sync(self.on_started, self.settings)
            yield
        finally:
            self.stopping.set()
            await anyio.to_thread.run_sync(self.lifecycle.stop)

    # -- the steps ------------------------------------------------------------------------------------------

    def resolve_secret(self) -> None:
        from openlfr.auth.secret import resolve_secret

        secret = resolve_secret(self.settings.api, self.settings.data_dir)
        api = self.settings.api.model_copy(update={"session_secret": secret})
        self.settings = self.settings.model_copy(update={"api": api})

    def open_database(self) -> None:
        from openlfr.store.db import open_database

        self.db = open_database(self.settings)

    def close_database(self) -> None:
        if self.db is not None:
            self.db.close()

    def start_cameras(self) -> None:
        """The recognition supervisor (pipelines start and stop at runtime, per live deployment) and the camera
        monitor (health, status, preview, metrics)."""
        from openlfr.alerts.sinks import AlertBus
        from openlfr.service.monitor import CameraMonitor
        from openlfr.service.supervisor import RecognitionSupervisor
        from openlfr.store.context import MEDIA_DIR, Store
        from openlfr.store.media import MediaStore

        assert self.db is not None
        self.store = Store(self.db, MediaStore(self.settings.data_dir / MEDIA_DIR, self.settings.media_key))
        self.bus = AlertBus()
        if self.settings.cluster is not None:
            # Cluster mode (docs/SCALING.md): cameras run on Ray worker machines; only now is Ray imported.
            from openlfr.cluster.supervisor import ClusterSupervisor, open_pool

            pool = open_pool(self.settings)
            self.supervisor = ClusterSupervisor(self.settings, self.db, self.store.media, self.bus, pool)
        else:
            self.supervisor = RecognitionSupervisor(self.settings, self.db, self.store.media, self.bus)
        self.monitor = CameraMonitor(self.settings, self.db, self.supervisor)

    def stop_cameras(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop_all()
        if self.bus is not None:
            self.bus.close()

    def start_scheduler(self) -> None:
        """Recognition runs only for a live, authorised deployment inside its window (docs/GOVERNANCE.md)."""
        from openlfr.audit.configuration import record_configuration
        from openlfr.deployments.scheduler import DeploymentScheduler

        assert self.db is not None and self.supervisor is not None
        with self.db.session() as session:
            record_configuration(session, self.settings)  # a changed configuration is a governance event
        interval = self.settings.governance.scheduler_interval_s
        self.scheduler = DeploymentScheduler(self.db, self.supervisor, interval_s=interval)
        self.scheduler.start()

    def stop_scheduler(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()

    def start_retention(self) -> None:
        from openlfr.retention.purge import RetentionScheduler

        assert self.store is not None
        governance = self.settings.governance
        self.retention = RetentionScheduler(
            self.store, governance.alert_retention_days, governance.retention_interval_s
        )
        self.retention.start()

    def stop_retention(self) -> None:
        if self.retention is not None:
            self.retention.stop()

    def start_http(self) -> None:
        """The app gets its services: from here on it answers requests."""
        from openlfr.api.app import bind_services
        from openlfr.api.enrolment import UploadEnroller
        from openlfr.api.services import Services
        from openlfr.engine import FaceEngine

        assert self.db is not None and self.store is not None and self.monitor is not None
        settings = self.settings
        enroller = UploadEnroller(
            self.store, lambda: FaceEngine.from_settings(settings), settings.watchlist.duplicate_threshold
        )
        self.services = Services(
            sessions=self.db.sessions,
            store=self.store,
            bus=self.bus,
            cameras=self.monitor,
            enroller=enroller,
            # Cluster mode adds the nodes' series (openlfr.cluster.supervisor).
            metric_sources=(self.monitor, *((self.supervisor,) if hasattr(self.supervisor, "collect") else ())),
            stopping=self.stopping,
        )
        bind_services(self.app, settings, self.services)

    def stop_http(self) -> None:
        self.stopping.set()  # open live streams end, so the server can close their connections
