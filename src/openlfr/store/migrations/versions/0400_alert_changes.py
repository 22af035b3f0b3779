"""Outcomes that can record a mistake: every change of an alert's adjudication or engagement outcome kept as
history (``alert_change``), deleted with its alert.

Decisions and outcomes recorded before this revision become the first history row of their alert, marked
with a note that they were recorded before the history was kept (their time is the row's).

Revision ID: 0400
Revises: 0300
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0400"
down_revision = "0300"
branch_labels = None
depends_on = None

_ACTOR = "CASE WHEN {by} LIKE '%:%' THEN {by} ELSE 'user:' || {by} END"
_BACKFILL = (
    "INSERT INTO alert_change (alert_id, kind, value, previous, reject_reason, amended, note, changed_by, "
    "changed_by_account, actor, at, version) SELECT id, '{kind}', {value}, {previous}, {reason}, {false}, "
    "'recorded before the history was kept', {by}, {by}, " + _ACTOR + ", {at}, version FROM alert "
    "WHERE {where}"
)


def upgrade() -> None:
    op.create_table(
        "alert_change",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=20), nullable=False),
        sa.Column("previous", sa.String(length=20), nullable=True),
        sa.Column("reject_reason", sa.String(length=40), nullable=True),
        sa.Column("amended", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("changed_by_account", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.id"], name=op.f("fk_alert_change_alert_id_alert"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_change")),
    )
    with op.batch_alter_table("alert_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_change_alert_id"), ["alert_id"], unique=False)
    false = "false" if op.get_bind().dialect.name == "postgresql" else "0"
    op.execute(
        _BACKFILL.format(
            kind="adjudication",
            value="status",
            previous="NULL",
            reason="reject_reason",
            false=false,
            by="adjudicated_by",
            at="adjudicated_at",
            where="status <> 'pending' AND adjudicated_by IS NOT NULL AND adjudicated_at IS NOT NULL",
        )
    )
    op.execute(
        _BACKFILL.format(
            kind="engagement",
            value="outcome",
            previous="NULL",
            reason="NULL",
            false=false,
            by="outcome_by",
            at="outcome_at",
            where="outcome IS NOT NULL AND outcome_by IS NOT NULL AND outcome_at IS NOT NULL",
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("alert_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_change_alert_id"))
    op.drop_table("alert_change")
