from __future__ import annotations

from datetime import datetime

from pydantic import Field

from openlfr.alerts.review import Decision, EngagementOutcome, RejectReason
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
    status: str
    reject_reason: str | None
    outcome: str | None
    adjudicated_by: str | None
    adjudicated_at: datetime | None
    outcome_by: str | None
    escalated_by: str | None = None
    outcome_at: datetime | None
    version: int
    hold: bool
    has_context: bool
    has_reference: bool
    created_at: datetime


class AlertPage(Output):
    items: list[AlertPublic]
    total: int
    limit: int
    offset: int


class AdjudicationRequest(Input):
    decision: Decision
    version: int = Field(ge=1, le=2**31 - 1, description="the alert version the decision was made on")
    reason: RejectReason | None = Field(None, description="required for reject, refused otherwise")


class OutcomeRequest(Input):
    outcome: EngagementOutcome
    version: int = Field(ge=1, le=2**31 - 1, description="the alert version the outcome was recorded on")
