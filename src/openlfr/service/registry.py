"""The camera registry: the cameras a deployment may name. Each domain function checks its rules, makes the
change and writes its audit entry (``camera.add``, ``camera.remove``) in the caller's transaction, whoever
calls it (API, CLI, demo): the change and its entry commit together, or neither does.

Rules: a camera name is 1-64 letters, digits, ``_``, ``.`` or ``-`` (it is also the alerts' source); a stream
camera must be on a host of ``sources.allowed_hosts`` when that is set; a video file or folder must exist on
the server; a camera that a deployment which is not over names, or that recognition is reading, cannot be
removed. Only a principal with ``cameras:manage`` changes the registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.audit import append_audit
from openlfr.auth.permissions import Permission
from openlfr.auth.principal import Principal
from openlfr.errors import OpenLFRError
from openlfr.sources.hosts import SourceNotAllowedError, check_stream_host
from openlfr.sources.redact import redact
from openlfr.store.camera_models import CameraRecord
from openlfr.store.errors import ConflictError, NotFoundError
from openlfr.store.governance_models import Deployment

CAMERA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://")
_NOT_OVER = ("draft", "authorised", "live")


class CameraError(OpenLFRError):
    """A camera definition is not usable (bad name, a source that cannot exist)."""

    code = "camera_invalid"


class CameraHostError(CameraError):
    """A stream camera on a host the configuration does not allow (``sources.allowed_hosts``)."""

    code = "camera_host_not_allowed"


def check_camera(name: str, source: str, allowed_hosts: Sequence[str] = ()) -> None:
    """Refuse a camera that can never work, or may not be used (a stream on a host outside
    ``allowed_hosts``); a stream is only checked for its shape (it may be down now)."""
    if not CAMERA_NAME.match(name):
        raise CameraError("a camera name is 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")
    spec = source.strip()
    if not spec or len(spec) > 2000:
        raise CameraError("the camera source is empty or too long")
    try:
        check_stream_host(spec, allowed_hosts)
    except SourceNotAllowedError as exc:
        raise CameraHostError(str(exc)) from None
    if spec.lower().startswith(_STREAM_SCHEMES) or re.fullmatch(r"(?:webcam:)?\d+", spec):
        return
    if "://" in spec:
        raise CameraError(f"{redact(spec)}: unsupported URL scheme (use rtsp://, http:// or https://)")
    if not Path(spec).expanduser().exists():
        raise CameraError(f"{spec}: no such video file or image folder on the server")


def add_camera(
    session: Session,
    *,
    name: str,
    source: str,
    by: Principal,
    location: str = "",
    loop: bool = False,
    allowed_hosts: Sequence[str] = (),
) -> CameraRecord:
    """Register a camera, audited as ``camera.add`` by ``by``."""
    by.require(Permission.CAMERAS_MANAGE)
    check_camera(name, source, allowed_hosts)
    if session.scalar(select(CameraRecord).where(CameraRecord.name == name)) is not None:
        raise ConflictError(f"a camera named {name!r} exists already")
    record = CameraRecord(name=name, source=source.strip(), location=location, loop=loop, created_by=by.label)
    session.add(record)
    session.flush()
    _audit(session, by, "camera.add", record)
    return record


def remove_camera(
    session: Session, camera_id: str, *, by: Principal, reading: Callable[[str], str | None] | None = None
) -> CameraRecord:
    """Remove a camera, audited as ``camera.remove`` by ``by``. ``reading``: which deployment's recognition
    reads the camera in this process (the supervisor's ``deployment_of``), if any."""
    by.require(Permission.CAMERAS_MANAGE)
    record = get_camera(session, camera_id)
    running = reading(camera_id) if reading is not None else None
    if running is not None:
        raise ConflictError(f"camera {record.name} is in use by live deployment {running}: stop that first")
    # A deployment names registered cameras only: one that is not over yet keeps its cameras.
    for deployment_id, camera_ids in session.execute(
        select(Deployment.id, Deployment.camera_ids).where(Deployment.status.in_(_NOT_OVER))
    ):
        if camera_id in camera_ids:
            raise ConflictError(
                f"camera {record.name} is named by deployment {deployment_id}: change or end that first"
            )
    session.delete(record)
    session.flush()
    _audit(session, by, "camera.remove", record)
    return record


def get_camera(session: Session, camera_id: str) -> CameraRecord:
    record = session.get(CameraRecord, camera_id)
    if record is None:
        raise NotFoundError(f"no camera {camera_id!r}")
    return record


def list_cameras(session: Session) -> list[CameraRecord]:
    return list(session.scalars(select(CameraRecord).order_by(CameraRecord.name)))


def redacted_target(source: str) -> str:
    """The camera's source as it may be shown: a URL without its credentials."""
    return redact(source) if "://" in source else source


def _audit(session: Session, by: Principal, action: str, record: CameraRecord) -> None:
    append_audit(
        session, actor=by.actor, action=action, target_type="camera", target_id=record.id, details={"name": record.name}
    )
