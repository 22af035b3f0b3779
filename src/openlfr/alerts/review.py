"""Reviewing alerts: the officer's decision (confirm / reject with a reason / escalate) and the outcome of an
engagement, both under optimistic locking, plus the queries the console lists alerts with.

Every change names the ``version`` it was made from; when someone else changed the alert in between, the
change is refused with ``StaleVersionError`` carrying the alert as it now is, so the second officer sees the
first one's decision instead of silently overwriting it.

Decisions are taken in person (a signed-in officer, never an API token), named by the principal, and written
to the audit chain in the same transaction. With separation of duties (on by default), an escalated alert is
decided by another officer than the one who escalated it, and that officer cannot amend the decision either.

Adjudication (confirmed / rejected / escalated: was the match right?) and engagement (what happened when
officers went to the person, including "not the person") are separate. A confirmed or rejected alert, and a
recorded outcome, can be *amended* with a reason: mistakes are corrected, never hidden. Every change is a new
``alert_change`` row (who, when, what it was, why) written with its audit entry in one transaction; the alert
row only holds the current state. An outcome named in ``governance.evidence_outcomes`` (default: an arrest)
puts the alert on legal hold (``openlfr.retention.purge.hold_as_evidence``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from openlfr.alerts.vocabulary import (
    ALLOWED_FROM,
    DECIDED,
    STATUS_AFTER,
    AlertStatus,
    Decision,
    EngagementOutcome,
    RejectReason,
)
from openlfr.audit import append_audit
from openlfr.auth.competence import Competence, require_competence
from openlfr.auth.errors import SeparationOfDutiesError
from openlfr.auth.permissions import Permission
from openlfr.auth.principal import Principal, same_person
from openlfr.retention.purge import hold_as_evidence
from openlfr.store.alert_models import AlertChange, AlertRecord
from openlfr.store.errors import ConflictError, NotFoundError
from openlfr.utc import as_utc

_Q = TypeVar("_Q", bound=Select[Any])


DEFAULT_EVIDENCE_OUTCOMES: frozenset[str] = frozenset({EngagementOutcome.ARRESTED.value})


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


def _check_version(record: AlertRecord, version: int) -> None:
    if record.version != version:
        raise StaleVersionError(
            f"alert changed since version {version} (now version {record.version}, {record.status})", record
        )


def _amendment(amendment_reason: str, *, amending: bool, what: str) -> str:
    """The stripped reason of an amendment; refuses a change of a final value without one, and a reason for
    nothing to amend."""
    reason = amendment_reason.strip()
    if amending and not reason:
        raise AlertStateError(
            f"{what}: to amend it, give the reason for the correction (amendment_reason); the first is kept"
        )
    if not amending and reason:
        raise AlertStateError(f"nothing to amend: {what}")
    return reason


def _check_decision(
    record: AlertRecord, decision: Decision, reason: RejectReason | None, by: Principal, separation_of_duties: bool
) -> bool:
    """Whether this decision amends a final one; raises when it breaks a rule."""
    if decision is Decision.REJECT and reason is None:
        raise AlertStateError("a rejection needs a reason code")
    if decision is not Decision.REJECT and reason is not None:
        raise AlertStateError("only a rejection takes a reason code")
    amending = record.status in DECIDED
    if amending and decision is Decision.ESCALATE:
        raise AlertStateError(f"cannot escalate an alert that is {record.status}: amend it to confirmed or rejected")
    if amending and (record.status, record.reject_reason) == (
        STATUS_AFTER[decision].value,
        reason.value if reason else None,
    ):
        raise AlertStateError(f"the alert is {record.status} already")
    if not amending and record.status not in ALLOWED_FROM[decision]:
        raise AlertStateError(f"cannot {decision.value} an alert that is {record.status}")
    escalated_by_caller = record.escalated_by_account is not None and same_person(by, record.escalated_by_account)
    if separation_of_duties and escalated_by_caller and (record.status == AlertStatus.ESCALATED or amending):
        raise SeparationOfDutiesError(
            f"{by.account} escalated this alert: another officer decides it (governance.separation_of_duties)"
        )
    return amending


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
    amendment_reason: str = "",
    competence_required: bool = True,
) -> AlertRecord:
    """Record the officer's decision, its history row and its audit entry (with the officer's free-text
    ``note``, if any); the caller commits. A confirmed or rejected alert is changed only by an amendment:
    confirm or reject again with ``amendment_reason``. ``competence_required``
    (``governance.require_competence``): the officer needs a current operator competence record."""
    by.require(Permission.ALERTS_ADJUDICATE)
    if competence_required:
        require_competence(session, by, Competence.OPERATOR, now)
    record = get_alert(session, alert_id)
    _check_version(record, version)
    amending = _check_decision(record, decision, reason, by, separation_of_duties)
    why = _amendment(amendment_reason, amending=amending, what=f"the alert is {record.status}")
    previous = record.status
    values: dict[str, object] = {
        "status": STATUS_AFTER[decision].value,
        "reject_reason": reason.value if reason is not None else None,
        "adjudicated_by": by.label,
        "adjudicated_at": now,
    }
    if decision is Decision.ESCALATE:
        values["escalated_by"], values["escalated_by_account"] = by.label, by.account
    updated = _apply(session, alert_id, version, values)
    _keep(session, updated, by, now, kind="adjudication", previous=previous, amended=amending, note=why or note)
    details: dict[str, object] = {"decision": decision.value, "version": updated.version}
    if reason is not None:
        details["reason"] = reason.value
    if note.strip():
        details["note"] = note.strip()
    if amending:
        details["previous"], details["amendment_reason"] = previous, why
    _audit(session, by, "alert.adjudicate", alert_id, details)
    return updated


def _keep(
    session: Session,
    record: AlertRecord,
    by: Principal,
    now: datetime,
    *,
    kind: str,
    previous: str | None,
    amended: bool,
    note: str,
) -> None:
    """The history row of a change just applied to ``record``."""
    session.add(
        AlertChange(
            alert_id=record.id,
            kind=kind,
            value=record.status if kind == "adjudication" else record.outcome,
            previous=previous,
            reject_reason=record.reject_reason if kind == "adjudication" else None,
            amended=amended,
            note=note.strip(),
            changed_by=by.label,
            changed_by_account=by.account,
            actor=by.actor,
            at=now,
            version=record.version,
        )
    )
    session.flush()


def _audit(session: Session, by: Principal, action: str, alert_id: str, details: dict[str, object]) -> None:
    append_audit(session, actor=by.actor, action=action, target_type="alert", target_id=alert_id, details=details)


def record_outcome(
    session: Session,
    alert_id: str,
    *,
    outcome: EngagementOutcome,
    version: int,
    by: Principal,
    now: datetime,
    note: str = "",
    amendment_reason: str = "",
    evidence_outcomes: Collection[str] = DEFAULT_EVIDENCE_OUTCOMES,
) -> AlertRecord:
    """What happened after the review of an alert (confirmed or rejected: officers may engage either), with its
    history row and audit entry; the caller commits. A recorded outcome is changed only with
    ``amendment_reason``. An outcome in ``evidence_outcomes`` puts the alert on legal hold."""
    by.require(Permission.ALERTS_ADJUDICATE)
    record = get_alert(session, alert_id)
    _check_version(record, version)
    if record.status not in DECIDED:
        raise AlertStateError(
            f"the alert is {record.status}: decide it (confirm or reject) before recording an engagement outcome"
        )
    previous = record.outcome
    if previous == outcome.value:
        raise AlertStateError(f"the outcome is {previous} already")
    why = _amendment(amendment_reason, amending=previous is not None, what=f"the outcome is {previous}")
    updated = _apply(session, alert_id, version, {"outcome": outcome.value, "outcome_by": by.label, "outcome_at": now})
    _keep(
        session, updated, by, now, kind="engagement", previous=previous, amended=previous is not None, note=why or note
    )
    details: dict[str, object] = {"outcome": outcome.value, "version": updated.version}
    if note.strip():
        details["note"] = note.strip()
    if previous is not None:
        details["previous"], details["amendment_reason"] = previous, why
    _audit(session, by, "alert.outcome", alert_id, details)
    if outcome.value in evidence_outcomes and not updated.hold:
        hold_as_evidence(session, updated, by=by, outcome=outcome.value, now=now)
    return updated


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One change of an alert's adjudication or engagement outcome: who, when, what, why."""

    kind: str
    """``adjudication`` or ``engagement``"""
    value: str
    previous: str | None
    reject_reason: str | None
    amended: bool
    note: str
    """the officer's note, or why an amendment was made"""
    changed_by: str
    changed_by_account: str
    actor: str
    at: datetime
    version: int


