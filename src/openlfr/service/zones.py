"""``set_camera_zone``: draw, change or clear the zone of a registered camera (``openlfr.zone``).

The zone is part of what a deployment was authorised for and what its signage tells the public ("cameras here
look at this area"), so it cannot change under a deployment that is authorised or live: end it, or change its
plan (re-authorisation), first. Like ``openlfr.deployments.service``, the function checks the rule, makes the
change and writes its audit entry (with the points) in the caller's transaction, whoever calls it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.audit import append_audit
from openlfr.auth.permissions import Permission
from openlfr.auth.principal import Principal
from openlfr.store.camera_models import CameraRecord
from openlfr.store.errors import ConflictError, NotFoundError
from openlfr.store.governance_models import Deployment
from openlfr.zone import Zone

# A camera named by a deployment in one of these states keeps the zone it was authorised with.
_FROZEN = ("authorised", "live")


def set_camera_zone(session: Session, camera_id: str, zone: Zone | None, *, by: Principal) -> CameraRecord:
    """Store ``zone`` on the camera (None: the whole view again). ConflictError (409) while an authorised or
    live deployment names the camera; NotFoundError for an unknown camera."""
    by.require(Permission.CAMERAS_MANAGE)
    record = session.get(CameraRecord, camera_id)
    if record is None:
        raise NotFoundError(f"no camera {camera_id!r}")
    for deployment_id, status, camera_ids in session.execute(
        select(Deployment.id, Deployment.status, Deployment.camera_ids).where(Deployment.status.in_(_FROZEN))
    ):
        if camera_id in camera_ids:
            raise ConflictError(
                f"camera {record.name} is named by {status} deployment {deployment_id}: its zone is part of what "
                "was authorised and signposted; end the deployment or change its plan first"
            )
    record.zone = zone.as_lists() if zone is not None else None
    append_audit(
        session,
        actor=by.actor,
        action="camera.zone",
        target_type="camera",
        target_id=record.id,
        details={"name": record.name, "zone": record.zone},
    )
    session.flush()
    return record
