"""Alerts (one row per alert, with adjudication, outcome, optimistic-lock version, retention hold) and cameras.

Revision ID: 0150
Revises: 0100
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0150"
down_revision = "0100"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.String(length=32), nullable=True),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("second_score", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("evidence", sa.Integer(), nullable=False),
        sa.Column("frame_index", sa.Integer(), nullable=False),
        sa.Column("frame_time_s", sa.Float(), nullable=False),
        sa.Column("frame_wall_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("reference_image", sa.Text(), nullable=False),
        sa.Column("probe_media", sa.String(length=64), nullable=False),
        sa.Column("context_media", sa.String(length=64), nullable=True),
        sa.Column("media_encrypted", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reject_reason", sa.String(length=40), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("adjudicated_by", sa.String(length=64), nullable=True),
        sa.Column("adjudicated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome_by", sa.String(length=64), nullable=True),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("hold", sa.Boolean(), nullable=False),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.Column("hold_by", sa.String(length=64), nullable=True),
        sa.Column("hold_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
        sa.UniqueConstraint("seq", name=op.f("uq_alert_seq")),
    )
    op.create_table(
        "camera",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("loop", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera")),
        sa.UniqueConstraint("name", name=op.f("uq_camera_name")),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_decided_at"), ["decided_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_deployment_id"), ["deployment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_source"), ["source"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_subject_id"), ["subject_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_subject_id"))
        batch_op.drop_index(batch_op.f("ix_alert_status"))
        batch_op.drop_index(batch_op.f("ix_alert_source"))
        batch_op.drop_index(batch_op.f("ix_alert_deployment_id"))
        batch_op.drop_index(batch_op.f("ix_alert_decided_at"))
    op.drop_table("alert")
    op.drop_table("camera")
