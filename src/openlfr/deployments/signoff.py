"""The review after a deployment: a supervisor signs off each ended deployment's record.

The sign-off keeps the reviewer's notes, the corrections they found, and the list of the deployment's alerts
that no officer ever decided (pending or escalated when the record was signed off), so a published record
says how much of it rests on unreviewed alerts. One sign-off per deployment; it is written to the audit chain
in the same transaction. The transparency report shows which records are signed off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.alerts.vocabulary import OPEN_STATUSES
from openlfr.audit import append_audit
from openlfr.auth.permissions import Permission
from openlfr.auth.principal import Principal
from openlfr.deployments.service import get_deployment
from openlfr.deployments.types import DeploymentError, DeploymentStateError
from openlfr.store.alert_models import AlertRecord
from openlfr.store.governance_models import DeploymentSignOff
from openlfr.utc import as_utc

UNREVIEWED = tuple(sorted(OPEN_STATUSES))
MAX_CORRECTIONS = 50
MAX_TEXT = 4000


@dataclass(frozen=True, slots=True)
class SignOff:
    deployment_id: str
    by: str
    at: datetime
    notes: str
    corrections: tuple[str, ...]
    unreviewed_alerts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UnreviewedAlert:
    """What the reviewer sees of an alert nobody decided: ids and times, no images."""

    alert_id: str
    status: str
    source: str
    decided_at: datetime


def unreviewed_alerts(session: Session, deployment_id: str) -> list[UnreviewedAlert]:
    rows = session.execute(
        select(AlertRecord.id, AlertRecord.status, AlertRecord.source, AlertRecord.decided_at)
        .where(AlertRecord.deployment_id == deployment_id, AlertRecord.status.in_(UNREVIEWED))
        .order_by(AlertRecord.seq)
    )
    return [UnreviewedAlert(str(r.id), str(r.status), str(r.source), as_utc(r.decided_at)) for r in rows]


def _public(row: DeploymentSignOff) -> SignOff:
    return SignOff(
        deployment_id=row.deployment_id,
        by=row.signed_off_by,
        at=as_utc(row.signed_off_at),
        notes=row.notes,
        corrections=tuple(row.corrections),
        unreviewed_alerts=tuple(row.unreviewed_alerts),
    )


def get_sign_off(session: Session, deployment_id: str) -> SignOff | None:
    row = session.get(DeploymentSignOff, deployment_id)
    return _public(row) if row is not None else None


def sign_off_deployment(
    session: Session,
    deployment_id: str,
    *,
    by: Principal,
    notes: str,
    corrections: tuple[str, ...] = (),
    now: datetime,
) -> SignOff:
    """Sign off an ended deployment's record as ``by`` (a supervisor, signed in); the caller commits."""
    by.require(Permission.DEPLOYMENTS_AUTHORISE)
    deployment = get_deployment(session, deployment_id)
    if deployment.status != "ended":
        raise DeploymentStateError(
            f"deployment {deployment.id} is {deployment.status}: only an ended deployment's record is signed off"
        )
    if session.get(DeploymentSignOff, deployment.id) is not None:
        raise DeploymentStateError(f"the record of deployment {deployment.id} is signed off already")
    if not notes.strip():
        raise DeploymentError("a sign-off needs the reviewer's notes")
    if len(notes) > MAX_TEXT or any(len(c) > MAX_TEXT for c in corrections):
        raise DeploymentError(f"notes and each correction are at most {MAX_TEXT} characters")
    cleaned = tuple(c.strip() for c in corrections if c.strip())
    if len(cleaned) > MAX_CORRECTIONS:
        raise DeploymentError(f"at most {MAX_CORRECTIONS} corrections per sign-off")
    pending = [a.alert_id for a in unreviewed_alerts(session, deployment.id)]
    row = DeploymentSignOff(
        deployment_id=deployment.id,
        signed_off_by=by.label,
        signed_off_at=now,
        notes=notes.strip(),
        corrections=list(cleaned),
        unreviewed_alerts=pending,
    )
    session.add(row)
    session.flush()
    append_audit(
        session,
        actor=by.actor,
        action="deployment.sign_off",
        target_type="deployment",
        target_id=deployment.id,
        details={
            "supervisor": by.label,
            "notes": row.notes,
            "corrections": len(cleaned),
            "unreviewed_alerts": len(pending),
        },
    )
    return _public(row)
