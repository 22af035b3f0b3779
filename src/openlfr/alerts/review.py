"""Reviewing alerts: the officer's decision (confirm / reject with a reason / escalate) and the outcome of an
engagement, both under optimistic locking, plus the queries the console lists alerts with.

Every change names the ``version`` it was made from; when someone else changed the alert in between, the
change is refused with ``StaleVersionError`` carrying the alert as it now is, so the second officer sees the
first one's decision instead of silently overwriting it.

Decisions are taken in person (a signed-in officer, never an API token), named by the principal, and written
to the audit chain in the same transaction. With separation of duties (on by default), an escalated alert is
decided by another officer than the one who escalated it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from openlfr.audit import append_audit
from openlfr.auth.competence import Competence, require_competence
from openlfr.auth.errors import SeparationOfDutiesError
from openlfr.auth.permissions import Permission
from openlfr.auth.principal import Principal, same_person
from openlfr.store.alert_models import AlertRecord
from openlfr.store.errors import ConflictError, NotFoundError

_Q = TypeVar("_Q", bound=Select[Any])


class Decision(StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"
    ESCALATE = "escalate"


class RejectReason(StrEnum):
    """Why an officer rejected an alert (stable codes; the transparency figures count them)."""

    DIFFERENT_PERSON = "different_person"
    POOR_IMAGE = "poor_image"
    NOT_ON_SCENE = "not_on_scene"
    """the person could not be seen or found where the camera is"""
    DUPLICATE_ALERT = "duplicate_alert"
    OTHER = "other"


class EngagementOutcome(StrEnum):
    SPOKEN_TO = "spoken_to"
    ARRESTED = "arrested"
    NO_ACTION = "no_action"
    NOT_LOCATED = "not_located"


_STATUS_OF = {Decision.CONFIRM: "confirmed", Decision.REJECT: "rejected", Decision.ESCALATE: "escalated"}
# From which status each decision may be taken: an escalated alert is decided by a second officer (checked
# against escalated_by_account); a confirmed or rejected alert is final.
_ALLOWED_FROM = {
    Decision.CONFIRM: frozenset({"pending", "escalated"}),
    Decision.REJECT: frozenset({"pending", "escalated"}),
    Decision.ESCALATE: frozenset({"pending"}),
}


class StaleVersionError(ConflictError):
    """The alert changed since the caller read it; ``current`` is how it is now."""

    code = "stale_version"

    def __init__(self, message: str, current: AlertRecord) -> None:
        super().__init__(message)
        self.current = current


class AlertStateError(ConflictError):
    code = "alert_state"


def get_alert(session: Session, alert_id: str) -> AlertRecord:
    record = session.get(AlertRecord, alert_id)
    if record is None:
        raise NotFoundError(f"no alert {alert_id!r}")
    return record


def _apply(session: Session, alert_id: str, version: int, values: dict[str, object]) -> AlertRecord:
    result = session.execute(
        update(AlertRecord)
        .where(AlertRecord.id == alert_id, AlertRecord.version == version)
        .values(**values, version=AlertRecord.version + 1)
        .execution_options(synchronize_session=False)
    )
    record = get_alert(session, alert_id)
    session.refresh(record)
    if getattr(result, "rowcount", 0) != 1:
        raise StaleVersionError(
            f"alert changed since version {version} (now version {record.version}, {record.status})", record
        )
    return record


def adjudicate(
    session: Session,
    alert_id: str,
    *,
    decision: Decision,
    version: int,
    by: Principal,
    now: datetime,
    reason: RejectReason | None = None,
    separation_of_duties: bool = True,
    note: str = "",
    competence_required: bool = True,
) -> AlertRecord:
    """Record the officer's decision and its audit entry (with the officer's free-text ``note``, if any); the
    caller commits. ``competence_required`` (``governance.require_competence``): the officer needs a current
    operator competence record."""
    by.require(Permission.ALERTS_ADJUDICATE)
    if competence_required:
        require_competence(session, by, Competence.OPERATOR, now)
    record = get_alert(session, alert_id)
    if record.version != version:
        raise StaleVersionError(
            f"alert changed since version {version} (now version {record.version}, {record.status})", record
        )
    if decision is Decision.REJECT and reason is None:
        raise AlertStateError("a rejection needs a reason code")
    if decision is not Decision.REJECT and reason is not None:
        raise AlertStateError("only a rejection takes a reason code")
    if record.status not in _ALLOWED_FROM[decision]:
        raise AlertStateError(f"cannot {decision.value} an alert that is {record.status}")
    if separation_of_duties and record.status == "escalated" and same_person(by, record.escalated_by_account):
        raise SeparationOfDutiesError(
            f"{by.account} escalated this alert: another officer decides it (governance.separation_of_duties)"
        )
    values: dict[str, object] = {
        "status": _STATUS_OF[decision],
        "reject_reason": reason.value if reason is not None else None,
        "adjudicated_by": by.label,
        "adjudicated_at": now,
    }
    if decision is Decision.ESCALATE:
        values["escalated_by"], values["escalated_by_account"] = by.label, by.account
    updated = _apply(session, alert_id, version, values)
    details: dict[str, object] = {"decision": decision.value, "version": updated.version}
    if reason is not None:
        details["reason"] = reason.value
    if note.strip():
        details["note"] = note.strip()
    _audit(session, by, "alert.adjudicate", alert_id, details)
    return updated


def _audit(session: Session, by: Principal, action: str, alert_id: str, details: dict[str, object]) -> None:
    append_audit(session, actor=by.actor, action=action, target_type="alert", target_id=alert_id, details=details)


def record_outcome(
    session: Session, alert_id: str, *, outcome: EngagementOutcome, version: int, by: Principal, now: datetime
) -> AlertRecord:
    """What happened after an officer engaged on a confirmed alert, with its audit entry; the caller commits."""
    by.require(Permission.ALERTS_ADJUDICATE)
    record = get_alert(session, alert_id)
    if record.version != version:
        raise StaleVersionError(
            f"alert changed since version {version} (now version {record.version}, {record.status})", record
        )
    if record.status != "confirmed":
        raise AlertStateError(f"an outcome is recorded on a confirmed alert; this one is {record.status}")
    updated = _apply(session, alert_id, version, {"outcome": outcome.value, "outcome_by": by.label, "outcome_at": now})
    _audit(session, by, "alert.outcome", alert_id, {"outcome": outcome.value, "version": updated.version})
    return updated


@dataclass(frozen=True, slots=True)
class AlertFilter:
    status: str | None = None
    source: str | None = None
    subject_id: str | None = None
    deployment_id: str | None = None
    since: datetime | None = None
    """decided at or after"""
    after_seq: int | None = None


def _filtered(query: _Q, f: AlertFilter) -> _Q:
    if f.status is not None:
        query = query.where(AlertRecord.status == f.status)
    if f.source is not None:
        query = query.where(AlertRecord.source == f.source)
    if f.subject_id is not None:
        query = query.where(AlertRecord.subject_id == f.subject_id)
    if f.deployment_id is not None:
        query = query.where(AlertRecord.deployment_id == f.deployment_id)
    if f.since is not None:
        query = query.where(AlertRecord.decided_at >= f.since)
    if f.after_seq is not None:
        query = query.where(AlertRecord.seq > f.after_seq)
    return query


def list_alerts(session: Session, f: AlertFilter, *, limit: int, offset: int) -> tuple[list[AlertRecord], int]:
    """Newest first, and the number of alerts that match."""
    total = session.scalar(_filtered(select(func.count()).select_from(AlertRecord), f)) or 0
    rows = session.scalars(
        _filtered(select(AlertRecord), f).order_by(AlertRecord.seq.desc()).limit(limit).offset(offset)
    )
    return list(rows), int(total)


def alerts_after(session: Session, seq: int, limit: int = 100) -> list[AlertRecord]:
    """Alerts with a sequence number above ``seq``, oldest first (the live stream's catch-up)."""
    query = select(AlertRecord).where(AlertRecord.seq > seq).order_by(AlertRecord.seq).limit(limit)
    return list(session.scalars(query))


def last_seq(session: Session) -> int:
    return int(session.scalar(select(func.max(AlertRecord.seq))) or 0)
