"""Competence records of users: course, date passed, expiry, who recorded it; a new record supersedes the last
(history kept).

Revision ID: 0410
Revises: 0450
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0410"
down_revision = "0450"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_competence",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("competence", sa.String(length=20), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("supersedes_id", sa.String(length=32), nullable=True),
        sa.Column("course", sa.String(length=200), nullable=False),
        sa.Column("passed_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_by_account", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_user_competence_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_competence")),
        sa.UniqueConstraint("user_id", "competence", "revision", name=op.f("uq_user_competence_user_id")),
    )
    with op.batch_alter_table("user_competence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_competence_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_competence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_competence_user_id"))
    op.drop_table("user_competence")
