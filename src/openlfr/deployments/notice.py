"""Signage placements: who put up the signs telling the public about a deployment, where, and when.

A tick-box saying signs "will be displayed" proves nothing on the day. Before recognition may start (``lfr
deployment start``, ``POST /api/deployments/{id}/start``, and the scheduler inside ``lfr serve``), at least one
placement must be on the record: the location of the signs in words, the time they went up, and the
authenticated actor who recorded it. Each placement is its own audit entry (``deployment.signage_placed``);
placements are only ever added, never changed.

This module holds the rule; ``openlfr.deployments.service.start_deployment`` and the scheduler call
``require_signage`` / ``signed_deployments``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.audit import append_audit
from openlfr.audit.chain import iso_utc
from openlfr.auth.permissions import Permission
from openlfr.auth.principal import Principal
from openlfr.deployments.types import DeploymentError, DeploymentStateError
from openlfr.store.errors import NotFoundError
from openlfr.store.governance_models import Deployment
from openlfr.store.notice_models import SignagePlacement
from openlfr.utc import as_utc

PLACEABLE: Final = ("draft", "authorised", "live")
"""Signs go up before the deployment starts (or more while it runs); an ended one needs none."""
MAX_LOCATION_CHARS: Final = 500


class SignageNotPlacedError(DeploymentStateError):
    """Recognition was asked to start for a deployment with no recorded signage placement."""

    code = "signage_not_placed"


@dataclass(frozen=True, slots=True)
class Placement:
    id: str
    deployment_id: str
    location: str
    placed_at: datetime
    placed_by: str
    recorded_at: datetime

    @classmethod
    def of(cls, row: SignagePlacement) -> Placement:
        return cls(
            row.id, row.deployment_id, row.location, as_utc(row.placed_at), row.placed_by, as_utc(row.recorded_at)
        )

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "deployment_id": self.deployment_id,
            "location": self.location,
            "placed_at": iso_utc(self.placed_at),
            "placed_by": self.placed_by,
            "recorded_at": iso_utc(self.recorded_at),
        }


def _deployment(session: Session, deployment_id: str) -> Deployment:
    deployment = session.get(Deployment, deployment_id)
    if deployment is None:
        raise NotFoundError(f"no deployment {deployment_id!r}")
    return deployment


def record_placement(
    session: Session,
    deployment_id: str,
    *,
    location: str,
    by: Principal,
    now: datetime,
    placed_at: datetime | None = None,
) -> Placement:
    """Record that signs were put up at ``location`` (at ``placed_at``, default ``now``) by ``by``: the
    authenticated caller, never a typed name. Audited as ``deployment.signage_placed``."""
    by.require(Permission.DEPLOYMENTS_MANAGE)
    deployment = _deployment(session, deployment_id)
    if deployment.status not in PLACEABLE:
        raise DeploymentStateError(
            f"deployment {deployment.id} is {deployment.status}: signs are recorded for a draft, authorised or "
            "live deployment"
        )
    where = " ".join(location.split())
    if not where:
        raise DeploymentError("say where the signs were put up (e.g. 'both entrances of the station forecourt')")
    if len(where) > MAX_LOCATION_CHARS:
        raise DeploymentError(f"the location is longer than {MAX_LOCATION_CHARS} characters")
    when = as_utc(placed_at) if placed_at is not None else as_utc(now)
    if when > as_utc(now):
        raise DeploymentError("signs cannot be recorded as put up in the future: record them once they are up")
    if when >= as_utc(deployment.planned_end):
        raise DeploymentError("the signs went up after the planned end of the deployment")
    row = SignagePlacement(
        deployment_id=deployment.id, location=where, placed_at=when, placed_by=by.label, recorded_at=as_utc(now)
    )
    session.add(row)
    session.flush()
    append_audit(
        session,
        actor=by.actor,
        action="deployment.signage_placed",
        target_type="deployment",
        target_id=deployment.id,
        details={
            "placement": row.id,
            "location": where,
            "placed_at": iso_utc(when),
            "status": deployment.status,
            "revision": deployment.revision,
        },
    )
    return Placement.of(row)


def list_placements(session: Session, deployment_id: str) -> list[Placement]:
    _deployment(session, deployment_id)
    rows = session.scalars(
        select(SignagePlacement)
        .where(SignagePlacement.deployment_id == deployment_id)
        .order_by(SignagePlacement.placed_at, SignagePlacement.recorded_at, SignagePlacement.id)
    )
    return [Placement.of(row) for row in rows]


def signed_deployments(session: Session, deployment_ids: Iterable[str]) -> frozenset[str]:
    """Those of ``deployment_ids`` that have at least one signage placement."""
    ids = list(deployment_ids)
    if not ids:
        return frozenset()
    found = session.scalars(
        select(SignagePlacement.deployment_id).where(SignagePlacement.deployment_id.in_(ids)).distinct()
    )
    return frozenset(found)


def require_signage(session: Session, deployment_id: str) -> None:
    """Refuse (SignageNotPlacedError) when no signage placement is recorded for the deployment."""
    if deployment_id not in signed_deployments(session, [deployment_id]):
        raise SignageNotPlacedError(
            f"no signs are recorded as put up for deployment {deployment_id}: record where and when first "
            "(lfr deployment signage-placed, or POST /api/deployments/{id}/signage)"
        )
