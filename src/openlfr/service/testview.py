"""A camera's test view: one current frame, every face blanked on the server, so an operator can check aim and
focus before a deployment.

No recognition takes place: faces are only detected, to be blanked and counted; nothing is embedded, matched
or kept. The frame is the running pipeline's newest one when a deployment reads the camera, otherwise one frame
read from the camera's source and the source closed again. It lives in memory only and leaves as a JPEG with
every face detected in it flattened (the preview's blanking), never written anywhere. Each view is audited
(``camera.test_view``) with the person who asked for it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from openlfr.audit import append_audit, iter_entries
from openlfr.auth.permissions import Permission
from openlfr.auth.principal import Principal
from openlfr.config.models import SourceConfig
from openlfr.errors import SourceError, TooSoonError
from openlfr.sources.capture import open_stream, open_webcam, read_frame
from openlfr.sources.factory import open_source
from openlfr.sources.hosts import check_stream_host
from openlfr.sources.redact import redact
from openlfr.store.camera_models import CameraRecord
from openlfr.types import ImageBGR

_STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://")
TEST_VIEW_INTERVAL_S = 5
"""one test view of a camera per this many seconds, whoever asks: enough to aim and focus a camera, too few
frames to watch people by outside a deployment"""
_WEBCAM = re.compile(r"^(?:webcam:)?(\d+)$")


@dataclass(frozen=True, slots=True)
class BlankedFrame:
    """A frame as it may leave the server: a JPEG with every detected face flattened."""

    jpeg: bytes
    width: int
    """of the JPEG (downscaled from the source)"""
    height: int
    faces: int
    """faces detected (and blanked) in it"""


@dataclass(frozen=True, slots=True)
class CameraTestFrame:
    camera_id: str
    camera: str
    source_width: int
    """the source's own resolution"""
    source_height: int
    view: BlankedFrame
    from_deployment: bool
    """the frame came from the deployment reading the camera (the source was not opened again)"""
    captured_at: datetime


def grab_frame(source: str, config: SourceConfig) -> ImageBGR:
    """One frame read from a camera's source, held in memory; the source is closed before returning.

    A stream must be on a host ``config.allowed_hosts`` allows. Raises SourceError when nothing can be read.
    """
    spec = source.strip()
    if spec.lower().startswith(_STREAM_SCHEMES):
        check_stream_host(spec, config.allowed_hosts)
        capture = open_stream(spec, open_timeout_s=config.open_timeout_s, read_timeout_s=config.read_timeout_s)
    elif (webcam := _WEBCAM.match(spec)) is not None:
        capture = open_webcam(int(webcam.group(1)))
    else:
        return _first_recorded_frame(spec)
    try:
        image = read_frame(capture)
    finally:
        capture.release()
    if image is None:
        raise SourceError(f"{redact(spec)}: opened, but no frame could be read")
    return image


def _first_recorded_frame(spec: str) -> ImageBGR:
    # open_source checks a recording is one (not a device, pipe or playlist); opening it is cheap.
    recording = open_source(spec)
    try:
        frame = next(iter(recording.frames()), None)
    finally:
        recording.close()
    if frame is None:
        raise SourceError(f"{spec}: no frame could be read (an empty folder or video)")
    return frame.image


def camera_test_frame(
    session: Session,
    record: CameraRecord,
    *,
    by: Principal,
    now: datetime,
    running_frame: ImageBGR | None,
    grab: Callable[[], ImageBGR],
    blank: Callable[[ImageBGR], BlankedFrame],
) -> CameraTestFrame:
    """The test view of ``record`` for ``by`` (``cameras:read``): the running deployment's newest frame, or one
    grabbed from the source, blanked by ``blank``; audited as ``camera.test_view`` (the caller commits)."""
    by.require(Permission.CAMERAS_READ)
    _check_spacing(session, record, now)
    image = running_frame if running_frame is not None else grab()
    view = blank(image)
    height, width = image.shape[:2]
    append_audit(
        session,
        actor=by.actor,
        action="camera.test_view",
        target_type="camera",
        target_id=record.id,
        details={"name": record.name, "faces": view.faces, "width": width, "height": height},
        at=now,
    )
    return CameraTestFrame(
        camera_id=record.id,
        camera=record.name,
        source_width=width,
        source_height=height,
        view=view,
        from_deployment=running_frame is not None,
        captured_at=now,
    )


def _check_spacing(session: Session, record: CameraRecord, now: datetime) -> None:
    """TooSoonError while the camera's last test view (by anyone: the audit log says) is under
    ``TEST_VIEW_INTERVAL_S`` old."""
    window = timedelta(seconds=TEST_VIEW_INTERVAL_S)
    entries = iter_entries(session, action="camera.test_view", target_id=record.id, since=now - window)
    recent = [entry.at for entry in entries if now - window < entry.at <= now]
    if recent:
        wait_s = max(1, math.ceil((max(recent) + window - now).total_seconds()))
        raise TooSoonError(
            f"camera {record.name!r} was given a test view less than {TEST_VIEW_INTERVAL_S} s ago: "
            f"one view per {TEST_VIEW_INTERVAL_S} s (try again in {wait_s} s)",
            wait_s,
        )
