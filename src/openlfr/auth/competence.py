"""Trained officers: competence records, and the check that the person doing a governed act is trained for it.

Every alert is reviewed by a trained officer, and a deployment is authorised by a trained authorising officer
(College of Policing APP). A record says that an account passed a course for one competence — ``operator``
(reviewing alerts) or ``supervisor`` (authorising deployments) — on a date, and until when it counts. A
supervisor records it, in person, and the record is written to the audit chain in the same transaction. A
record is never changed: a newer one (the next ``revision`` of that account's competence) supersedes it, and
the history stays. The newest record decides, so a shorter one recorded later (say, training withdrawn)
replaces a longer one.

``require_competence`` is what ``alerts.review.adjudicate`` and ``deployments.service.authorise_deployment``
call (``governance.require_competence``, on by default): refused unless the person's newest record for the
competence was passed on or before today and expires today or later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openlfr.audit import append_audit
from openlfr.auth.errors import (
    CompetenceExpiredError,
    CompetenceInvalidError,
    CompetenceRequiredError,
    SeparationOfDutiesError,
)
from openlfr.auth.permissions import Permission
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role
from openlfr.store.auth_models import CompetenceRecord, User
from openlfr.store.errors import ConflictError
from openlfr.utc import as_utc

COURSE_MAX = 200


class Competence(StrEnum):
    OPERATOR = "operator"
    """reviews alerts: confirm, reject, escalate (supervisors deciding escalations need it too)"""
    SUPERVISOR = "supervisor"
    """authorises deployments"""


ELIGIBLE: dict[Competence, frozenset[Role]] = {
    Competence.OPERATOR: frozenset({Role.OPERATOR, Role.SUPERVISOR}),
    Competence.SUPERVISOR: frozenset({Role.SUPERVISOR}),
}
"""the roles whose accounts may hold each competence (the roles that do the act it is needed for)"""


def parse_competence(value: str) -> Competence:
    try:
        return Competence(value)
    except ValueError:
        choices = ", ".join(c.value for c in Competence)
        raise CompetenceInvalidError(f"unknown competence {value!r}: one of {choices}") from None


def today(now: datetime) -> date:
    """The day a record is checked against: UTC, as every other date the system keeps."""
    return as_utc(now).date()


def current_record(session: Session, user_id: str, competence: Competence) -> CompetenceRecord | None:
    """The newest record of ``user_id`` for ``competence`` (whether or not it has expired), or None."""
    query = (
        select(CompetenceRecord)
        .where(CompetenceRecord.user_id == user_id, CompetenceRecord.competence == competence.value)
        .order_by(CompetenceRecord.revision.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def competence_history(session: Session, user_id: str) -> list[CompetenceRecord]:
    """Every record of ``user_id``, newest first within each competence."""
    query = (
        select(CompetenceRecord)
        .where(CompetenceRecord.user_id == user_id)
        .order_by(CompetenceRecord.competence, CompetenceRecord.revision.desc())
    )
    return list(session.scalars(query))


def is_current(record: CompetenceRecord, on: date) -> bool:
    return record.passed_on <= on <= record.expires_on


@dataclass(frozen=True, slots=True)
class CompetenceStanding:
    """A record as the API and the CLI show it: whether a newer one superseded it, whether it counts today."""

    id: str
    competence: Competence
    revision: int
    course: str
    passed_on: date
    expires_on: date
    recorded_by: str
    recorded_at: datetime
    supersedes: str | None
    superseded: bool
    current: bool
    """the newest record of its competence, and today lies between passed_on and expires_on"""


def standings(session: Session, user_id: str, now: datetime) -> list[CompetenceStanding]:
    """Every record of ``user_id`` (newest first within each competence), with its standing on ``now``'s day."""
    history = competence_history(session, user_id)
    newest: dict[str, str] = {}
    for record in history:
        newest.setdefault(record.competence, record.id)
    on = today(now)
    return [
        CompetenceStanding(
            id=r.id,
            competence=Competence(r.competence),
            revision=r.revision,
            course=r.course,
            passed_on=r.passed_on,
            expires_on=r.expires_on,
            recorded_by=r.recorded_by,
            recorded_at=r.recorded_at,
            supersedes=r.supersedes_id,
            superseded=newest[r.competence] != r.id,
            current=newest[r.competence] == r.id and is_current(r, on),
        )
        for r in history
    ]


