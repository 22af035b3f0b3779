"""``lfr serve``: the OpenLFR service (``openlfr.api.factory``) under uvicorn, started as ordered steps in the
app's lifespan and stopped in reverse on SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

from openlfr.commands.common import add_database_flag, settings_with_database
from openlfr.errors import OpenLFRError

if TYPE_CHECKING:
    import socket
    import threading

    import uvicorn

    from openlfr.config.models import Settings

log = logging.getLogger(__name__)

_STOP_TIMEOUT_S = 15


class ServeError(OpenLFRError):
    code = "serve_failed"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("serve", help="run the HTTP API (default http://127.0.0.1:8000)")
    parser.add_argument("--host", default=None, help="listen address (default: api.host, 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="TCP port (default: api.port, 8000)")
    add_database_flag(parser)
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    settings = settings_with_database(args)
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if overrides:
        settings = settings.model_copy(update={"api": settings.api.model_copy(update=overrides)})
    return serve(settings)


def _server(config: uvicorn.Config, stopping: threading.Event, on_listening: Callable[[], None]) -> uvicorn.Server:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, telling the service when it begins to stop and when it listens."""

        def __init__(self, config: uvicorn.Config, stopping: threading.Event, on_listening: Callable[[], None]) -> None:
            super().__init__(config)
            self._stopping = stopping
            self._on_listening = on_listening

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            # Open live streams end now: the server waits for every connection to close before the lifespan
            # stops the service.
            self._stopping.set()
            super().handle_exit(sig, frame)

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started and not self.should_exit:
                self._on_listening()

    return Server(config, stopping, on_listening)


def serve(settings: Settings, on_started: Callable[[Settings], None] | None = None) -> int:
    """Run the service until SIGINT or SIGTERM (``lfr serve``; ``lfr demo --serve`` too). ``on_started`` is
    called once every step has started and the server listens, with the settings in force (the resolved
    session secret included)."""
    import uvicorn

    from openlfr.api.factory import ServiceRuntime

    runtime = ServiceRuntime(settings)
    api = settings.api
    config = uvicorn.Config(
        runtime.app,
        host=api.host,
        port=api.port,
        log_config=None,  # the CLI owns logging
        lifespan="on",  # start-up and shutdown are the service's steps (openlfr.api.factory)
        server_header=False,
        # X-Forwarded-For is read by the API itself, and only from api.trusted_proxies (uvicorn would trust
        # any loopback client, which then picks the address the rate limits and the audit chain see).
        proxy_headers=False,
        timeout_graceful_shutdown=_STOP_TIMEOUT_S,
    )

    def listening() -> None:
        print(f"OpenLFR console and API on http://{api.host}:{api.port}/ (Ctrl-C to stop)", file=sys.stderr)
        if on_started is not None:
            on_started(runtime.settings)

    server = _server(config, runtime.stopping, listening)
    signalled: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        signalled.append(signum)  # uvicorn hands the signal on here once it has shut down

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run()
    except SystemExit:  # uvicorn exits when it cannot start: a failed step, or a port it cannot bind
        if runtime.failure is not None:
            raise runtime.failure from None
        raise ServeError(f"could not serve on {api.host}:{api.port} (see the log)") from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if runtime.failure is not None:
        raise runtime.failure
    if not signalled:
        log.error("the HTTP server stopped on its own")
        return 1
    return 0
