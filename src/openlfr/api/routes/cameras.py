"""``/api/cameras``: the registered cameras, their health, and a live preview with every face blanked out."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response, status

from openlfr.api.audit import audit
from openlfr.api.context import AppContext
from openlfr.api.deps import ContextDep, CurrentUser, SessionDep, require
from openlfr.api.errors import ApiError
from openlfr.api.permissions import Permission
from openlfr.api.schemas.cameras import CameraCreate, CameraHealthPublic, CameraPublic, CameraZoneUpdate
from openlfr.detect.zone import Zone
from openlfr.service.cameras import CameraManager, redacted_target
from openlfr.service.zones import set_camera_zone
from openlfr.store.camera_models import CameraRecord
from openlfr.store.errors import NotFoundError

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/cameras", tags=["cameras"])
read = require(Permission.CAMERAS_READ)
manage = require(Permission.CAMERAS_MANAGE)


def _manager(ctx: AppContext) -> CameraManager:
    if ctx.services.cameras is None:
        raise ApiError("cameras are not managed by this server", code="cameras_unavailable", status=503)
    return ctx.services.cameras


def _public(record: CameraRecord) -> CameraPublic:
    return CameraPublic(
        id=record.id,
        name=record.name,
        target=redacted_target(record.source),
        location=record.location,
        loop=record.loop,
        zone=record.zone,
        created_by=record.created_by,
        created_at=record.created_at,
    )


@router.get("", dependencies=[read])
def list_all(db: SessionDep) -> list[CameraPublic]:
    return [_public(r) for r in CameraManager.list_cameras(db)]


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[manage])
def add(body: CameraCreate, db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> CameraPublic:
    record = _manager(ctx).add_camera(
        db, name=body.name, source=body.source, location=body.location, loop=body.loop, created_by=principal.label
    )
    audit(db, principal, "camera.add", "camera", record.id, {"name": record.name})
    public = _public(record)
    db.commit()
    log.info("camera %s added by %s", record.name, principal.label)
    return public


@router.get("/health", dependencies=[read])
def health(db: SessionDep, ctx: ContextDep) -> list[CameraHealthPublic]:
    """Per camera: idle, or the state of the deployment pipeline reading it (fps, frames, reconnects…)."""
    reports = _manager(ctx).health(CameraManager.list_cameras(db))
    return [
        CameraHealthPublic(
            camera_id=h.camera_id,
            name=h.name,
            target=h.target,
            state=h.state,
            deployment_id=h.deployment_id,
            fps=h.fps,
            frames=h.frames,
            faces=h.faces,
            alerts=h.alerts,
            frames_dropped=h.frames_dropped,
            reconnects=h.reconnects,
            queue_depth=h.queue_depth,
            last_frame_at=datetime.fromtimestamp(h.last_frame_at, UTC) if h.last_frame_at is not None else None,
            last_error=h.last_error,
        )
        for h in reports
    ]


@router.delete("/{camera_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[manage])
def remove(camera_id: str, db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> None:
    """Remove a camera (409 while a live deployment uses it)."""
    record = _manager(ctx).remove_camera(db, camera_id)
    audit(db, principal, "camera.remove", "camera", camera_id, {"name": record.name})
    db.commit()
    log.info("camera %s removed by %s", record.name, principal.label)


@router.put("/{camera_id}/zone", dependencies=[manage])
def set_zone(camera_id: str, body: CameraZoneUpdate, db: SessionDep, principal: CurrentUser) -> CameraPublic:
    """Draw or clear the camera's zone: faces whose box centre lies outside it are neither tracked nor embedded.
    400 ``zone_invalid`` for fewer than three points, points outside [0, 1] or crossing edges; 409 while an
    authorised or live deployment names the camera."""
    zone = Zone.parse(body.points) if body.points is not None else None
    record = set_camera_zone(db, camera_id, zone, by=principal)
    public = _public(record)
    db.commit()
    log.info("camera %s zone %s by %s", record.name, "set" if zone else "cleared", principal.label)
    return public


_JPEG: dict[int | str, dict[str, Any]] = {200: {"content": {"image/jpeg": {}}, "description": "a JPEG frame"}}


@router.get("/{camera_id}/preview", dependencies=[read], response_class=Response, responses=_JPEG)
def preview(camera_id: str, db: SessionDep, ctx: ContextDep) -> Response:
    """The camera's newest frame (at most 640 px) with EVERY detected face blanked out; 404 while the camera
    is not running. Never an unblurred frame: faces are found and blanked here, on the server."""
    CameraManager.get_camera(db, camera_id)
    data = _manager(ctx).preview_jpeg(camera_id)
    if data is None:
        raise NotFoundError("the camera is not running (no live deployment uses it)")
    return Response(data, media_type="image/jpeg")
