"""``issue_mandate``: the one door to recognition on live cameras.

It checks the deployment rules at the moment recognition is to start — live, authorised at its current
revision, inside its planned window, its watchlist copy still there, every camera it names registered — and
returns the ``RecognitionMandate`` that ``open_source`` and ``WatchPipeline`` demand for live sources. The
scheduler of ``lfr serve`` and ``lfr watch --deployment`` both come through here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openlfr.deployments.service import get_deployment, in_window, is_authorised
from openlfr.deployments.types import DeploymentError, DeploymentStateError
from openlfr.sources.mandate import CameraGrant, RecognitionMandate
from openlfr.store.camera_models import CameraRecord, camera_zone
from openlfr.store.models import SnapshotTemplate
from openlfr.utc import as_utc


def issue_mandate(session: Session, deployment_id: str, *, now: datetime) -> RecognitionMandate:
    """The mandate of a deployment that may run recognition ``now``; DeploymentStateError (409) when it is not
    live, not authorised at its current revision or outside its window; DeploymentError (400) when a camera
    it names is no longer registered or its watchlist copy is gone."""
    deployment = get_deployment(session, deployment_id)
    if deployment.status != "live" or not is_authorised(deployment):
        raise DeploymentStateError(
            f"deployment {deployment.id} is {deployment.status}"
            + ("" if is_authorised(deployment) else " and not authorised at its current revision")
            + ": recognition runs only inside a live, authorised deployment"
        )
    if not in_window(deployment, now):
        raise DeploymentStateError(
            f"deployment {deployment.id} is outside its planned window "
            f"({as_utc(deployment.planned_start).isoformat()} to {as_utc(deployment.planned_end).isoformat()})"
        )
    templates = session.scalar(select(func.count()).where(SnapshotTemplate.snapshot_id == deployment.snapshot_id))
    if not templates:
        raise DeploymentError(f"deployment {deployment.id}: its watchlist copy holds no templates (destroyed?)")
    grants = []
    for camera_id in deployment.camera_ids:
        record = session.get(CameraRecord, camera_id)
        if record is None:
            raise DeploymentError(f"deployment {deployment.id} names camera {camera_id!r}, which is not registered")
        grants.append(CameraGrant(record.id, record.name, record.source, record.loop, camera_zone(record)))
    return RecognitionMandate.issue(
        deployment_id=deployment.id,
        revision=deployment.revision,
        snapshot_id=deployment.snapshot_id,
        snapshot_fingerprint=deployment.snapshot_fingerprint,
        threshold=float(deployment.threshold),
        cameras=tuple(grants),
        not_before=as_utc(deployment.planned_start),
        not_after=as_utc(deployment.planned_end),
        issued_at=now,
    )
