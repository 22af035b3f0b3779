"""``/api/cameras``: the registered cameras, their health, the status of the recognition reading them, and a
live preview with every face blanked out. Changes go through the camera registry's domain functions, which
write their own audit entries (``openlfr.service.registry``)."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response, status

from openlfr.api.context import AppContext
from openlfr.api.deps import ContextDep, CurrentUser, SessionDep, require
from openlfr.api.errors import ApiError
from openlfr.api.permissions import Permission
from openlfr.api.schemas.cameras import (
    CameraCreate,
    CameraHealthPublic,
    CameraPublic,
    CameraStatusPublic,
    CameraTestViewPublic,
    CameraZoneUpdate,
    DeploymentStatusPublic,
)
from openlfr.errors import SourceError
from openlfr.service import registry
from openlfr.service.monitor import CameraHealth, CameraMonitor
from openlfr.service.supervisor import DeploymentRun
from openlfr.service.testview import camera_test_frame, grab_frame
from openlfr.service.zones import set_camera_zone
from openlfr.sources.hosts import SourceNotAllowedError
from openlfr.store.camera_models import CameraRecord
from openlfr.store.errors import NotFoundError
from openlfr.types import ImageBGR
from openlfr.zone import Zone

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/cameras", tags=["cameras"])
read = require(Permission.CAMERAS_READ)
manage = require(Permission.CAMERAS_MANAGE)


def _monitor(ctx: AppContext) -> CameraMonitor:
    if ctx.services.cameras is None:
        raise ApiError("cameras are not managed by this server", code="cameras_unavailable", status=503)
    return ctx.services.cameras


def _public(record: CameraRecord) -> CameraPublic:
    return CameraPublic(
        id=record.id,
        name=record.name,
        target=registry.redacted_target(record.source),
        location=record.location,
        loop=record.loop,
        zone=record.zone,
        created_by=record.created_by,
        created_at=record.created_at,
    )


@router.get("", dependencies=[read])
def list_all(db: SessionDep) -> list[CameraPublic]:
    return [_public(r) for r in registry.list_cameras(db)]


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[manage])
def add(body: CameraCreate, db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> CameraPublic:
    _monitor(ctx)
    record = registry.add_camera(
        db,
        name=body.name,
        source=body.source,
        by=principal,
        location=body.location,
        loop=body.loop,
        allowed_hosts=ctx.settings.sources.allowed_hosts,
    )
    public = _public(record)
    db.commit()
    log.info("camera %s added by %s", record.name, principal.label)
    return public


@router.get("/health", dependencies=[read])
def health(db: SessionDep, ctx: ContextDep) -> list[CameraHealthPublic]:
    """Per camera: idle, or the state of the deployment pipeline reading it (fps, frames, reconnects…)."""
    return [_health(h) for h in _monitor(ctx).health(registry.list_cameras(db))]


@router.get("/status", dependencies=[read])
def recognition_status(ctx: ContextDep) -> list[DeploymentStatusPublic]:
    """Per deployment whose recognition runs in this server: its state and, per camera, what the pipeline has
    counted in this run (frames, faces, tracks, alerts), its queue depth and its capture → decision latency."""
    return [_deployment_status(run) for run in _monitor(ctx).runs()]


@router.delete("/{camera_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[manage])
def remove(camera_id: str, db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> None:
    """Remove a camera (409 while a deployment that is not over names it, or recognition reads it)."""
    record = registry.remove_camera(db, camera_id, by=principal, reading=_monitor(ctx).deployment_of)
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
    registry.get_camera(db, camera_id)
    data = _monitor(ctx).preview_jpeg(camera_id)
    if data is None:
        raise NotFoundError("the camera is not running (no live deployment uses it)")
    return Response(data, media_type="image/jpeg")


@router.post("/{camera_id}/test-view", dependencies=[read])
def test_view(camera_id: str, db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> CameraTestViewPublic:
    """One current frame, to check aim and focus before a deployment: the running deployment's newest frame, or
    one read from the source (which is closed again), with EVERY detected face blanked here, on the server,
    the source's resolution and the number of faces. Nothing is embedded, matched or kept; audited as
    ``camera.test_view``. 502 ``source_unavailable`` when the source gives no frame (403
    ``source_not_allowed`` for a stream outside ``sources.allowed_hosts``)."""
    record = registry.get_camera(db, camera_id)
    monitor = _monitor(ctx)
    shot = camera_test_frame(
        db,
        record,
        by=principal,
        now=ctx.services.clock(),
        running_frame=monitor.latest_image(record.id),
        grab=lambda: _grab(record.source, ctx),
        blank=monitor.blank,
    )
    db.commit()
    log.info("camera %s test view by %s (%d faces)", record.name, principal.label, shot.view.faces)
    return CameraTestViewPublic(
        camera_id=shot.camera_id,
        camera=shot.camera,
        source_width=shot.source_width,
        source_height=shot.source_height,
        faces=shot.view.faces,
        image="data:image/jpeg;base64," + base64.b64encode(shot.view.jpeg).decode("ascii"),
        image_width=shot.view.width,
        image_height=shot.view.height,
        from_deployment=shot.from_deployment,
        captured_at=shot.captured_at,
    )


def _grab(source: str, ctx: AppContext) -> ImageBGR:
    try:
        return grab_frame(source, ctx.settings.sources)
    except SourceNotAllowedError as exc:
        raise ApiError(str(exc), code=exc.code, status=403) from None
    except SourceError as exc:  # the camera, not the request, is at fault
        raise ApiError(str(exc), code=exc.code, status=502) from None


def _health(h: CameraHealth) -> CameraHealthPublic:
    return CameraHealthPublic(
        camera_id=h.camera_id,
        name=h.name,
        target=h.target,
        state=h.state,
        deployment_id=h.deployment_id,
        fps=h.fps,
        frames=h.frames,
        faces=h.faces,
        tracks=h.tracks,
        alerts=h.alerts,
        frames_dropped=h.frames_dropped,
        reconnects=h.reconnects,
        queue_depth=h.queue_depth,
        latency_p50_ms=h.latency_p50_ms,
        latency_p95_ms=h.latency_p95_ms,
        last_frame_at=datetime.fromtimestamp(h.last_frame_at, UTC) if h.last_frame_at is not None else None,
        last_error=h.last_error,
    )


def _deployment_status(run: DeploymentRun) -> DeploymentStatusPublic:
    status = run.status
    ids = {name: camera_id for camera_id, name in run.cameras}
    return DeploymentStatusPublic(
        deployment_id=run.deployment_id,
        state=run.state,
        error=run.error,
        halted=status.halted,
        frames=status.frames,
        faces=status.faces,
        tracks=status.tracks,
        tracks_unexamined=status.tracks_unexamined,
        alerts=status.alerts,
        cameras=[
            CameraStatusPublic(
                camera_id=ids.get(c.source_id, ""),
                name=c.source_id,
                state=str(c.source.state),
                frames=c.frames,
                faces=c.faces,
                tracks=c.tracks,
                tracks_unexamined=c.tracks_unexamined,
                alerts=c.alerts,
                queue_depth=c.queue_depth,
                frames_dropped=c.frames_dropped,
                latency_p50_ms=c.latency_p50_ms,
                latency_p95_ms=c.latency_p95_ms,
            )
            for c in status.cameras
        ],
    )
