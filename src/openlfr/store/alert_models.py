"""SQLAlchemy model of the alert table: one row per alert, with its adjudication and outcome.

An alert only ever concerns a face that matched a watchlist subject; nothing of a non-match reaches this
table. ``subject_id`` and ``deployment_id`` are plain copies, not foreign keys: erasing a subject must not
delete the alert history (erasure may null ``subject_id``), and the deployment table lives elsewhere.

``seq`` is a strictly increasing number allocated inside the insert transaction: the live stream uses it
as the Server-Sent Events id, so a reconnecting console asks for everything after the last one it saw.
``encounter_key`` is set when the alert is stored: the id of the first alert of its encounter (the same
subject on the same camera in the same deployment, each alert within five minutes of the previous; see
``openlfr.alerts.encounters``), so the queue groups alerts with one indexed GROUP BY instead of reading every
alert. ``version`` is the optimistic lock of adjudication: an update names the version it read and fails when
someone else changed the row in between.

The alert row holds the *current* adjudication and engagement outcome; ``alert_change`` keeps every change
to either (who, when, what it was before, why), one row per change, never updated. It is alert data: its rows
go with their alert (``ON DELETE CASCADE``) when the purge or an erasure deletes the alert.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openlfr.alerts.vocabulary import AlertStatus
from openlfr.store.models import Base, UTCDateTime
from openlfr.utc import utcnow


class AlertRecord(Base):
    __tablename__ = "alert"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    deployment_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    mode: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(200), index=True)
    track_id: Mapped[int] = mapped_column(Integer)
    subject_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    encounter_key: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    score: Mapped[float] = mapped_column(Float)
    second_score: Mapped[float | None] = mapped_column(Float, default=None)
    threshold: Mapped[float] = mapped_column(Float)
    evidence: Mapped[int] = mapped_column(Integer)
    frame_index: Mapped[int] = mapped_column(Integer)
    frame_time_s: Mapped[float] = mapped_column(Float)
    frame_wall_time: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    latency_ms: Mapped[float] = mapped_column(Float)
    model: Mapped[str] = mapped_column(String(100))
    # The matched reference image: a reference_image id (or, for file-based watchlists, its path).
    reference_image: Mapped[str] = mapped_column(Text)
    # sha256 digests in the media store (encrypted at rest when a media key is configured).
    probe_media: Mapped[str] = mapped_column(String(64))
    context_media: Mapped[str | None] = mapped_column(String(64), default=None)
    media_encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default=AlertStatus.PENDING.value, index=True)
    reject_reason: Mapped[str | None] = mapped_column(String(40), default=None)
    outcome: Mapped[str | None] = mapped_column(String(20), default=None)
    adjudicated_by: Mapped[str | None] = mapped_column(String(64), default=None)
    adjudicated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    outcome_by: Mapped[str | None] = mapped_column(String(64), default=None)
    # Who escalated it (label, and the accountable person): another officer must decide it.
    escalated_by: Mapped[str | None] = mapped_column(String(64), default=None)
    escalated_by_account: Mapped[str | None] = mapped_column(String(64), default=None)
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Retention hold: an alert needed for an investigation or court is kept past the retention period.
    hold: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_reason: Mapped[str | None] = mapped_column(Text, default=None)
    hold_by: Mapped[str | None] = mapped_column(String(64), default=None)
    hold_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AlertChange(Base):
    """One change of an alert's adjudication or engagement outcome, as it was made (append-only)."""

    __tablename__ = "alert_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(String(32), ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    """``adjudication`` (confirmed, rejected, escalated) or ``engagement`` (an outcome)"""
    value: Mapped[str] = mapped_column(String(20))
    previous: Mapped[str | None] = mapped_column(String(20), default=None)
    """the status or outcome before this change (None: no outcome was recorded yet)"""
    reject_reason: Mapped[str | None] = mapped_column(String(40), default=None)
    amended: Mapped[bool] = mapped_column(Boolean, default=False)
    """this change corrects an earlier decision or outcome (``note`` then says why)"""
    note: Mapped[str] = mapped_column(Text, default="")
    changed_by: Mapped[str] = mapped_column(String(64))
    """the principal's label (as ``adjudicated_by``)"""
    changed_by_account: Mapped[str] = mapped_column(String(64))
    """the accountable person (a token's creator)"""
    actor: Mapped[str] = mapped_column(String(100))
    """as in the audit chain (``user:ann``)"""
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)
    """the alert's version after this change"""
