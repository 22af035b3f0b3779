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


class CameraPublic(Output):
    id: str
    name: str
    target: str
    """the source, with any credentials redacted"""
    location: str
    loop: bool
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
