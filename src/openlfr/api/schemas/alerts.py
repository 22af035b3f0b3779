from __future__ import annotations

from datetime import datetime

from pydantic import Field

from openlfr.alerts.vocabulary import AlertStatus, Decision, EngagementOutcome, RejectReason
from openlfr.api.schemas.base import Input, Output


class AlertSubject(Output):
    """Who the alert is about (None when the subject has been erased since)."""

    id: str
    external_ref: str
    display_name: str
    category: str
    reason: str


class AlertPublic(Output):
    id: str
    seq: int
    deployment_id: str | None
    mode: str
    source: str
    """the camera's name"""
    track_id: int
    subject_id: str | None
    subject: AlertSubject | None
    score: float
    second_score: float | None
    threshold: float
    evidence: int
    frame_index: int
    frame_time_s: float
    frame_wall_time: datetime
    decided_at: datetime
    latency_ms: float
    model: str
    status: AlertStatus
    reject_reason: str | None
    outcome: EngagementOutcome | None
    adjudicated_by: str | None
    adjudicated_at: datetime | None
    outcome_by: str | None
    escalated_by: str | None = None
    outcome_at: datetime | None
    version: int
    hold: bool
    """kept past the retention period (investigation, court) until a supervisor lifts the hold"""
    hold_by: str | None = None
    """who placed the hold (the signed-in supervisor, a token, or the officer whose recorded outcome made it
    evidence); the reason is in the audit chain and ``/api/retention/holds``"""
    hold_at: datetime | None = None
    has_context: bool
    has_reference: bool
    created_at: datetime


class AlertPage(Output):
    items: list[AlertPublic]
    total: int
    limit: int
    offset: int
    next_before_seq: int | None = Field(description="``before_seq`` for the next page; null: this is the last")


class AdjudicationRequest(Input):
    decision: Decision
    version: int = Field(ge=1, le=2**31 - 1, description="the alert version the decision was made on")
    reason: RejectReason | None = Field(None, description="required for reject, refused otherwise")
    note: str | None = Field(None, max_length=2000, description="the officer's free-text note, kept in the audit log")
    amendment_reason: str | None = Field(
        None,
        max_length=2000,
        description="required to change a confirmed or rejected alert (why the first decision was wrong), refused "
        "otherwise; the first decision stays in the history",
    )


class OutcomeRequest(Input):
    outcome: EngagementOutcome
    version: int = Field(ge=1, le=2**31 - 1, description="the alert version the outcome was recorded on")
    note: str | None = Field(None, max_length=2000, description="the officer's free-text note, kept in the history")
    amendment_reason: str | None = Field(
        None,
        max_length=2000,
        description="required to change an outcome already recorded (why), refused otherwise; the first outcome "
        "stays in the history",
    )


class AlertChangePublic(Output):
    """One change of the alert's adjudication or engagement outcome."""

    kind: str = Field(description="adjudication or engagement")
    value: str = Field(description="the status (confirmed, rejected, escalated) or the outcome it changed to")
    previous: str | None = Field(description="the status or outcome before (null: no outcome yet)")
    reject_reason: str | None
    amended: bool = Field(description="a correction of an earlier decision or outcome; note says why")
    note: str
    changed_by: str
    changed_by_account: str = Field(description="the accountable person (a token's creator)")
    at: datetime
    version: int = Field(description="the alert's version after the change")


class AlertHistory(Output):
    alert_id: str
    status: str
    outcome: str | None
    hold: bool
    changes: list[AlertChangePublic] = Field(description="oldest first; never edited")


class EncounterMember(Output):
    """One alert of an encounter: what a decision on the whole encounter needs (id and version)."""

    id: str
    seq: int
    status: AlertStatus
    version: int
    score: float
    decided_at: datetime


class EncounterPublic(Output):
    """Alerts of one subject on one camera in one deployment, each within ``gap_s`` of the previous."""

    key: str = Field(description="the id of the encounter's first alert")
    status: AlertStatus = Field(description="pending if any alert is, else escalated, confirmed, rejected")
    count: int
    open: int = Field(description="alerts of the encounter still pending or escalated")
    first_at: datetime
    last_at: datetime
    last_seq: int
    best: AlertPublic = Field(description="the alert with the highest score: its face is the one to compare")
    members: list[EncounterMember] = Field(
        description="the open (pending or escalated) alerts, newest first, at most 100: what a decision covers"
    )


class EncounterPage(Output):
    items: list[EncounterPublic]
    total: int = Field(description="encounters that match the filter")
    alerts: int = Field(description="alerts that match the filter")
    limit: int
    gap_s: float
    next_before_seq: int | None = Field(description="pass as before_seq for the next page; null on the last page")


class SubjectOption(Output):
    id: str
    label: str


class AlertOptions(Output):
    """The values the console offers: codes from the server, never written into the script."""

    statuses: list[AlertStatus]
    open_statuses: list[AlertStatus] = Field(description="statuses that still wait for an officer's decision")
    decidable_from: dict[Decision, list[AlertStatus]] = Field(description="the statuses each decision is taken from")
    decided_statuses: list[AlertStatus] = Field(
        description="statuses of a reviewed alert: an engagement outcome is recorded on it, a decision only amended"
    )
    decisions: list[Decision]
    reject_reasons: list[RejectReason]
    outcomes: list[EngagementOutcome]
    encounter_gap_s: float
    retention_days: int = Field(description="days an alert is kept unless it is on hold (governance)")
    last_seq: int = Field(description="the newest alert's seq: open the live stream with ?after= this")
    sources: list[str] = Field(description="cameras that have raised alerts")
    deployments: list[str] = Field(description="deployments that have raised alerts")
    subjects: list[SubjectOption] = Field(description="subjects that have raised alerts (not erased)")
