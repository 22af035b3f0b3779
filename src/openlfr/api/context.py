"""Per-app state that dependencies read (``app.state.ctx``): settings, services, the secret, the limiter."""

from __future__ import annotations

from dataclasses import dataclass, field

from openlfr.api.services import Services
from openlfr.auth.ratelimit import LoginRateLimiter
from openlfr.auth.sessions import SessionPolicy
from openlfr.config.models import Settings


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: Settings
    services: Services
    session_secret: bytes = field(repr=False)
    limiter: LoginRateLimiter
    session_policy: SessionPolicy
