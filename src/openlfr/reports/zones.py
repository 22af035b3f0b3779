"""The camera zones of a deployment, in words, for its record and its signage (``openlfr.zone``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from openlfr.store.camera_models import CameraRecord, camera_zone


def zone_lines(session: Session, camera_ids: Sequence[str]) -> tuple[str, ...]:
    """One line per camera of the deployment: where it is and the area it looks at ("whole view" without a
    zone). Cameras no longer registered are left out (their zone is in the audit chain, ``camera.zone``)."""
    lines = []
    for camera_id in camera_ids:
        record = session.get(CameraRecord, camera_id)
        if record is None:
            continue
        zone = camera_zone(record)
        place = f"{record.name} ({record.location})" if record.location else record.name
        area = f"recognition limited to {zone.describe()}" if zone is not None else "whole view"
        lines.append(f"{place}: {area}")
    return tuple(lines)
