"""Media deletion list: files whose last reference is gone, deleted (and retried) after the commit.

Revision ID: 0340
Revises: 0200
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0340"
down_revision = "0200"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media_deletion",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_media_deletion")),
    )


def downgrade() -> None:
    op.drop_table("media_deletion")
