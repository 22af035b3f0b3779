"""Subject access: every stored record whose face matches a given photo (watchlist subjects and alerts), for
an export to the requester or an erasure.

The photo's faces are embedded with the configured engine and compared with (1) every stored template of
the same model contract (the subjects) and (2) the probe image of every stored alert, embedded on the fly
(alerts keep images, never templates). Alerts of a matched subject are included too. Nothing of the photo is
stored; the audit chain records that a search ran and how many records it found.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from openlfr.audit import append_audit
from openlfr.auth.permissions import Permission
from openlfr.auth.principal import Principal
from openlfr.deployments.figures import retire_alerts
from openlfr.engine import FaceEngine
from openlfr.errors import ImageDecodeError, OpenLFRError
from openlfr.files import private_dir, write_private
from openlfr.imaging.decode import decode_image
from openlfr.store import media_refs
from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import Store
from openlfr.store.errors import MediaKeyError, StorageError
from openlfr.store.models import Subject, Template
from openlfr.types import ImageBGR
from openlfr.watchlists.enrol import vector_from


class SearchImageError(OpenLFRError):
    code = "search_image_invalid"


@dataclass(frozen=True, slots=True)
class SubjectHit:
    subject_id: str
    external_ref: str
    score: float


@dataclass(frozen=True, slots=True)
class AlertHit:
    alert_id: str
    deployment_id: str | None
    decided_at: str
    subject_id: str | None
    score: float | None
    """the photo's best score against the alert's probe image; None when found through its subject only"""
    hold: bool
    probe_media: str
    media_encrypted: bool


@dataclass(frozen=True, slots=True)
class AccessResult:
    faces_in_photo: int
    threshold: float
    subjects: tuple[SubjectHit, ...]
    alerts: tuple[AlertHit, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "faces_in_photo": self.faces_in_photo,
            "threshold": self.threshold,
            "subjects": [vars_(s) for s in self.subjects],
            "alerts": [
                {k: v for k, v in vars_(a).items() if k not in ("probe_media", "media_encrypted")} for a in self.alerts
            ],
        }


def vars_(value: Any) -> dict[str, Any]:
    return {name: getattr(value, name) for name in value.__slots__}


def _probes(engine: FaceEngine, image: ImageBGR) -> np.ndarray:
    detections = engine.detect(image)
    if len(detections) == 0:
        return np.zeros((0, engine.contract.dimension), np.float32)
    return np.stack([e.vector for e in engine.embed(image, detections)]).astype(np.float32)


def search_by_face(store: Store, engine: FaceEngine, photo: bytes, *, threshold: float, by: Principal) -> AccessResult:
    """Every subject and alert whose face matches ``photo`` (subject access; audited, ``by`` needs
    retention:manage)."""
    by.require(Permission.RETENTION_MANAGE)
    try:
        image = decode_image(photo, name="search photo")
    except ImageDecodeError as exc:
        raise SearchImageError(str(exc)) from exc
    probes = _probes(engine, image)
    if len(probes) == 0:
        raise SearchImageError("no face found in the photo: use a clear, frontal photo of the person")
    contract = engine.contract
    subjects: dict[str, SubjectHit] = {}
    alerts: dict[str, AlertHit] = {}
    with store.db.session() as session:
        rows = session.execute(
            select(Template.subject_id, Template.vector, Subject.external_ref)
            .join(Subject, Subject.id == Template.subject_id)
            .where(
                Template.model == contract.model,
                Template.weights_sha256 == contract.weights_sha256,
                Template.dimension == contract.dimension,
                Template.preprocessing == contract.preprocessing,
            )
        ).all()
        for subject_id, data, ref in rows:
            best = float(np.max(probes @ vector_from(data)))
            if best >= threshold and (subject_id not in subjects or best > subjects[subject_id].score):
                subjects[subject_id] = SubjectHit(subject_id, ref, round(best, 4))
        records = list(session.scalars(select(AlertRecord).order_by(AlertRecord.decided_at)))
    for record in records:
        score: float | None = None
        try:
            crop = decode_image(store.media.get(record.probe_media, encrypted=record.media_encrypted))
            vectors = _probes(engine, crop)
            if len(vectors):
                score = float(np.max(vectors @ probes.T))
        except (ImageDecodeError, MediaKeyError, StorageError, OSError):
            score = None  # a purged or unreadable image: the subject link below may still find it
        matched = score is not None and score >= threshold
        if matched or (record.subject_id is not None and record.subject_id in subjects):
            alerts[record.id] = AlertHit(
                record.id,
                record.deployment_id,
                record.decided_at.isoformat(),
                record.subject_id,
                round(score, 4) if matched and score is not None else None,
                record.hold,
                record.probe_media,
                record.media_encrypted,
            )
    result = AccessResult(len(probes), threshold, tuple(subjects.values()), tuple(alerts.values()))
    with store.db.session() as session:
        append_audit(
            session,
            actor=by.actor,
            action="subject.search",
            target_type="subject",
            target_id=None,
            details={
                "faces_in_photo": len(probes),
                "threshold": threshold,
                "subjects": len(result.subjects),
                "alerts": len(result.alerts),
            },
        )
    return result


def export_access(store: Store, result: AccessResult, folder: Path, *, by: Principal) -> Path:
    """Write the records found (JSON) and the alerts' probe images into ``folder`` for the requester."""
    by.require(Permission.RETENTION_MANAGE)
    private_dir(folder)  # personal data of the requester: the owner's only
    with store.db.session() as session:
        subjects = []
        for hit in result.subjects:
            subject = session.get(Subject, hit.subject_id)
            if subject is not None:
                subjects.append(
                    {
                        "id": subject.id,
                        "external_ref": subject.external_ref,
                        "category": subject.category,
                        "reason": subject.reason,
                        "image_source": subject.image_source,
                        "added_by": subject.added_by,
                        "review_by": subject.review_by.isoformat(),
                        "score": hit.score,
                    }
                )
    for alert in result.alerts:
        try:
            data = store.media.get(alert.probe_media, encrypted=alert.media_encrypted)
        except (MediaKeyError, StorageError, OSError):
            continue
        write_private(folder / f"alert-{alert.alert_id}.jpg", data)
    path = folder / "records.json"
    payload = {**result.as_dict(), "subjects": subjects}
    write_private(path, json.dumps(payload, indent=2) + "\n")
    with store.db.session() as session:
        append_audit(
            session,
            actor=by.actor,
            action="subject.access_export",
            target_type="subject",
            target_id=None,
            details={"subjects": len(subjects), "alerts": len(result.alerts), "folder": folder.name},
        )
    return path


def erase_alerts(store: Store, alert_ids: list[str], *, by: Principal, reason: str) -> tuple[int, int]:
    """Delete the given alerts (not those on hold) and their images; (alerts, images) removed."""
    by.require(Permission.RETENTION_MANAGE)
    if not reason.strip():
        raise OpenLFRError("an erasure needs a reason")
    with store.db.session() as session:
        records = [r for r in session.scalars(select(AlertRecord).where(AlertRecord.id.in_(alert_ids))) if not r.hold]
        media = {d for r in records for d in (r.probe_media, r.context_media) if d}
        retire_alerts(session, [r.id for r in records])  # the deployment records keep counting them
        for record in records:
            session.delete(record)
        session.flush()
        media_refs.release(session, media, reason="alert.erase")
        append_audit(
            session,
            actor=by.actor,
            action="alert.erase",
            target_type="alert",
            target_id=None,
            details={"alerts": len(records), "reason": reason.strip(), "kept_on_hold": len(alert_ids) - len(records)},
        )
    media_refs.collect(store, sweep=False)
    return len(records), sum(not store.media.path_for(d).exists() for d in media)
