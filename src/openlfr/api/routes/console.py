"""``/`` and ``/console/…``: the console's static files (public: they hold no data; the API behind them
requires a login). Only files that ship in ``openlfr/web/static`` are served, by exact name."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from openlfr.api.deps import require
from openlfr.api.permissions import Permission
from openlfr.store.errors import NotFoundError

router = APIRouter(tags=["console"], include_in_schema=False)

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


@cache
def assets() -> dict[str, tuple[bytes, str]]:
    """name → (bytes, media type) of every shipped console file (read once, on first request)."""
    folder = resources.files("openlfr.web") / "static"
    found: dict[str, tuple[bytes, str]] = {}
    for entry in folder.iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ""
        if entry.is_file() and suffix in _TYPES:
            found[entry.name] = (entry.read_bytes(), _TYPES[suffix])
    return found


@router.get("/", dependencies=[require(Permission.PUBLIC)])
def root() -> RedirectResponse:
    return RedirectResponse("/console/", status_code=307)


@router.get("/console/", dependencies=[require(Permission.PUBLIC)])
def console_index() -> Response:
    return asset("index.html")


@router.get("/console/{name}", dependencies=[require(Permission.PUBLIC)])
def asset(name: str) -> Response:
    found = assets().get(name)
    if found is None:
        raise NotFoundError(f"no console file {name!r}")
    data, media_type = found
    # Revalidated on every load, so an upgrade reaches every console at once.
    headers: dict[str, Any] = {"Cache-Control": "no-cache"}
    return Response(data, media_type=media_type, headers=headers)
