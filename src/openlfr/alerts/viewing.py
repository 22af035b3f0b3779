"""Looking at an alert is a governed action too: every view of an alert and of each of its images is written
to the audit chain, by the function that reads it, whoever asks (API, console, a future CLI)."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from openlfr.alerts.review import HistoryEntry, alert_history, get_alert
from openlfr.audit import append_audit
from openlfr.auth.permissions import Permission
from openlfr.auth.principal import Principal
from openlfr.store.alert_models import AlertRecord
from openlfr.store.errors import NotFoundError
from openlfr.store.media import MediaStore
from openlfr.store.models import ReferenceImage


class AlertImage(StrEnum):
    PROBE = "probe"
    """the face from the camera that raised the alert"""
    CONTEXT = "context"
    """the decisive frame, with every face but the matched one blanked out"""
    REFERENCE = "reference"
    """the watchlist reference image the probe matched best"""


def view_alert(session: Session, alert_id: str, *, by: Principal) -> AlertRecord:
    """The alert, its view recorded (``alert.view``); the caller commits."""
    by.require(Permission.ALERTS_READ)
    record = get_alert(session, alert_id)
    _audit(session, by, "alert.view", alert_id, {})
    return record


def view_history(session: Session, alert_id: str, *, by: Principal) -> tuple[AlertRecord, list[HistoryEntry]]:
    """The alert and every change of its review (oldest first), the view recorded (``alert.view`` with
    ``{"view": "history"}``); the caller commits."""
    by.require(Permission.ALERTS_READ)
    record = get_alert(session, alert_id)
    changes = alert_history(session, alert_id)
    _audit(session, by, "alert.view", alert_id, {"view": "history"})
    return record, changes


def alert_image(session: Session, media: MediaStore, alert_id: str, kind: AlertImage, *, by: Principal) -> bytes:
    """The bytes of one of the alert's images, the view recorded (``alert.image.view``); NotFoundError when
    the alert has no such image (no context frame, or its subject was erased). The caller commits."""
    by.require(Permission.ALERTS_READ)
    record = get_alert(session, alert_id)
    if kind is AlertImage.PROBE:
        data = media.get(record.probe_media, encrypted=record.media_encrypted)
    elif kind is AlertImage.CONTEXT:
        if record.context_media is None:
            raise NotFoundError(f"alert {alert_id} has no context frame")
        data = media.get(record.context_media, encrypted=record.media_encrypted)
    else:
        image = reference_of(session, record)
        data = media.get(image.digest, encrypted=image.encrypted)
    _audit(session, by, "alert.image.view", alert_id, {"kind": kind.value})
    return data


def reference_of(session: Session, record: AlertRecord) -> ReferenceImage:
    """The reference image the alert matched; NotFoundError once the subject has been erased."""
    image = session.get(ReferenceImage, record.reference_image) if len(record.reference_image) == 32 else None
    if image is None:
        raise NotFoundError(f"the reference image of alert {record.id} is not stored (erased?)")
    return image


def _audit(session: Session, by: Principal, action: str, alert_id: str, details: dict[str, object]) -> None:
    append_audit(session, actor=by.actor, action=action, target_type="alert", target_id=alert_id, details=details)
