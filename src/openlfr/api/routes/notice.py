"""Public notice over HTTP (docs/GOVERNANCE.md, "Public notice").

- ``/api/deployments/{id}/signage``: record that signs were put up (the caller is recorded as who did it) and
  list the placements; recognition cannot start before one is recorded.
- ``/public/...``: the public notice feed, each published deployment's record (the QR code on signs points
  there), and its sign and leaflet as PDF or HTML. No login and no personal data: drafts answer 404.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Query, Response, status

from openlfr.api.deps import ContextDep, CurrentUser, SessionDep, require
from openlfr.api.errors import ApiError
from openlfr.api.permissions import Permission
from openlfr.api.schemas.notice import PlacementCreate, PlacementPublic
from openlfr.deployments.notice import list_placements, record_placement
from openlfr.reports.notice import NoticeKind, NoticeNotConfiguredError, build_notice, render_notice
from openlfr.reports.public_feed import (
    feed_html,
    feed_json,
    public_deployment,
    public_feed,
    published_deployment,
    record_html,
)
from openlfr.reports.zones import zone_lines

signage_router = APIRouter(prefix="/api/deployments", tags=["deployments"])
public_router = APIRouter(prefix="/public", tags=["public"])

# Public pages carry their own styles inline and nothing else: no script, no outside resource.
PUBLIC_CSP: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
HTML: Final = "text/html; charset=utf-8"
JSON: Final = "application/json"


@signage_router.post(
    "/{deployment_id}/signage",
    status_code=status.HTTP_201_CREATED,
    dependencies=[require(Permission.DEPLOYMENTS_MANAGE)],
)
def place_signage(
    deployment_id: str, body: PlacementCreate, db: SessionDep, ctx: ContextDep, principal: CurrentUser
) -> PlacementPublic:
    """Record that signs were put up: where, when (default now). Who: the caller."""
    placement = record_placement(
        db,
        deployment_id,
        location=body.location,
        by=principal,
        now=ctx.services.clock(),
        placed_at=body.placed_at,
    )
    db.commit()
    return PlacementPublic.model_validate(placement.as_dict())


@signage_router.get("/{deployment_id}/signage", dependencies=[require(Permission.DEPLOYMENTS_READ)])
def signage_placements(deployment_id: str, db: SessionDep) -> list[PlacementPublic]:
    return [PlacementPublic.model_validate(p.as_dict()) for p in list_placements(db, deployment_id)]


def _public(body: str | bytes, media_type: str, headers: dict[str, str] | None = None) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Security-Policy": PUBLIC_CSP, **(headers or {})})


@public_router.get("/notice", dependencies=[require(Permission.PUBLIC)])
def notice_feed(
    db: SessionDep, ctx: ContextDep, fmt: str = Query("html", alias="format", pattern="^(html|json)$")
) -> Response:
    """Planned and past deployments with their records (no login, no personal data)."""
    config = ctx.settings.governance
    items = public_feed(db, config)
    if fmt == "json":
        return _public(feed_json(items, config, ctx.services.clock()), JSON)
    return _public(feed_html(items, config), HTML)


@public_router.get("/deployments/{deployment_id}", dependencies=[require(Permission.PUBLIC)])
def public_record(
    deployment_id: str,
    db: SessionDep,
    ctx: ContextDep,
    fmt: str = Query("html", alias="format", pattern="^(html|json)$"),
) -> Response:
    """One published deployment's record: where the QR code on its signs and leaflets points."""
    config = ctx.settings.governance
    item = public_deployment(db, published_deployment(db, deployment_id), config)
    if fmt == "json":
        import json

        return _public(json.dumps(item.as_dict(), indent=2) + "\n", JSON)
    return _public(record_html(item, config), HTML)


def _notice(kind: NoticeKind, deployment_id: str, db: SessionDep, ctx: ContextDep, fmt: str) -> Response:
    deployment = published_deployment(db, deployment_id)
    try:
        content = build_notice(deployment, ctx.settings.governance, camera_areas=zone_lines(db, deployment.camera_ids))
    except NoticeNotConfiguredError as exc:
        raise ApiError(str(exc), code=exc.code, status=503) from exc
    body, media_type = render_notice(kind, content, fmt)
    filename = f"{kind.value}-{deployment.id}.{fmt}"
    return _public(body, media_type, {"Content-Disposition": f'inline; filename="{filename}"'})


@public_router.get("/deployments/{deployment_id}/signage", dependencies=[require(Permission.PUBLIC)])
def public_signage(
    deployment_id: str, db: SessionDep, ctx: ContextDep, fmt: str = Query("pdf", alias="format", pattern="^(pdf|html)$")
) -> Response:
    """The deployment's sign: A3 portrait."""
    return _notice(NoticeKind.SIGNAGE, deployment_id, db, ctx, fmt)


@public_router.get("/deployments/{deployment_id}/leaflet", dependencies=[require(Permission.PUBLIC)])
def public_leaflet(
    deployment_id: str, db: SessionDep, ctx: ContextDep, fmt: str = Query("pdf", alias="format", pattern="^(pdf|html)$")
) -> Response:
    """The deployment's leaflet: A5 portrait, two sides."""
    return _notice(NoticeKind.LEAFLET, deployment_id, db, ctx, fmt)
