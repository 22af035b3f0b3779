"""Per-app state that dependencies read (``app.state.ctx``): settings, services, the secret, the login limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from openlfr.api.services import Services
from openlfr.auth.login import LoginCounters, LoginLimits
from openlfr.auth.sessions import SessionPolicy
from openlfr.config.models import Settings


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: Settings
    services: Services
    session_secret: bytes = field(repr=False)
    login_limits: LoginLimits
    login_counters: LoginCounters
    session_policy: SessionPolicy
