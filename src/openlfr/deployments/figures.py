"""A deployment's published figures, kept so that they survive restarts of the service and the purge.

- What the pipeline counted (frames, face detections, tracks = faces seen) is *added* to the stored totals
  every few seconds while recognition runs and once more when it stops (``add_counts``): a restart inside
  the window adds the new run's counts to the old ones, and a crash loses at most the last few seconds.
- Alerts are personal data and are deleted after the retention period (or on erasure); the record must still
  count them. Before alert rows are deleted, ``retire_alerts`` adds their categories to the deployment's
  ``retired_alerts`` tally, and the record's figures are the remaining alerts' categories plus that tally.

Alert categories (docs/GOVERNANCE.md §5) follow the alert's final state: *true* when the reviewing officer
confirmed the alert and the engagement did not show it was someone else, *false* when they rejected it or when
the person engaged was ``not_the_person`` (pending and escalated alerts are ``unreviewed``: nobody decided
them); *confirmed* when an officer engaged the person (outcome ``spoken_to``, ``arrested``, ``no_action`` or
``not_the_person``), *unconfirmed* otherwise (none, ``not_located``, ``not_engaged``). Amending a decision or
an outcome moves the alert to its new category.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.alerts.vocabulary import DECIDED, ENGAGED, AlertStatus, EngagementOutcome
from openlfr.deployments.types import RunCounts
from openlfr.store.alert_models import AlertRecord
from openlfr.store.governance_models import Deployment, DeploymentCount


@dataclass(frozen=True, slots=True)
class AlertTally:
    alerts: int = 0
    true_confirmed: int = 0
    true_unconfirmed: int = 0
    false_confirmed: int = 0
    false_unconfirmed: int = 0
    unreviewed: int = 0
    engagements: int = 0
    arrests: int = 0

    def plus(self, other: AlertTally) -> AlertTally:
        return AlertTally(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, stored: dict[str, int] | None) -> AlertTally:
        names = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in (stored or {}).items() if k in names})


def tally(rows: Iterable[tuple[str, str | None]]) -> AlertTally:
    """(status, outcome) of each alert → the published categories."""
    counts = dict.fromkeys((f.name for f in fields(AlertTally)), 0)
    for status, outcome in rows:
        counts["alerts"] += 1
        engaged = outcome in ENGAGED
        counts["engagements"] += engaged
        counts["arrests"] += outcome == EngagementOutcome.ARRESTED
        if status not in DECIDED:
            counts["unreviewed"] += 1
            continue
        true = status == AlertStatus.CONFIRMED and outcome != EngagementOutcome.NOT_THE_PERSON
        counts[f"{'true' if true else 'false'}_{'confirmed' if engaged else 'unconfirmed'}"] += 1
    return AlertTally(**counts)


def _row(session: Session, deployment_id: str) -> DeploymentCount:
    row = session.get(DeploymentCount, deployment_id)
    if row is None:
        row = DeploymentCount(deployment_id=deployment_id, frames=0, detections=0, tracks=0, tracks_unexamined=0)
        session.add(row)
    return row


def add_counts(session: Session, deployment_id: str, counts: RunCounts, now: datetime) -> None:
    """Add what the pipeline counted since the last call to the deployment's stored totals."""
    row = _row(session, deployment_id)
    row.frames = (row.frames or 0) + counts.frames
    row.detections = (row.detections or 0) + counts.detections
    row.tracks = (row.tracks or 0) + counts.tracks
    row.tracks_unexamined = (row.tracks_unexamined or 0) + counts.tracks_unexamined
    row.updated_at = now


def get_counts(session: Session, deployment_id: str) -> RunCounts | None:
    """The stored totals; None when nothing was ever counted (or only alerts were retired)."""
    row = session.get(DeploymentCount, deployment_id)
    if row is None or (row.frames == 0 and row.tracks == 0 and row.detections == 0):
        return None
    return RunCounts(
        row.frames, row.detections, row.tracks if row.tracks is not None else 0, row.tracks_unexamined or 0
    )


def faces_seen(session: Session, deployment_id: str) -> int | None:
    """The published "faces seen" (tracks); None when not recorded."""
    row = session.get(DeploymentCount, deployment_id)
    if row is None or row.tracks is None or (row.frames == 0 and row.tracks == 0):
        return None
    return row.tracks


def alert_figures(session: Session, deployment_id: str) -> AlertTally:
    """The categories of the deployment's alerts: those still stored plus those already deleted."""
    live = tally(
        (str(status), outcome)
        for status, outcome in session.execute(
            select(AlertRecord.status, AlertRecord.outcome).where(AlertRecord.deployment_id == deployment_id)
        )
    )
    row = session.get(DeploymentCount, deployment_id)
    return live.plus(AlertTally.from_dict(row.retired_alerts if row is not None else None))


def retire_alerts(session: Session, alert_ids: Sequence[str]) -> None:
    """Count these alerts into their deployments' retired tallies; call it in the transaction that deletes
    them. Alerts of no deployment (evaluation runs) are in no published record."""
    if not alert_ids:
        return
    per_deployment: dict[str, list[tuple[str, str | None]]] = {}
    query = select(AlertRecord.deployment_id, AlertRecord.status, AlertRecord.outcome).where(
        AlertRecord.id.in_(list(alert_ids)), AlertRecord.deployment_id.is_not(None)
    )
    for deployment_id, status, outcome in session.execute(query):
        per_deployment.setdefault(str(deployment_id), []).append((str(status), outcome))
    known = set(session.scalars(select(Deployment.id).where(Deployment.id.in_(list(per_deployment)))))
    for deployment_id, rows in per_deployment.items():
        if deployment_id not in known:
            continue  # a deployment record deleted by hand: nothing left to publish

        row = _row(session, deployment_id)
        # A new dict, not an in-place change: SQLAlchemy tracks JSON columns by assignment.
        row.retired_alerts = AlertTally.from_dict(row.retired_alerts).plus(tally(rows)).as_dict()
