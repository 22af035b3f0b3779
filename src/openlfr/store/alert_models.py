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
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import Boolean, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openlfr.store.models import Base, utcnow

STATUSES: Final = ("pending", "confirmed", "rejected", "escalated")
OUTCOMES: Final = ("spoken_to", "arrested", "no_action", "not_located")


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
    frame_wall_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    latency_ms: Mapped[float] = mapped_column(Float)
    model: Mapped[str] = mapped_column(String(100))
    # The matched reference image: a reference_image id (or, for file-based watchlists, its path).
    reference_image: Mapped[str] = mapped_column(Text)
    # sha256 digests in the media store (encrypted at rest when a media key is configured).
    probe_media: Mapped[str] = mapped_column(String(64))
    context_media: Mapped[str | None] = mapped_column(String(64), default=None)
    media_encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    reject_reason: Mapped[str | None] = mapped_column(String(40), default=None)
    outcome: Mapped[str | None] = mapped_column(String(20), default=None)
    adjudicated_by: Mapped[str | None] = mapped_column(String(64), default=None)
    adjudicated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    outcome_by: Mapped[str | None] = mapped_column(String(64), default=None)
    # Who escalated it (label, and the accountable person): another officer must decide it.
    escalated_by: Mapped[str | None] = mapped_column(String(64), default=None)
    escalated_by_account: Mapped[str | None] = mapped_column(String(64), default=None)
    outcome_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Retention hold: an alert needed for an investigation or court is kept past the retention period.
    hold: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_reason: Mapped[str | None] = mapped_column(Text, default=None)
    hold_by: Mapped[str | None] = mapped_column(String(64), default=None)
    hold_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
