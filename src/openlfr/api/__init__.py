"""The HTTP API: ``create_app(settings, services)`` builds a FastAPI app; nothing happens at import time."""

from __future__ import annotations

from openlfr.api.app import create_app
from openlfr.api.services import Services

__all__ = ["Services", "create_app"]
