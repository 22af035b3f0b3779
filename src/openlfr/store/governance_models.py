"""SQLAlchemy models of governance: the hash-chained audit log, deployments and their run counts.

``audit_entry`` is append-only: rows are only ever inserted, by ``openlfr.audit.append_audit``, each carrying
the hash of the previous entry and its own content hash. ``audit_head`` is a single row (id 1) holding the
sequence number and hash of the last entry; appending updates it first, which serialises concurrent appends
on SQLite (the write lock) and PostgreSQL (the row lock) alike, and lets ``lfr audit verify`` notice entries
cut off the end of the chain.

A deployment holds no biometric data: the watchlist snapshot is named by id and fingerprint, and its
templates (``snapshot_template`` rows) are destroyed when the deployment ends. ``deployment_count`` holds
what the pipeline counted while the deployment ran (faces, tracks, frames): counts only, never faces.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openlfr.store.models import Base, UTCDateTime, new_id
from openlfr.utc import utcnow

GENESIS_HASH: Final = "0" * 64
DEPLOYMENT_STATUSES: Final = ("draft", "authorised", "live", "ended", "cancelled")


class AuditEntry(Base):
    __tablename__ = "audit_entry"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(80), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(200), default=None)
    # The canonical JSON text of the details, exactly as it was hashed.
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class Deployment(Base):
    __tablename__ = "deployment"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    use_case: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    justification: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    planned_start: Mapped[datetime] = mapped_column(UTCDateTime())
    planned_end: Mapped[datetime] = mapped_column(UTCDateTime())
    camera_ids: Mapped[list[str]] = mapped_column(JSON)
    snapshot_id: Mapped[str] = mapped_column(String(32), index=True)
    snapshot_fingerprint: Mapped[str] = mapped_column(String(64))
    watchlist_size: Mapped[int] = mapped_column(Integer)
    subject_count: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(100))
    threshold: Mapped[float] = mapped_column(Float)
    threshold_default: Mapped[float | None] = mapped_column(Float, default=None)
    threshold_minimum: Mapped[float | None] = mapped_column(Float, default=None)
    threshold_override_reason: Mapped[str | None] = mapped_column(Text, default=None)
    threshold_override_by: Mapped[str | None] = mapped_column(String(64), default=None)
    threshold_override_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    signage_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), index=True, default="draft")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(64))
    # The person who answers for the creation (a token's creator): separation of duties compares it.
    created_by_account: Mapped[str | None] = mapped_column(String(64), default=None)
    # The saved calibration the threshold floor came from (None: the shipped one).
    threshold_calibration_id: Mapped[str | None] = mapped_column(String(32), default=None)
    # Why the threshold lies outside the calibration's equity range (who and why), when it does.
    threshold_equity_justification: Mapped[str | None] = mapped_column(Text, default=None)
    threshold_equity_by: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    authorised_by: Mapped[str | None] = mapped_column(String(64), default=None)
    authorised_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    authorisation_text: Mapped[str | None] = mapped_column(Text, default=None)
    authorised_revision: Mapped[int | None] = mapped_column(Integer, default=None)
    # What the authorising supervisor was shown of the watchlist (openlfr.watchlists.composition): counts only.
    authorisation_composition: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    end_reason: Mapped[str | None] = mapped_column(Text, default=None)
    templates_destroyed: Mapped[int | None] = mapped_column(Integer, default=None)


class DeploymentCount(Base):
    """A deployment's published figures that must outlive the run and the purge: what the pipeline counted
    (added up across restarts) and the alert categories of alerts whose personal data was deleted."""

    __tablename__ = "deployment_count"

    deployment_id: Mapped[str] = mapped_column(
        ForeignKey("deployment.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    frames: Mapped[int] = mapped_column(Integer, default=0)
    detections: Mapped[int] = mapped_column(Integer, default=0)
    """face detections summed over frames (a second figure)"""
    # Faces seen (distinct faces passing). None only for records written before tracks were counted.
    tracks: Mapped[int | None] = mapped_column(Integer, default=0)
    # Category counts (AlertTally fields) of this deployment's alerts deleted by the purge or an erasure:
    # the record keeps counting them after their images and rows are gone.
    retired_alerts: Mapped[dict[str, int] | None] = mapped_column(JSON, default=None)
    # Passers-by with a usable face that real time forced the pipeline to skip; None when not reported.
    tracks_unexamined: Mapped[int | None] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ThresholdCalibration(Base):
    """A threshold calibration (``lfr calibrate --json``) saved by a supervisor: the floor of the alert
    threshold for its model, for any watchlist size (its impostor tail fit and false-alert budget give the
    threshold for each size). The newest saved for a model contract applies."""

    __tablename__ = "threshold_calibration"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    model: Mapped[str] = mapped_column(String(100), index=True)
    weights_sha256: Mapped[str] = mapped_column(String(64))
    dataset: Mapped[str] = mapped_column(Text)
    watchlist_size: Mapped[int] = mapped_column(Integer)
    passers_by: Mapped[int] = mapped_column(Integer)
    false_alerts: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    tail_location: Mapped[float] = mapped_column(Float)
    tail_shape: Mapped[float] = mapped_column(Float)
    tail_scale: Mapped[float] = mapped_column(Float)
    tail_rate: Mapped[float] = mapped_column(Float)
    equity_attribute: Mapped[str | None] = mapped_column(String(100), default=None)
    equity_low: Mapped[float | None] = mapped_column(Float, default=None)
    equity_high: Mapped[float | None] = mapped_column(Float, default=None)
    equity_dataset: Mapped[str | None] = mapped_column(Text, default=None)
    report_sha256: Mapped[str] = mapped_column(String(64))
    saved_by: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DeploymentSignOff(Base):
    """A supervisor's sign-off of an ended deployment's record (the post-deployment review). Names alerts by
    id only; never holds images or biometric data."""

    __tablename__ = "deployment_sign_off"

    deployment_id: Mapped[str] = mapped_column(
        ForeignKey("deployment.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    signed_off_by: Mapped[str] = mapped_column(String(64))
    signed_off_at: Mapped[datetime] = mapped_column(UTCDateTime())
    notes: Mapped[str] = mapped_column(Text)
    corrections: Mapped[list[str]] = mapped_column(JSON)
    """corrections to the record the reviewer found (free text, one per entry)"""
    unreviewed_alerts: Mapped[list[str]] = mapped_column(JSON)
    """ids of the deployment's alerts that no officer had decided when the record was signed off"""
