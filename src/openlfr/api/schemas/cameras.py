from __future__ import annotations

from datetime import datetime

from pydantic import Field

from openlfr.api.schemas.base import Input, Output


class CameraCreate(Input):
    name: str = Field(
        min_length=1, max_length=64, description="letters, digits, '_', '.', '-'; also the alerts' source"
    )
    source: str = Field(
        min_length=1,
        max_length=2000,
        description="rtsp://…, http(s)://… (MJPEG), webcam:N, or a video file/folder on the server",
    )
    location: str = Field("", max_length=200)
    loop: bool = Field(False, description="restart a video file at its end (demonstrations)")


class CameraZoneUpdate(Input):
    points: list[list[float]] | None = Field(
        max_length=64,
        description="the zone's corners in order, [x, y] as fractions of the image (0,0 top left); at least "
        "three, edges not crossing; null: the whole view",
    )


class CameraPublic(Output):
    id: str
    name: str
    target: str
    """the source, with any credentials redacted"""
    location: str
    loop: bool
    zone: list[list[float]] | None = None
    """the area recognition runs in ([x, y] fractions of the image); null: the whole view"""
    created_by: str
    created_at: datetime


class CameraHealthPublic(Output):
    camera_id: str
    name: str
    target: str
    state: str
    deployment_id: str | None
    fps: float
    frames: int
    faces: int
    alerts: int
    frames_dropped: int
    reconnects: int
    queue_depth: int
    last_frame_at: datetime | None
    last_error: str | None
