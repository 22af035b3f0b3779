"""``/`` and ``/console/…``: the console's static files (public: they hold no data; the API behind them
requires a login). Only files that ship in ``openlfr/web/static`` are served, by exact name."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from openlfr.api.deps import require
from openlfr.api.permissions import Permission
from openlfr.store.errors import NotFoundError
from openlfr.web.assets import assets

router = APIRouter(tags=["console"], include_in_schema=False)


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
