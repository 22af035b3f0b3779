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


class ReasonRequest(Input):
    reason: str = Field(min_length=1, max_length=2000)


class OptionalReasonRequest(Input):
    reason: str = Field("ended by operator", min_length=1, max_length=2000)


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
    counts: dict[str, int] | None


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
