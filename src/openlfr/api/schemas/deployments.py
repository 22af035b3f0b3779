"""Deployments, holds and audit: request and response schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from openlfr.api.schemas.base import Input, Output


class DeploymentCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    use_case: str = Field(min_length=1, max_length=200)
    purpose: str = Field(min_length=1, max_length=4000)
    legal_basis: str = Field(min_length=1, max_length=4000)
    justification: str = Field(min_length=1, max_length=8000)
    location: str = Field(min_length=1, max_length=1000)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    planned_start: datetime
    planned_end: datetime
    camera_ids: list[str] = Field(min_length=1, max_length=64)
    snapshot: str = Field(min_length=1, max_length=64, description="snapshot id or fingerprint")
    threshold: float | None = Field(
        None, ge=-1, le=1, description="default: the threshold calibrated for the snapshot's size (the floor)"
    )
    signage_confirmed: bool = False
    override_reason: str | None = Field(
        None,
        max_length=2000,
        description="a threshold below the floor: why (a supervisor in person, never the deployment's creator)",
    )
    equity_justification: str | None = Field(
        None, max_length=2000, description="a threshold outside the saved calibration's equity range: why"
    )


class DeploymentUpdate(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    use_case: str | None = Field(None, min_length=1, max_length=200)
    purpose: str | None = Field(None, min_length=1, max_length=4000)
    legal_basis: str | None = Field(None, min_length=1, max_length=4000)
    justification: str | None = Field(None, min_length=1, max_length=8000)
    location: str | None = Field(None, min_length=1, max_length=1000)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    camera_ids: list[str] | None = Field(None, min_length=1, max_length=64)
    snapshot: str | None = Field(None, min_length=1, max_length=64)
    threshold: float | None = Field(None, ge=-1, le=1)
    signage_confirmed: bool | None = None
    override_reason: str | None = Field(None, max_length=2000)
    equity_justification: str | None = Field(None, max_length=2000)


class AuthoriseRequest(Input):
    text: str = Field(min_length=1, max_length=8000, description="what is authorised, why necessary and proportionate")
    composition_digest: str = Field(
        min_length=64,
        max_length=64,
        description="digest of the watchlist composition shown to the supervisor (GET …/composition); refused "
        "(409) when the watchlist changed since",
    )


class ReasonRequest(Input):
    reason: str = Field(min_length=1, max_length=2000)


class OptionalReasonRequest(Input):
    reason: str = Field("ended by operator", min_length=1, max_length=2000)


class DeploymentCountsPublic(Output):
    """What recognition counted, added up over every run of the deployment."""

    frames: int
    detections: int = Field(description="face detections summed over frames")
    faces_seen: int = Field(description="distinct faces that passed the cameras (tracks): the published figure")


class NextStepPublic(Output):
    step: str = Field(description="authorise, signage, start, end, cancel or sign_off")
    permission: str = Field(description="the permission the step needs (the console offers it to those who hold it)")


class DeploymentPublic(Output):
    id: str
    name: str
    status: str
    revision: int
    authorised: bool
    use_case: str
    purpose: str
    legal_basis: str
    justification: str
    location: str
    latitude: float | None
    longitude: float | None
    planned_start: str
    planned_end: str
    camera_ids: list[str]
    snapshot_id: str
    snapshot_fingerprint: str
    watchlist_size: int
    subject_count: int
    model: str
    threshold: float
    threshold_default: float | None
    threshold_minimum: float | None
    threshold_calibration: str | None
    threshold_equity_justification: dict[str, Any] | None
    threshold_override: dict[str, Any] | None
    signage_confirmed: bool
    created_by: str
    created_by_account: str | None
    created_at: str
    authorisation: dict[str, Any] | None
    started_at: str | None
    ended_at: str | None
    end_reason: str | None
    templates_destroyed: int | None
    composition: dict[str, Any] | None = Field(
        description="the watchlist composition the authorising supervisor was shown (counts only)"
    )
    counts: DeploymentCountsPublic | None
    published: bool = Field(
        False, description="its record, sign and leaflet are on the public notice (/public/deployments/{id})"
    )
    next_steps: list[NextStepPublic] = Field(
        default_factory=list, description="what the deployment's state allows next, and the permission each needs"
    )


class HoldPublic(Output):
    alert: str
    hold: bool
    hold_by: str | None
    hold_reason: str | None
    hold_at: datetime | None


class PurgePublic(Output):
    cutoff: str
    alerts: int
    media_files: int
    held: int
    retention_days: int


class AuditEntryPublic(Output):
    seq: int
    at: str
    actor: str
    action: str
    target_type: str
    target_id: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditAnchorPublic(Output):
    """The chain head to keep off the server (``lfr audit verify --anchor FILE`` checks a saved copy)."""

    format: str
    seq: int
    hash: str
    at: str
    hmac_sha256: str | None = None


class AuditVerifyPublic(Output):
    ok: bool
    entries: int
    last_seq: int
    last_hash: str
    problems: list[dict[str, Any]]


class CalibrationPublic(Output):
    id: str
    model: str
    weights_sha256: str
    dataset: str
    watchlist_size: int
    passers_by: int
    false_alerts: float
    threshold: float
    tail_fit: dict[str, float]
    equity_range: dict[str, Any] | None
    report_sha256: str
    saved_by: str
    saved_at: str | None


class SignOffRequest(Input):
    notes: str = Field(min_length=1, max_length=4000, description="the reviewer's notes on the deployment")
    corrections: list[str] = Field(
        default_factory=list, max_length=50, description="corrections to the record, one per entry"
    )


class SignOffPublic(Output):
    by: str
    at: datetime
    notes: str
    corrections: list[str]
    unreviewed_alerts: list[str] = Field(description="ids of alerts nobody had decided at the sign-off")


class UnreviewedAlertPublic(Output):
    id: str
    status: str
    source: str
    decided_at: datetime


class DeploymentReviewPublic(Output):
    deployment_id: str
    status: str
    unreviewed_alerts: list[UnreviewedAlertPublic]
    sign_off: SignOffPublic | None


class CompositionPublic(Output):
    """What the authorising officer must see of the watchlist: counts only, no names or images."""

    snapshot_id: str
    fingerprint: str
    subjects: int
    templates: int
    by_category: dict[str, int]
    by_image_source: dict[str, int]
    under_18: int
    under_18_unjustified: int
    youngest_age: int | None
    review_overdue: int
    review_due_soon: int
    possible_duplicates: int
    as_of: str
    digest: str = Field(description="give it back when authorising, to record that this composition was shown")
    summary: list[str]
