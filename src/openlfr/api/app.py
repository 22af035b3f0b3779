"""``create_app(settings, services)``: the FastAPI application, assembled from what it is given. The service that
builds its own services at start-up is ``openlfr.api.factory``."""

from __future__ import annotations

import logging
import secrets
import threading
from datetime import timedelta

from fastapi import FastAPI
from fastapi.routing import APIRouter
from starlette.types import Lifespan

from openlfr import __version__
from openlfr.api.context import AppContext
from openlfr.api.errors import install_error_handlers
from openlfr.api.metrics import build_registry
from openlfr.api.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from openlfr.api.permissions import app_routes
from openlfr.api.routes import (
    alerts,
    auth,
    cameras,
    competence,
    console,
    deployment_review,
    docs,
    health,
    metrics,
    notice,
    reports,
    tokens,
    users,
    wall,
    watchlists,
)
from openlfr.api.routes import deployments as governance
from openlfr.api.services import Services
from openlfr.auth.errors import SessionSecretError
from openlfr.auth.login import LoginCounters, LoginLimits
from openlfr.auth.secret import check_secret
from openlfr.auth.sessions import SessionPolicy
from openlfr.config.models import Settings

log = logging.getLogger(__name__)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    auth.router,
    users.router,
    competence.router,
    competence.everyone_router,
    tokens.router,
    watchlists.watchlists_router,
    watchlists.subjects_router,
    watchlists.reviews_router,
    watchlists.options_router,
    alerts.router,
    reports.router,
    cameras.router,
    wall.router,
    governance.router,
    deployment_review.router,
    governance.retention_router,
    governance.audit_router,
    governance.calibrations_router,
    notice.signage_router,
    notice.public_router,
    metrics.router,
    docs.router,
    console.router,
)
# Room for the multipart envelope around a file of max_upload_bytes.
BODY_SLACK_BYTES = 64 * 1024


def _session_secret(settings: Settings) -> bytes:
    config = settings.api
    value = config.session_secret.get_secret_value() if config.session_secret is not None else ""
    if config.environment == "development":
        if not value:
            log.warning("development: using a random in-memory session secret (sessions end on restart)")
            value = secrets.token_urlsafe(48)
        return value.encode("utf-8")
    if not value:
        raise SessionSecretError(
            "no session secret: set LFR_API__SESSION_SECRET, or start with `lfr serve`, which generates one"
        )
    check_secret(value)
    return value.encode("utf-8")


def create_app(settings: Settings, services: Services) -> FastAPI:
    """Build the app for ``services`` built already (tests; ``openlfr.api.factory`` builds them in the app's
    lifespan instead). Refuses (SessionSecretError) a missing or weak session secret outside development, and
    (ValueError) any route that does not declare exactly one permission."""
    app = build_app(settings)
    bind_services(app, settings, services)
    return app


def build_app(settings: Settings, lifespan: Lifespan[FastAPI] | None = None) -> FastAPI:
    """The routes, error handlers and middleware; it answers requests once ``bind_services`` gave it its
    services (``lifespan``: what starts and stops them around the server's life)."""
    config = settings.api
    app = FastAPI(
        title="OpenLFR",
        version=__version__,
        description='Operator console API of OpenLFR. Errors: {"error": {"code", "message", "details"}}.',
        # Served by routes/docs.py behind login, without third-party script.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app_routes(app)  # raises for a route that does not declare exactly one permission
    # Added last = outermost: the headers also cover the body-limit refusals.
    app.add_middleware(BodyLimitMiddleware, max_bytes=config.max_upload_bytes + BODY_SLACK_BYTES)
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def bind_services(app: FastAPI, settings: Settings, services: Services) -> None:
    """Give ``app`` what its routes work with (``settings`` with the session secret in force)."""
    config = settings.api
    limits = LoginLimits(
        per_pair=config.login_max_failures_per_user,
        per_client=config.login_max_failures_per_ip,
        window_s=config.login_window_s,
        backoff_after=config.login_account_backoff_after,
        backoff_max_s=config.login_account_backoff_max_s,
    )
    policy = SessionPolicy(
        idle=timedelta(minutes=config.session_idle_minutes), max_age=timedelta(hours=config.session_max_hours)
    )
    app.state.ctx = AppContext(settings, services, _session_secret(settings), limits, LoginCounters(), policy)
    app.state.metrics = build_registry(app.state.ctx, services.metric_sources)  # this app's own registry
    app.state.decode_slots = threading.BoundedSemaphore(config.max_parallel_decodes)
