"""``/api/cameras/{id}/wall.mjpg``: the live camera wall, as MJPEG (``multipart/x-mixed-replace``, which an
``<img>`` plays with no script and no library).

Every frame is rendered by ``openlfr.service.wall``: every face blanked on the server except alerted matches,
the zone, tracks and alerts drawn over it. Nothing is written anywhere. Like the alert stream, a wall stream
ends after ``api.alert_stream_max_s`` (the console opens it again, re-checking the login) and as soon as the
viewer's login is revoked.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from openlfr.api.deps import ContextDep, CurrentUser, SessionDep, require
from openlfr.api.errors import ApiError
from openlfr.api.permissions import Permission
from openlfr.api.routes.alerts import still_valid
from openlfr.service.registry import get_camera
from openlfr.store.errors import NotFoundError

router = APIRouter(prefix="/api/cameras", tags=["cameras"])
wall = require(Permission.CAMERAS_WALL)

BOUNDARY: Final = "wallframe"
_WAIT_S = 0.5
"""how long one wait for a new frame lasts before the stream checks its deadline and its viewer again"""
_RECHECK_S = 5.0

_MJPEG: dict[int | str, dict[str, Any]] = {
    200: {"content": {f"multipart/x-mixed-replace; boundary={BOUNDARY}": {}}, "description": "JPEG frames"}
}


@router.get("/{camera_id}/wall.mjpg", dependencies=[wall], response_class=StreamingResponse, responses=_MJPEG)
async def wall_stream(
    camera_id: str, request: Request, db: SessionDep, ctx: ContextDep, principal: CurrentUser
) -> StreamingResponse:
    """The camera's processed frames as they come, every face blanked except alerted matches; 404 while no
    deployment runs recognition on the camera."""
    manager = ctx.services.cameras
    if manager is None:
        raise ApiError("cameras are not managed by this server", code="cameras_unavailable", status=503)
    name = get_camera(db, camera_id).name
    feeds = manager.supervisor.wall
    if not feeds.is_open(name):
        raise NotFoundError("the camera is not running (no live deployment uses it)")

    async def frames() -> AsyncIterator[bytes]:
        seq = 0
        now = time.monotonic()
        deadline, recheck = now + ctx.settings.api.alert_stream_max_s, now + _RECHECK_S
        stopping = ctx.services.stopping
        while time.monotonic() < deadline and not stopping.is_set() and not await request.is_disconnected():
            if time.monotonic() >= recheck:
                if not await run_in_threadpool(still_valid, ctx, principal):
                    return
                recheck = time.monotonic() + _RECHECK_S
            got = await run_in_threadpool(feeds.next_jpeg, name, seq, _WAIT_S)
            if got is None:
                if not feeds.is_open(name):
                    return
                continue
            seq, jpeg = got
            yield (
                f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
                + jpeg
                + b"\r\n"
            )

    return StreamingResponse(
        frames(),
        media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