def _check_record(user: User, competence: Competence, course: str, passed_on: date, expires_on: date, on: date) -> str:
    if Role(user.role) not in ELIGIBLE[competence]:
        holders = " and ".join(sorted(r.value for r in ELIGIBLE[competence]))
        raise CompetenceInvalidError(
            f"{user.username} is an {user.role} account: {competence.value} competence is recorded for "
            f"{holders} accounts only"
        )
    course = course.strip()
    if not course or len(course) > COURSE_MAX:
        raise CompetenceInvalidError(f"the course is named in 1-{COURSE_MAX} characters")
    if passed_on > on:
        raise CompetenceInvalidError(f"passed on {passed_on.isoformat()} is in the future: record it once passed")
    if expires_on <= passed_on:
        raise CompetenceInvalidError(
            f"the expiry ({expires_on.isoformat()}) must come after the day the course was passed "
            f"({passed_on.isoformat()})"
        )
    return course


def record_competence(
    session: Session,
    user: User,
    *,
    competence: Competence,
    course: str,
    passed_on: date,
    expires_on: date,
    by: Principal,
    now: datetime,
    separation_of_duties: bool = True,
) -> CompetenceRecord:
    """A supervisor, in person, records that ``user`` passed ``course``; the new record supersedes the
    account's newest one for ``competence`` and is audited as ``user.competence.record``. With separation of
    duties (on by default) nobody records their own training. The caller commits."""
    by.require(Permission.COMPETENCE_MANAGE)
    if separation_of_duties and by.account_id == user.id:
        raise SeparationOfDutiesError(
            "nobody records their own training: another supervisor records it (governance.separation_of_duties)"
        )
    course = _check_record(user, competence, course, passed_on, expires_on, today(now))
    previous = current_record(session, user.id, competence)
    record = CompetenceRecord(
        user_id=user.id,
        competence=competence.value,
        revision=1 if previous is None else previous.revision + 1,
        supersedes_id=None if previous is None else previous.id,
        course=course,
        passed_on=passed_on,
        expires_on=expires_on,
        recorded_by=by.label,
        recorded_by_account=by.account,
        recorded_at=now,
    )
    username = user.username  # the session is unusable after a failed flush
    session.add(record)
    try:
        session.flush()  # a concurrent record of the same revision fails here, before anything is audited
    except IntegrityError:
        raise ConflictError(
            f"another {competence.value} competence record of {username} was recorded at the same time: "
            "list the records and try again (nothing was recorded)"
        ) from None
    append_audit(
        session,
        actor=by.actor,
        action="user.competence.record",
        target_type="user",
        target_id=user.id,
        details={
            "username": user.username,
            "record_id": record.id,
            "competence": competence.value,
            "course": course,
            "passed_on": passed_on.isoformat(),
            "expires_on": expires_on.isoformat(),
            "revision": record.revision,
            "supersedes": record.supersedes_id,
        },
    )
    return record


def require_competence(session: Session, by: Principal, competence: Competence, now: datetime) -> None:
    """Refuse (403 ``competence_required`` / ``competence_expired``) unless the person ``by`` answers for holds
    a current record for ``competence`` today."""
    hint = (
        f"a supervisor records it with `lfr user competence add {by.account} --competence {competence.value} …` "
        "(governance.require_competence)"
    )
    record = None if by.account_id is None else current_record(session, by.account_id, competence)
    if record is None:
        raise CompetenceRequiredError(f"{by.account} has no {competence.value} competence record: {hint}")
    on = today(now)
    if record.expires_on < on:
        raise CompetenceExpiredError(
            f"{by.account}'s {competence.value} competence ({record.course}) expired on "
            f"{record.expires_on.isoformat()}: {hint}"
        )
    if record.passed_on > on:
        raise CompetenceRequiredError(
            f"{by.account}'s {competence.value} competence counts from {record.passed_on.isoformat()}: {hint}"
        )
