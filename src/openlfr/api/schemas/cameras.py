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
    tracks: int = Field(description="distinct faces that passed the camera in the current deployment")
    alerts: int
    frames_dropped: int
    reconnects: int
    queue_depth: int
    latency_p50_ms: float | None = Field(description="capture to decision, median (from the latency histogram)")
    latency_p95_ms: float | None
    last_frame_at: datetime | None
    last_error: str | None


class CameraStatusPublic(Output):
    """One camera of a running deployment, as its pipeline counts it (this run only)."""

    camera_id: str
    name: str
    state: str = Field(description="the source's state: starting, running, reconnecting, ended, failed, closed")
    frames: int
    faces: int = Field(description="face detections, once per frame a face is found in")
    tracks: int = Field(description="distinct faces that passed the camera (the published faces seen)")
    tracks_unexamined: int = Field(description="passers-by with a usable face the models had no time for")
    alerts: int
    queue_depth: int = Field(description="frames waiting between the camera and the models")
    frames_dropped: int
    latency_p50_ms: float | None = Field(
        description="capture to decision of the camera's frames: median, estimated from the histogram buckets "
        "(as Prometheus's histogram_quantile); null before the first frame"
    )
    latency_p95_ms: float | None


class DeploymentStatusPublic(Output):
    """A deployment whose recognition runs in this server."""

    deployment_id: str
    state: str = Field(description="running; ended (every source reached its end); failed (see error)")
    error: str | None
    halted: str | None = Field(description="why the pipeline stopped itself: mandate_expired, watchlist_empty")
    frames: int
    faces: int
    tracks: int
    tracks_unexamined: int
    alerts: int
    cameras: list[CameraStatusPublic]


class CameraTestViewPublic(Output):
    """One current frame of a camera with every face blanked on the server, to check aim and focus."""

    camera_id: str
    camera: str
    source_width: int = Field(description="the source's resolution, in pixels")
    source_height: int
    faces: int = Field(description="faces detected in the frame (every one blanked)")
    image: str = Field(description="a data: URL of the JPEG (at most 640 px) with every face blanked")
    image_width: int
    image_height: int
    from_deployment: bool = Field(description="the frame is the running deployment's newest (source not reopened)")
    captured_at: datetime
