"""``lfr serve``: the API server, started as ordered steps and stopped in reverse on SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

from openlfr.commands.common import add_database_flag, settings_with_database
from openlfr.errors import OpenLFRError

if TYPE_CHECKING:
    import uvicorn

    from openlfr.alerts.sinks import AlertBus
    from openlfr.api.services import Services
    from openlfr.config.models import Settings
    from openlfr.deployments.scheduler import DeploymentScheduler
    from openlfr.retention.purge import RetentionScheduler
    from openlfr.service.cameras import CameraManager
    from openlfr.store.context import Store
    from openlfr.store.db import Database

log = logging.getLogger(__name__)

_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 15.0


class ServeError(OpenLFRError):
    code = "serve_failed"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("serve", help="run the HTTP API (default http://127.0.0.1:8000)")
    parser.add_argument("--host", default=None, help="listen address (default: api.host, 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="TCP port (default: api.port, 8000)")
    add_database_flag(parser)
    parser.set_defaults(handler=run_serve)


class _Runtime:
    """What the steps build, in the order they build it."""

    def __init__(self, settings: Settings, stop: threading.Event) -> None:
        self.settings = settings
        self.stop_requested = stop
        self.db: Database | None = None
        self.store: Store | None = None
        self.bus: AlertBus | None = None
        self.cameras: CameraManager | None = None
        self.services: Services | None = None
        self.scheduler: DeploymentScheduler | None = None
        self.retention: RetentionScheduler | None = None
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

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
        """The camera manager: recognition pipelines start and stop at runtime, per live deployment."""
        from openlfr.alerts.sinks import AlertBus
        from openlfr.service.cameras import CameraManager
        from openlfr.store.context import MEDIA_DIR, Store
        from openlfr.store.media import MediaStore

        assert self.db is not None
        self.store = Store(self.db, MediaStore(self.settings.data_dir / MEDIA_DIR, self.settings.media_key))
        self.bus = AlertBus()
        self.cameras = CameraManager(self.settings, self.db, self.store.media, self.bus)

    def stop_cameras(self) -> None:
        if self.cameras is not None:
            self.cameras.stop_all()
        if self.bus is not None:
            self.bus.close()

    def start_scheduler(self) -> None:
        """Recognition runs only for a live, authorised deployment inside its window (docs/GOVERNANCE.md)."""
        from openlfr.audit.configuration import record_configuration
        from openlfr.deployments.scheduler import DeploymentScheduler

        assert self.db is not None and self.cameras is not None
        with self.db.session() as session:
            record_configuration(session, self.settings)  # a changed configuration is a governance event
        interval = self.settings.governance.scheduler_interval_s
        self.scheduler = DeploymentScheduler(self.db, self.cameras, interval_s=interval)
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
        import uvicorn

        from openlfr.api import Services, create_app
        from openlfr.api.enrolment import UploadEnroller
        from openlfr.engine import FaceEngine

        assert self.db is not None and self.store is not None and self.cameras is not None
        settings = self.settings
        enroller = UploadEnroller(
            self.store, lambda: FaceEngine.from_settings(settings), settings.watchlist.duplicate_threshold
        )
        services = Services(
            sessions=self.db.sessions,
            store=self.store,
            bus=self.bus,
            cameras=self.cameras,
            enroller=enroller,
            metric_sources=(self.cameras,),
        )
        self.services = services
        app = create_app(self.settings, services)
        config = uvicorn.Config(
            app,
            host=self.settings.api.host,
            port=self.settings.api.port,
            log_config=None,  # the CLI owns logging
            lifespan="off",  # start-up and shutdown are these steps, not ASGI lifespan events
            server_header=False,
            # X-Forwarded-For is read by the API itself, and only from api.trusted_proxies (uvicorn would trust
            # any loopback client, which then picks the address the rate limits and the audit chain see).
            proxy_headers=False,
        )
        self.server = uvicorn.Server(config)
        # In a thread, uvicorn installs no signal handlers: the one stop signal stays ours.
        self.thread = threading.Thread(target=self._serve, name="http", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise ServeError(f"could not serve on {self.settings.api.host}:{self.settings.api.port} (see the log)")
            time.sleep(0.05)

    def _serve(self) -> None:
        assert self.server is not None
        try:
            self.server.run()
        finally:
            self.stop_requested.set()  # a server that dies on its own unwinds everything else too

    def stop_http(self) -> None:
        if self.server is not None and self.thread is not None:
            if self.services is not None:
                self.services.stopping.set()  # open live streams end, so the server can close their connections
            self.server.should_exit = True
            self.thread.join(_STOP_TIMEOUT_S)
            if self.thread.is_alive():
                self.server.force_exit = True
                self.thread.join(_STOP_TIMEOUT_S)


def run_serve(args: argparse.Namespace) -> int:
    settings = settings_with_database(args)
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if overrides:
        settings = settings.model_copy(update={"api": settings.api.model_copy(update=overrides)})
    return serve(settings)


def serve(settings: Settings, on_started: Callable[[Settings], None] | None = None) -> int:
    """Run the service until SIGINT or SIGTERM (``lfr serve``; ``lfr demo --serve`` too). ``on_started`` is
    called once every step has started, with the settings in force (the resolved session secret included)."""
    from openlfr.lifecycle import Lifecycle, Step

    stop = threading.Event()
    signalled: list[int] = []
    runtime = _Runtime(settings, stop)
    lifecycle = Lifecycle(
        [
            Step("session secret", runtime.resolve_secret),
            Step("database", runtime.open_database, runtime.close_database),
            # After the database, before the API that reports on them; pipelines run per live deployment.
            Step("cameras", runtime.start_cameras, runtime.stop_cameras),
            Step("deployment scheduler", runtime.start_scheduler, runtime.stop_scheduler),
            Step("retention", runtime.start_retention, runtime.stop_retention),
            Step("http", runtime.start_http, runtime.stop_http),
        ]
    )

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        signalled.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        lifecycle.start()
        api = runtime.settings.api
        print(f"OpenLFR console and API on http://{api.host}:{api.port}/ (Ctrl-C to stop)", file=sys.stderr)
        if on_started is not None:
            on_started(runtime.settings)
        while not stop.wait(0.5):
            pass
    finally:
        lifecycle.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not signalled:
        log.error("the HTTP server stopped on its own")
        return 1
    return 0