def alert_history(session: Session, alert_id: str) -> list[HistoryEntry]:
    """Every change of the alert's adjudication and engagement outcome, oldest first."""
    get_alert(session, alert_id)
    query = select(AlertChange).where(AlertChange.alert_id == alert_id).order_by(AlertChange.id)
    return [
        HistoryEntry(
            kind=c.kind,
            value=c.value,
            previous=c.previous,
            reject_reason=c.reject_reason,
            amended=c.amended,
            note=c.note,
            changed_by=c.changed_by,
            changed_by_account=c.changed_by_account,
            actor=c.actor,
            at=as_utc(c.at),
            version=c.version,
        )
        for c in session.scalars(query)
    ]


@dataclass(frozen=True, slots=True)
class AlertFilter:
    statuses: tuple[str, ...] = ()
    """any of these (empty: every status)"""
    source: str | None = None
    subject_id: str | None = None
    deployment_id: str | None = None
    since: datetime | None = None
    """decided at or after"""
    after_seq: int | None = None


def _filtered(query: _Q, f: AlertFilter) -> _Q:
    if f.statuses:
        query = query.where(AlertRecord.status.in_(f.statuses))
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


def list_alerts(
    session: Session, f: AlertFilter, *, limit: int, offset: int = 0, before_seq: int | None = None
) -> tuple[list[AlertRecord], int]:
    """Newest first, and the number of alerts that match. ``before_seq`` pages by key: only alerts with a lower
    seq, so a page never skips an alert when others are decided (leave the filter) or raised meanwhile, as an
    offset would; the total stays that of the whole filter."""
    total = session.scalar(_filtered(select(func.count()).select_from(AlertRecord), f)) or 0
    query = _filtered(select(AlertRecord), f)
    if before_seq is not None:
        query = query.where(AlertRecord.seq < before_seq)
    rows = session.scalars(query.order_by(AlertRecord.seq.desc()).limit(limit).offset(offset))
    return list(rows), int(total)


def alerts_after(session: Session, seq: int, limit: int = 100) -> list[AlertRecord]:
    """Alerts with a sequence number above ``seq``, oldest first (the live stream's catch-up)."""
    query = select(AlertRecord).where(AlertRecord.seq > seq).order_by(AlertRecord.seq).limit(limit)
    return list(session.scalars(query))


def last_seq(session: Session) -> int:
    return int(session.scalar(select(func.max(AlertRecord.seq))) or 0)
